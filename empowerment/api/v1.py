"""The JSON API, version 1: a FastAPI application mounted at `/api/v1` on Streamlit's own server
(see `empowerment.api`). Endpoints parse, call one service or query, and answer; every decision is
the service's. Every call is authenticated by `services.api_tokens` (bearer token, scope, rate
limit) and recorded in the audit log, whatever its outcome."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from empowerment.api import problems, schemas
from empowerment.db import Database
from empowerment.errors import EmpowermentError
from empowerment.queries.budgets import budget_status
from empowerment.queries.customers import customer_history
from empowerment.services import api_tokens, gestures, ingest, webhooks
from empowerment.services.gestures import LogRequest

MAX_BODY_BYTES = 32 * 1024 * 1024  # 10,000 rows with room to spare
VERSION = "1.0.0"
DESCRIPTION = """The JSON API of Empowerment, for the systems around it: property management, point of
sale, helpdesk and chat tools.

* **Tokens.** Send `Authorization: Bearer emp_...`. An admin creates tokens (Connections page, or
  `python -m empowerment api-token create`); each is shown once, acts with the rights of one person,
  and carries scopes: `ingest` (batches), `log` (log, undo and decide gestures) and `read`
  (histories and balances). The app's own rules then apply as for that person.
* **Limits.** Each token has a rate limit per minute (HTTP 429 with `Retry-After` past it). A batch
  holds at most 10,000 rows.
* **Errors** are `application/problem+json` (RFC 9457) with a stable `code`; see the table below.
* **Webhooks.** `POST /api/v1/webhooks/{source}` takes pushes signed with the source's secret:
  `X-Empowerment-Timestamp: <unix seconds>` and `X-Empowerment-Signature: sha256=<hex HMAC-SHA256
  of "<timestamp>." + raw body>`. Pushes older than 5 minutes are refused as replays.
