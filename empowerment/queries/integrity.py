"""Is the money record whole? (`python -m empowerment verify`)

- Every budget's running balance equals the sum of its ledger entries; every entry moves money
  the way its type says, gesture entries move exactly the gesture's cost, and (SQLite) every
  amount is an integer.
- The audit log's hash chain holds from the first row to the last (`audit.row_digest`): a changed
  row fails its own hash; a removed or inserted row breaks the link of the row after it; and the log
  ends where its seal says (`audit.Seal`), so rows cut off the end are found too.

Each problem names the row, so someone can look at it. Reads only, in one read unit (PostgreSQL:
REPEATABLE READ, so the balances and the ledger are read at one instant even while people spend).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from empowerment import access, audit
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.models import AuditEvent, Budget, Employee, Gesture, LedgerEntry, LedgerEntryType, table
from empowerment.money import format_cents

MAX_LISTED = 50  # problems listed per check; the count is always exact
_CHUNK = 5000


@dataclass(frozen=True)
class Problem:
    check: str  # "balance", "ledger" or "audit"
    row: str  # which row: "budget 12", "ledger entry 40", "audit row 7"
    message: str

    def as_text(self) -> str:
        return f"{self.row}: {self.message}"


@dataclass
class VerifyResult:
    budgets: int = 0
    ledger_entries: int = 0
    audit_rows: int = 0
    audit_head: str = audit.GENESIS_HASH
    problems: list[Problem] = field(default_factory=list)
    problem_counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problem_counts

    def add(self, problem: Problem) -> None:
        count = self.problem_counts.get(problem.check, 0)
        self.problem_counts[problem.check] = count + 1
        if count < MAX_LISTED:
            self.problems.append(problem)

    def as_text(self) -> str:
        lines = [f"Checked {self.budgets:,} budgets, {self.ledger_entries:,} ledger entries and "
                 f"{self.audit_rows:,} audit rows."]
        if self.ok:
            lines.append("Every balance equals its ledger and the audit chain is whole "
                         f"(head {self.audit_head[:16]}).")
            return "\n".join(lines)
        for check, count in self.problem_counts.items():
            lines.append(f"{count:,} {_CHECK_WORDS[check]}" + ("" if count <= MAX_LISTED
                                                             else f" (the first {MAX_LISTED} listed)"))
        lines += [f"  {p.as_text()}" for p in self.problems]
        return "\n".join(lines)


_CHECK_WORDS = {"balance": "budgets whose balance differs from their ledger:",
                "ledger": "ledger entries that are not what they should be:",
                "audit": "audit rows that break the chain:"}


def verify(db: Database, actor: Actor) -> VerifyResult:
    access.require(actor, "integrity.verify", anywhere=True)
    result = VerifyResult()
    with db.read() as session:
        if session.get_bind().dialect.name == "postgresql":
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        _check_balances(session, result)
        _check_entries(session, result)
        _check_audit_chain(session, result)
        _check_audit_seal(session, result)
    return result


def _check_balances(session: Session, result: VerifyResult) -> None:
    ledger = table(LedgerEntry)
    sums = (select(ledger.c.budget_id, func.sum(ledger.c.amount_cents).label("total"))
            .group_by(ledger.c.budget_id).subquery())
    rows = session.execute(
        select(Budget.id, Budget.remaining_cents, func.coalesce(sums.c.total, 0), Employee.code,
               Budget.period_start)
        .join(Employee, Employee.id == Budget.employee_id)
        .outerjoin(sums, sums.c.budget_id == Budget.id)
        .order_by(Budget.id)
    ).all()
    result.budgets = len(rows)
    for budget_id, remaining, total, employee_code, start in rows:
        if remaining != total:
            result.add(Problem("balance", f"budget {budget_id}", (
                f"{employee_code}'s budget from {start:%d %b %Y} shows {_money(remaining)} but its "
                f"ledger adds up to {_money(total)}")))


def _money(value: object) -> str:
    if isinstance(value, (int, Decimal)) and value == int(value):  # PostgreSQL's SUM is a numeric
        return format_cents(int(value))
    return repr(value)  # a REAL (SQLite) shows as it is


def _check_entries(session: Session, result: VerifyResult) -> None:
    ledger = table(LedgerEntry)
    gestures = table(Gesture)
    amount = ledger.c.amount_cents
    columns: list[Any] = [ledger.c.id, ledger.c.entry_type, amount, gestures.c.cost_cents, gestures.c.code]
    if session.get_bind().dialect.name == "sqlite":
        columns.append(func.typeof(amount))
    query = (select(*columns).outerjoin(gestures, gestures.c.id == ledger.c.gesture_id)
             .order_by(ledger.c.id).execution_options(yield_per=_CHUNK))
    count = 0
    for row in session.execute(query):
        count += 1
        entry_id, entry_type, cents, cost, gesture_code = row[:5]
        kind = LedgerEntryType(entry_type)
        where = f"ledger entry {entry_id}"
        if len(row) > 5 and row[5] != "integer":
            result.add(Problem("ledger", where, f"its amount is stored as {row[5]}, not whole cents"))
            continue
        if cents == 0 or (cents > 0) != (kind.direction > 0):
            result.add(Problem("ledger", where, f"a {kind.label.lower()} of {_money(cents)} moves money "
                                                "the wrong way"))
        elif gesture_code is not None and cost is not None and abs(cents) != cost and kind in _GESTURE_MOVES:
            result.add(Problem("ledger", where, f"moves {_money(abs(cents))} for gesture {gesture_code}, "
                                                f"which cost {_money(cost)}"))
    result.ledger_entries = count


_GESTURE_MOVES = frozenset({LedgerEntryType.SPEND, LedgerEntryType.HOLD, LedgerEntryType.RELEASE,
                            LedgerEntryType.REVERSAL})


def _audit_rows(session: Session) -> Iterator[tuple[object, ...]]:
    events = table(AuditEvent)
    query = (select(events.c.id, events.c.occurred_at, events.c.actor_id, events.c.actor_label,
                    events.c.action, events.c.entity, events.c.entity_id, events.c.detail,
                    events.c.prev_hash, events.c.row_hash)
             .order_by(events.c.id).execution_options(yield_per=_CHUNK))
    yield from session.execute(query)


def _check_audit_chain(session: Session, result: VerifyResult) -> None:
    key = audit.chain_key()
    expected_prev = audit.GENESIS_HASH
    count = 0
    for row in _audit_rows(session):
        count += 1
        row_id, occurred_at, actor_id, actor_label, action, entity, entity_id, detail, prev, stored = row
        where = f"audit row {row_id}"
        if stored is None:
            result.add(Problem("audit", where, f"'{action}' has no hash (written outside the audit log)"))
            continue
        recomputed = audit.row_digest(str(prev), occurred_at, actor_id, actor_label, action,  # type: ignore[arg-type]
                                      entity, entity_id, detail, key=key)  # type: ignore[arg-type]
        if recomputed != stored:
            result.add(Problem("audit", where, f"'{action}' of {occurred_at:%d %b %Y %H:%M} was changed "
                                               "after it was written"))
        elif prev != expected_prev:
            result.add(Problem("audit", where, f"'{action}' does not follow the row before it: a row "
                                               "was removed or inserted just before it"))
        expected_prev = str(stored)
    result.audit_rows = count
    result.audit_head = expected_prev


def _check_audit_seal(session: Session, result: VerifyResult) -> None:
    seal = audit.read_seal(session)
    if seal is None:
        if result.audit_rows:
            result.add(Problem("audit", "audit seal", "is missing: the log's length cannot be checked "
                                                      "(run `python -m empowerment init` to seal it)"))
        return
    if not seal.authentic:
        result.add(Problem("audit", "audit seal", "was changed by someone without the installation's secret"))
    elif seal.rows > result.audit_rows:
        result.add(Problem("audit", "audit seal", f"says the log had {seal.rows:,} rows but it has "
                                                  f"{result.audit_rows:,}: rows were removed (from the end, if no row above says where)"))
    elif seal.rows < result.audit_rows or seal.head != result.audit_head:
        result.add(Problem("audit", "audit seal", "does not match the log's newest row: rows were added "
                                                  "outside the audit log"))
