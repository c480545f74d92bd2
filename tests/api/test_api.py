"""The JSON API through the running server (httpx): tokens and scopes, batches, gestures, reads,
signed webhooks and problem+json errors."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from sqlalchemy import func, select

from empowerment.models import AuditEvent, Transaction
from empowerment.services.sealing import signature
from tests.api.conftest import Api

PROBLEM = "application/problem+json"


def _problem(response, status: int, code: str) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == code and body["status"] == status and body["detail"]
    assert "Traceback" not in response.text
    return body


def _gesture(amount: str = "12.50", employee: str = "S1", **extra: object) -> dict[str, object]:
    # a note: above "review above" ($100 here) the service requires one
    return {"employee_id": employee, "customer_id": "C1", "type": "gift", "amount": amount,
            "category": "Long wait", "note": "Waited an hour at check-in", **extra}


# --- tokens and scopes ----------------------------------------------------------------------------

def test_no_token_an_unknown_one_and_a_revoked_one_are_refused(api: Api) -> None:
    body = _gesture()
    with api.client() as anonymous:
        _problem(anonymous.post("/gestures", json=body), 401, "unauthorized")
    with api.client(Authorization="Bearer emp_" + "z" * 43) as unknown:
        _problem(unknown.post("/gestures", json=body), 401, "unauthorized")
    with api.client("revoked") as revoked:
        refused = _problem(revoked.post("/gestures", json=body), 401, "unauthorized")
    assert "revoked" in refused["detail"]


def test_a_read_token_cannot_log_and_an_ingest_token_cannot_read(api: Api) -> None:
    with api.client("read") as reader:
        body = _problem(reader.post("/gestures", json=_gesture()), 403, "scope-missing")
        assert "'log' scope" in body["detail"]
        assert reader.get("/employees/S1/balance").status_code == 200
    with api.client("ingest") as ingest:
        _problem(ingest.get("/customers/C1/history"), 403, "scope-missing")


def test_the_token_says_who_it_acts_for_and_its_last_use_is_kept(api: Api) -> None:
    with api.client("staff") as client:
        me = client.get("/me").json()
    assert me == {"token_name": "Sam's tablet app", "scopes": ["log", "read"], "acts_as": "Sam Staff"}
    from empowerment.queries.connections import api_tokens
    from tests.factories import SYSTEM

    tokens = api_tokens(api.db, SYSTEM).set_index("name")
    assert tokens.loc["Sam's tablet app", "last_used_at"] is not None


def test_the_rate_limit_is_per_token_and_answers_429_with_retry_after(api: Api) -> None:
    with api.client("slow") as client:
        answers = [client.get("/employees/S1/balance") for _ in range(5)]
    statuses = [a.status_code for a in answers]
    if statuses[:3] != [200, 200, 200]:  # the minute turned over mid-test: one more go
        with api.client("slow") as client:
            answers = [client.get("/employees/S1/balance") for _ in range(5)]
        statuses = [a.status_code for a in answers]
    assert 429 in statuses
    refused = answers[statuses.index(429)]
    _problem(refused, 429, "rate-limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


def test_every_call_is_audited_even_a_refused_one(api: Api) -> None:
    marker = f"/employees/NOBODY-{uuid.uuid4().hex[:6]}/balance"
    with api.client("staff") as client:
        _problem(client.get(marker), 404, "unknown-employee")
    with api.db.read() as session:
        rows = session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "api.call")).all()
    mine = [json.loads(r) for r in rows if r and marker in r]
    assert mine and mine[0]["status"] == 404 and mine[0]["method"] == "GET"


# --- gestures -------------------------------------------------------------------------------------

def test_log_is_idempotent_by_key_and_void_gives_the_money_back(api: Api) -> None:
    key = uuid.uuid4().hex
    with api.client("staff", **{"Idempotency-Key": key}) as client:
        first = client.post("/gestures", json=_gesture("20"))
        again = client.post("/gestures", json=_gesture("20"))
        assert first.status_code == 201 and again.status_code == 200, (first.text, again.text)
        assert first.json()["gesture_id"] == again.json()["gesture_id"] and again.json()["already_logged"]
        before = client.get("/employees/S1/balance").json()["remaining_cents"]
        voided = client.post(f"/gestures/{first.json()['gesture_id']}/void", json={"reason": "Logged twice"})
        assert voided.status_code == 200 and voided.json()["remaining_cents"] == before + 2000
        _problem(client.post(f"/gestures/{first.json()['gesture_id']}/void", json={"reason": "again"}),
                 409, "invalid-state")


def test_scope_rules_are_the_apps(api: Api) -> None:
    """Staff log on their own budget only; a manager decides for their team only."""
    with api.client("staff") as staff:
        _problem(staff.post("/gestures", json=_gesture(employee="S2")), 403, "forbidden")
        _problem(staff.get("/employees/S2/balance"), 403, "forbidden")
        waiting = staff.post("/gestures", json=_gesture("350"))
        assert waiting.json()["status"] == "pending_approval", waiting.text
        _problem(staff.post(f"/gestures/{waiting.json()['gesture_id']}/decision", json={"approve": True}),
                 403, "forbidden")
    with api.client("manager") as manager:
        decided = manager.post(f"/gestures/{waiting.json()['gesture_id']}/decision", json={"approve": True})
        assert decided.status_code == 200 and decided.json()["status"] == "logged", decided.text
        _problem(manager.get("/employees/S2/balance"), 403, "forbidden")


def test_no_self_dealing_through_the_api(api: Api) -> None:
    """Issue 11, finding 2: the API is the same service, so the same segregation of duties."""
    with api.client("manager") as manager:
        own = manager.post("/gestures", json=_gesture("350", employee="M1"))
        assert own.json()["status"] == "pending_approval", own.text
        refused = _problem(manager.post(f"/gestures/{own.json()['gesture_id']}/decision", json={"approve": True}),
                           403, "forbidden")
        assert "you logged" in refused["detail"]
    with api.client("admin-all") as admin:
        spent = _problem(admin.post("/gestures", json=_gesture(employee="A1")), 403, "forbidden")
        assert spent["detail"].startswith("Only staff and managers may log")


def test_refusals_carry_the_services_sentences(api: Api) -> None:
    with api.client("staff") as client:
        over = _problem(client.post("/gestures", json=_gesture("2500")), 409, "daily-cap-exceeded")
        assert "per customer per day" in over["detail"]
        bad = _problem(client.post("/gestures", json=_gesture(type="cash")), 422, "invalid-input")
        assert "is not a gesture type" in bad["detail"]
        schema = _problem(client.post("/gestures", json={"employee_id": "S1"}), 422, "request-invalid")
        assert {e["field"] for e in schema["errors"]} >= {"body.customer_id", "body.amount"}
        _problem(client.get("/customers/NOPE/history"), 404, "unknown-customer")
        _problem(client.get("/no/such/thing"), 404, "no-such-endpoint")


def test_history_reads_what_the_tablet_shows(api: Api) -> None:
    with api.client("staff") as client:
        client.post("/gestures", json=_gesture("5", note="Tea and an apology"))
        history = client.get("/customers/C1/history").json()
    assert history["customer"]["name"] == "Grace Hopper"
    assert any(e["note"] == "Tea and an apology" and e["by"] == "Sam Staff" for e in history["events"])


# --- batches --------------------------------------------------------------------------------------

def _transactions(n: int, prefix: str) -> list[dict[str, object]]:
    return [{"transaction_id": f"{prefix}-{i}", "customer_id": f"C{i % 50}", "occurred_at": "2025-03-01T10:00:00",
             "amount": f"{10 + i % 90}.50"} for i in range(n)]


def _count(api: Api, prefix: str) -> int:
    with api.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(Transaction)
                                  .where(Transaction.code.like(f"{prefix}-%"))) or 0)


def test_the_same_batch_twice_changes_nothing(api: Api) -> None:
    rows = _transactions(200, "T-twice")
    with api.client("ingest") as client:
        first = client.post("/transactions/batch", json={"rows": rows}).json()
        second = client.post("/transactions/batch", json={"rows": rows}).json()
    assert first["inserted"] == 200 and first["errors"] == []
    assert (second["inserted"], second["updated"], second["unchanged"]) == (0, 0, 200)
    assert _count(api, "T-twice") == 200


def test_a_wrong_row_refuses_the_batch_with_its_errors_unless_valid_rows_only(api: Api) -> None:
    rows = _transactions(5, "T-wrong")
    rows[1]["amount"] = "12,50"  # a decimal comma: refused by the CSV rules
    rows[3]["occurred_at"] = "yesterday"
    rows[4]["transaction_id"] = "T-wrong-0"  # a duplicate id
    with api.client("ingest") as client:
        refused = _problem(client.post("/transactions/batch", json={"rows": rows}), 422, "batch-refused")
        assert _count(api, "T-wrong") == 0
        by_row = {e["row"]: e for e in refused["errors"]}
        assert set(by_row) == {1, 3, 4}
        assert by_row[1]["field"] == "amount" and by_row[1]["id"] == "T-wrong-1"
        assert by_row[3]["field"] == "occurred_at" and "ISO 8601" in by_row[3]["message"]
        assert "first appears in row 0" in by_row[4]["message"]
        partial = client.post("/transactions/batch", json={"rows": rows, "valid_rows_only": True}).json()
    assert partial["inserted"] == 2 and partial["rejected"] == 3 and len(partial["errors"]) == 3
    assert _count(api, "T-wrong") == 2


def test_the_same_messages_as_the_csv_import(api: Api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from empowerment.errors import ImportFailed
    from empowerment.services.importing import import_csv
    from tests.factories import SYSTEM

    (tmp_path / "t.csv").write_text("transaction_id,customer_id,occurred_at,amount\nX1,C1,2025-01-01,abc\n")
    with pytest.raises(ImportFailed) as from_file:
        import_csv(api.db, "transactions", tmp_path / "t.csv", actor=SYSTEM)
    with api.client("ingest") as client:
        body = client.post("/transactions/batch", json={"rows": [
            {"transaction_id": "X1", "customer_id": "C1", "occurred_at": "2025-01-01", "amount": "abc"}]}).json()
    assert body["errors"][0]["message"] == from_file.value.problems[0]["reason"]


def test_customers_and_incidents_batches(api: Api) -> None:
    with api.client("ingest") as client:
        customers = client.post("/customers/batch", json={"rows": [
            {"customer_id": "C-new-1", "name": "=Not a formula", "email": "a@example.org"},
            {"customer_id": "C-new-2", "name": "Bea"}]}).json()
        assert customers["inserted"] == 2, customers
        incidents = client.post("/incidents/batch", json={"rows": [
            {"incident_id": "I-api-1", "customer_id": "C-new-1", "occurred_at": "2025-02-01T09:00",
             "category": "Noise", "employee_id": "S1"},
            {"incident_id": "I-api-2", "customer_id": "C-new-2", "occurred_at": "2025-02-01",
             "category": "Noise", "employee_id": "NOBODY"}]})
        assert incidents.status_code == 422 and incidents.json()["errors"][0]["row"] == 1
    with api.client("staff") as client:
        assert client.get("/customers/C-new-1/history").json()["customer"]["name"] == "=Not a formula"


@pytest.mark.slow
def test_a_batch_of_10000_rows_lands_whole_and_10001_are_refused(api: Api) -> None:
    rows = _transactions(10_000, "T-big")
    with api.client("ingest") as client:
        started = time.perf_counter()
        result = client.post("/transactions/batch", json={"rows": rows})
        seconds = time.perf_counter() - started
        assert result.status_code == 200 and result.json()["inserted"] == 10_000, result.text[:500]
        too_many = client.post("/transactions/batch", json={"rows": _transactions(10_001, "T-huge")})
    _problem(too_many, 422, "request-invalid")
    assert _count(api, "T-big") == 10_000
    print(f"10,000 transactions in {seconds:.2f} s ({10_000 / seconds:,.0f} rows/s)")


# --- signed webhooks ------------------------------------------------------------------------------

def _push(api: Api, body: bytes, *, secret: str | None = None, at: int | None = None,
          source: str = "pms"):  # type: ignore[no-untyped-def]
    timestamp = int(time.time()) if at is None else at
    headers = {"Content-Type": "application/json", "X-Empowerment-Timestamp": str(timestamp),
               "X-Empowerment-Signature": signature(secret or api.webhook_secret, timestamp, body)}
    with api.client() as client:
        return client.post(f"/webhooks/{source}", content=body, headers=headers)


def test_a_signed_push_lands_and_a_bad_signature_or_a_replay_is_refused(api: Api) -> None:
    body = json.dumps({"kind": "transactions", "rows": _transactions(3, "T-push")}).encode()
    landed = _push(api, body)
    assert landed.status_code == 200 and landed.json()["inserted"] == 3, landed.text
    _problem(_push(api, body, secret="whsec_wrong-secret-entirely"), 401, "signature-invalid")
    stale = _problem(_push(api, body, at=int(time.time()) - 6 * 60), 401, "signature-invalid")
    assert "replayed" in stale["detail"]
    tampered = body.replace(b"T-push-0", b"T-push-9")
    timestamp = int(time.time())
    with api.client() as client:
        refused = client.post("/webhooks/pms", content=tampered, headers={
            "X-Empowerment-Timestamp": str(timestamp),
            "X-Empowerment-Signature": signature(api.webhook_secret, timestamp, body)})
    _problem(refused, 401, "signature-invalid")
    _problem(_push(api, body, source="unknown-source"), 401, "signature-invalid")
    assert _count(api, "T-push") == 3


# --- the document ---------------------------------------------------------------------------------

def test_openapi_and_the_readable_docs(api: Api) -> None:
    with api.client() as client:
        document = client.get("/openapi.json").json()
        docs = client.get("/docs")
    assert document["openapi"].startswith("3.") and "/gestures" in document["paths"]
    assert document["servers"] == [{"url": "/api/v1"}]
    assert docs.status_code == 200 and "<script" not in docs.text
    assert "Upsert transactions" in docs.text and "problem-scope-missing" in docs.text