"""

bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer emp_...`")


@functools.cache
def database() -> Database:
    return Database()


# --- authentication and audit ---------------------------------------------------------------------

def _scoped(scope: str) -> Callable[..., Awaitable[api_tokens.Caller]]:
    async def dependency(request: Request,
                         credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
                         ) -> api_tokens.Caller:
        token = credentials.credentials if credentials is not None else None
        caller = await run_in_threadpool(api_tokens.authenticate, database(), token)
        request.state.caller = caller
        caller.require_scope(scope)
        return caller

    return dependency


Ingest = Annotated[api_tokens.Caller, Depends(_scoped("ingest"))]
Log = Annotated[api_tokens.Caller, Depends(_scoped("log"))]
Read = Annotated[api_tokens.Caller, Depends(_scoped("read"))]
GestureCode = Annotated[str, Path(max_length=64, pattern=r"^[^\x00]*$", description="The gesture's id.")]


def _custom_openapi(app: FastAPI) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description,
                                 routes=app.routes, servers=[{"url": "/api/v1"}])
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(problems.component_schemas())
            push = schemas.PushIn.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(push.pop("$defs", {}))
            components["PushIn"] = push
            app.openapi_schema = schema
        return app.openapi_schema

    return build


def create_app() -> FastAPI:
    app = FastAPI(title="Empowerment API", version=VERSION, description=DESCRIPTION,
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    app.add_exception_handler(EmpowermentError, problems.domain_error)
    app.add_exception_handler(RequestValidationError, problems.request_invalid)
    app.add_exception_handler(StarletteHTTPException, problems.http_error)
    app.openapi = _custom_openapi(app)  # type: ignore[method-assign]

    @app.middleware("http")
    async def audit_every_call(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            response: Response = problems.problem_response(
                problems.HTTP_KINDS[413], f"Send at most {MAX_BODY_BYTES // 2**20} MB a call.", request)
        else:
            try:
                response = await call_next(request)
            except Exception as exc:  # noqa: BLE001 - never a stack trace to the caller
                response = await problems.unexpected(request, exc)
        path = request.url.path
        if not path.endswith(("/openapi.json", "/docs")):
            caller = getattr(request.state, "caller", None)
            detail = {"source": request.state.source} if getattr(request.state, "source", None) else None
            try:
                await run_in_threadpool(api_tokens.record_call, database(), caller, request.method, path,
                                        response.status_code, detail)
            except Exception:  # noqa: BLE001 - an audit failure is logged, the answer still goes out
                problems.log.exception("could not audit API call %s %s", request.method, path)
        return response

    _routes(app)
    return app


COMMON = problems.responses(401, 403, 422, 429, 500)


def _routes(app: FastAPI) -> None:
    @app.get("/docs", include_in_schema=False, response_class=HTMLResponse)
    def docs() -> HTMLResponse:
        from empowerment.api.docs_page import render

        return HTMLResponse(render(app.openapi()))

    @app.get("/me", response_model=schemas.TokenOut, responses=COMMON, tags=["tokens"],
             summary="The calling token", description="Scope: any.")
    def me(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
           ) -> schemas.TokenOut:
        caller = api_tokens.authenticate(database(), credentials.credentials if credentials else None)
        request.state.caller = caller
        return schemas.TokenOut(token_name=caller.token_name, scopes=sorted(caller.scopes), acts_as=caller.actor.name)

    def batch(kind: str, caller: api_tokens.Caller, rows: list[Any], valid_rows_only: bool) -> schemas.BatchOut:
        result = ingest.upsert_rows(database(), caller.actor, kind,
                                    [row.model_dump(exclude_unset=True) for row in rows],
                                    valid_rows_only=valid_rows_only)
        return _batch_out(result)

    batch_doc = dict(responses=problems.responses(401, 403, 409, 413, 422, 429, 500), tags=["batches"])

    @app.post("/customers/batch", response_model=schemas.BatchOut, summary="Upsert customers", **batch_doc,  # type: ignore[arg-type]
              description="Scope: ingest. Up to 10,000 customers by `customer_id`; a repeated batch changes "
                          "nothing. Checked like the CSV import, with each wrong row's errors.")
    def customers_batch(body: schemas.CustomerBatch, caller: Ingest) -> schemas.BatchOut:  # type: ignore[valid-type]
        return batch("customers", caller, body.rows, body.valid_rows_only)  # type: ignore[attr-defined]

    @app.post("/transactions/batch", response_model=schemas.BatchOut, summary="Upsert transactions",
              **batch_doc,  # type: ignore[arg-type]
              description="Scope: ingest. Up to 10,000 purchases (or returns) by `transaction_id`.")
    def transactions_batch(body: schemas.TransactionBatch, caller: Ingest) -> schemas.BatchOut:  # type: ignore[valid-type]
        return batch("transactions", caller, body.rows, body.valid_rows_only)  # type: ignore[attr-defined]

    @app.post("/incidents/batch", response_model=schemas.BatchOut, summary="Upsert incidents", **batch_doc,  # type: ignore[arg-type]
              description="Scope: ingest. Up to 10,000 incidents (things that went wrong) by `incident_id`.")
    def incidents_batch(body: schemas.IncidentBatch, caller: Ingest) -> schemas.BatchOut:  # type: ignore[valid-type]
        return batch("incidents", caller, body.rows, body.valid_rows_only)  # type: ignore[attr-defined]

    gesture_doc = dict(responses=problems.responses(401, 403, 404, 409, 422, 429, 500), tags=["gestures"])
    replayed: dict[int | str, dict[str, Any]] = {
        200: {"description": "Already logged with this Idempotency-Key; nothing was added",
              "model": schemas.GestureOut}, **problems.responses(401, 403, 404, 409, 422, 429, 500)}

    @app.post("/gestures", response_model=schemas.GestureOut, status_code=201, summary="Log a gesture",
              responses=replayed, tags=["gestures"],
              description="Scope: log. The tablet's own service: the budget, the daily cap per customer and "
                          "the approval threshold apply. Send an `Idempotency-Key`: a retry with the same key "
                          "answers 200 with the first gesture and logs nothing.")
    def log(body: schemas.GestureIn, caller: Log, response: Response,
            idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=64,
                                                          pattern=r"^[\x21-\x7e]+$")] = None) -> schemas.GestureOut:
        key = f"api:{caller.token_id}:{idempotency_key}" if idempotency_key else None
        result = gestures.log_gesture(database(), caller.actor, LogRequest(
            employee_code=body.employee_id, customer_code=body.customer_id, gesture_type=body.type,
            amount=body.amount if isinstance(body.amount, str) else repr(body.amount) if isinstance(body.amount, float)
            else str(body.amount), incident_code=body.incident_id, category=body.category, note=body.note,
            idempotency_key=key, source="api", staff_minutes=body.staff_minutes))
        if result.already_logged:
            response.status_code = 200
        return schemas.GestureOut(
            gesture_id=result.gesture_code, incident_id=result.incident_code, status=result.status.value,
            status_label=result.status.label, cost_cents=result.cost_cents, needs_review=result.needs_review,
            remaining_cents=result.remaining_cents, already_logged=result.already_logged, message=result.message)

    @app.post("/gestures/{gesture_id}/void", response_model=schemas.VoidOut, summary="Undo a gesture",
              **gesture_doc,  # type: ignore[arg-type]
              description="Scope: log. A reversing ledger entry gives the money back; nothing is deleted.")
    def void(gesture_id: GestureCode, body: schemas.VoidIn, caller: Log) -> schemas.VoidOut:
        remaining = gestures.void_gesture(database(), caller.actor, gesture_id, body.reason)
        return schemas.VoidOut(gesture_id=gesture_id, status="voided", remaining_cents=remaining,
                               message="Undone; the money is back in the budget.")

    @app.post("/gestures/{gesture_id}/decision", response_model=schemas.DecisionOut,
              summary="Approve or reject a gesture", **gesture_doc,  # type: ignore[arg-type]
              description="Scope: log, for a manager of the gesture's team (or an admin). Rejecting needs a reason.")
    def decide(gesture_id: GestureCode, body: schemas.DecisionIn, caller: Log) -> schemas.DecisionOut:
        gestures.decide_gesture(database(), caller.actor, gesture_id, body.approve, body.reason)
        return schemas.DecisionOut(
            gesture_id=gesture_id, status="logged" if body.approve else "rejected",
            message="Approved: the held money is now spent." if body.approve else "Rejected: the held money is back.")

    read_doc = dict(responses=problems.responses(401, 403, 404, 422, 429, 500), tags=["reads"])

    @app.get("/customers/{customer_id}/history", response_model=schemas.HistoryOut,
             summary="A customer's history", **read_doc,  # type: ignore[arg-type]
             description="Scope: read. Visits, spend and every incident with its gestures, newest first.")
    def history(customer_id: Annotated[str, Path(max_length=64, pattern=r"^[^\x00]*$")], caller: Read,
                limit: Annotated[int, Query(ge=1, le=500)] = 50) -> schemas.HistoryOut:
        found = customer_history(database(), caller.actor, customer_id, limit=limit)
        card = found.customer
        events = [schemas.HistoryEvent(**_plain(row)) for row in
                  found.events.rename(columns={"incident": "incident_id"}).to_dict("records")]
        return schemas.HistoryOut(
            customer=schemas.CustomerOut(customer_id=card.code, name=card.name, segment=card.segment,
                                         email=card.email, phone=card.phone, room=card.room),
            visits=found.visits, lifetime_spend_cents=found.lifetime_spend_cents,
            last_visit_at=found.last_visit_at, open_incidents=found.open_incidents, events=events)

    @app.get("/employees/{employee_id}/balance", response_model=schemas.BalanceOut,
             summary="An employee's budget this period", **read_doc,  # type: ignore[arg-type]
             description="Scope: read. The person's own balance, or a member of the token person's teams.")
    def balance(employee_id: Annotated[str, Path(max_length=64, pattern=r"^[^\x00]*$")],
                caller: Read) -> schemas.BalanceOut:
        return schemas.BalanceOut.model_validate(budget_status(database(), caller.actor, employee_id).as_dict())

    @app.post("/webhooks/{source}", response_model=schemas.BatchOut, summary="A signed push from a source",
              tags=["webhooks"], responses=problems.responses(401, 409, 413, 422, 500),
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                  "schema": {"$ref": "#/components/schemas/PushIn"}}}},
                  "parameters": [
                      {"name": webhooks.TIMESTAMP_HEADER, "in": "header", "required": True,
                       "schema": {"type": "string"}, "description": "Unix time of the push, in seconds."},
                      {"name": webhooks.SIGNATURE_HEADER, "in": "header", "required": True,
                       "schema": {"type": "string"},
                       "description": "sha256=<hex HMAC-SHA256 of '<timestamp>.' + raw body>"}]},
              description="No token: the source's signature. The body is a batch of one kind "
                          "(`kind`: customers, transactions or incidents), handled like the batch endpoints.")
    async def push(source: Annotated[str, Path(max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")],
                   request: Request) -> schemas.BatchOut:
        raw = await request.body()
        request.state.source = source
        actor = await run_in_threadpool(
            webhooks.verify_push, database(), source, request.headers.get(webhooks.TIMESTAMP_HEADER),
            request.headers.get(webhooks.SIGNATURE_HEADER), raw)
        try:
            body = schemas.PushIn.model_validate_json(raw)
        except ValidationError as exc:
            raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None
        result = await run_in_threadpool(ingest.upsert_rows, database(), actor, body.kind, body.rows,
                                         valid_rows_only=body.valid_rows_only)
        return _batch_out(result)


def _batch_out(result: ingest.BatchResult) -> schemas.BatchOut:
    return schemas.BatchOut(
        kind=result.kind, rows=result.rows, inserted=result.inserted, updated=result.updated,
        unchanged=result.unchanged, rejected=result.rejected, customers_created=result.customers_created,
        locations_created=result.locations_created,
        errors=[schemas.RowErrorOut(row=e.row, id=e.id, field=e.field,
                                    value=None if e.value is None else str(e.value)[:200], message=e.message)
                for e in result.errors],
        warnings=result.warnings)


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A DataFrame record as JSON-ready values (NaN/NaT -> None, numpy numbers -> Python)."""
    import pandas as pd

    out: dict[str, Any] = {}
    for key, value in row.items():
        if value is None or (not isinstance(value, (list, dict, str)) and pd.isna(value)):
            out[key] = None
        elif isinstance(value, pd.Timestamp):
            out[key] = value.to_pydatetime()
        elif hasattr(value, "item"):
            out[key] = value.item()
        else:
            out[key] = value
    return out

