"""The tablet's write unit stays lean: the statements a gesture that opens an incident runs under
the writers' lock are counted, on SQLite and PostgreSQL, with the outcomes table built (as `init`
builds it), so the audit seal or the outcome row cannot quietly add round trips again (the gesture
commit floor: p95 <= 20 ms with 16 writers). What they write is checked too: the outcome row equals
a rebuild's, and the log verifies with its seal."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from sqlalchemy import event, select

from empowerment.db import Database
from empowerment.models import IncidentOutcome
from empowerment.queries.integrity import verify
from empowerment.services import outcomes
from empowerment.services.gestures import LogRequest, log_gesture
from tests.factories import SYSTEM, make_customer, make_employee, make_policy

# SQLite: BEGIN IMMEDIATE, the incident, the outcomes state with the customer's purchases, the
# outcome row, the gesture, the ledger entry, the budget's conditional UPDATE, the daily cap, the
# audit head with the seal, the audit row, the seal. PostgreSQL has no BEGIN statement but three
# advisory locks (the outcomes' shared one and the customer's, the audit chain's).
UNDER_THE_LOCK = {"sqlite": 11, "postgresql": 13}


@contextlib.contextmanager
def _statements_in_write_units(db: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    seen: list[str] = []
    inside = [False]

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if inside[0]:
            seen.append(statement)

    write = db.write

    @contextlib.contextmanager
    def counted() -> Iterator[object]:
        with write() as session:
            inside[0] = True
            try:
                yield session
            finally:
                inside[0] = False

    event.listen(db.engine, "before_cursor_execute", count)
    monkeypatch.setattr(db, "write", counted)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_a_gesture_opening_an_incident_runs_few_statements_under_the_lock(
        db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    employee, customer = make_employee(db), make_customer(db)
    make_policy(db, allowance_cents=100_000)
    outcomes.rebuild(db, SYSTEM)
    log_gesture(db, SYSTEM, LogRequest(employee, customer, "comp", "1.00", category="Noise"))  # opens the period
    with _statements_in_write_units(db, monkeypatch) as seen:
        result = log_gesture(db, SYSTEM, LogRequest(employee, customer, "comp", "2.00", category="Noise",
                                                    idempotency_key="lean-1"))
    assert len(seen) <= UNDER_THE_LOCK[db.dialect], "\n".join(seen)
    assert not any(s.lstrip().upper().startswith("SELECT APP_SETTINGS") for s in seen)  # the seal is read with the head
    with db.read() as session:
        stored = session.execute(select(IncidentOutcome).where(
            IncidentOutcome.customer_id.isnot(None))).scalars().all()
    kept = {(row.incident_id, row.first_return_at, row.revenue_after_30_cents) for row in stored}
    outcomes.rebuild(db, SYSTEM)
    with db.read() as session:
        rebuilt = {(row.incident_id, row.first_return_at, row.revenue_after_30_cents)
                   for row in session.execute(select(IncidentOutcome)).scalars()}
    assert kept == rebuilt and len(kept) == 2
    assert result.remaining_cents == 100_000 - 300
    assert verify(db, SYSTEM).ok
