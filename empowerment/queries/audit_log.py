"""The audit log, read side: filter by action, actor and date; export as CSV.

Admins and HR read it. The CSV is safe to open in a spreadsheet: a text cell that starts with
a formula character (`csvformat.DANGEROUS_FIRST_CHARACTERS`) is prefixed with an apostrophe so it is never run as a formula.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import select

from empowerment import access, clock, labels
from empowerment.actor import Actor
from empowerment.csvformat import csv_bytes, neutralise
from empowerment.db import Database
from empowerment.models import AuditEvent, Budget, BudgetPolicy, Customer, Employee, Gesture
from empowerment.periods import period_label

COLUMNS = ["occurred_at", "actor", "action", "entity", "entity_id", "detail"]
MAX_ROWS = 5000


def audit_choices(db: Database, actor: Actor) -> tuple[list[str], list[str]]:
    """The actions and actor names that occur in the log, for the filters."""
    access.require(actor, "audit.read")
    with db.read() as session:
        actions = list(session.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
        actors = list(session.scalars(select(AuditEvent.actor_label).distinct()
                                      .order_by(AuditEvent.actor_label)))
    return actions, actors


def query_audit(db: Database, actor: Actor, *, actions: list[str] | None = None,
                actors: list[str] | None = None, since: date | None = None,
                until: date | None = None, limit: int = MAX_ROWS) -> pd.DataFrame:
    """Events newest first. `until` is inclusive (the whole day). At most `limit` rows."""
    access.require(actor, "audit.read")
    query = select(AuditEvent.occurred_at, AuditEvent.actor_label, AuditEvent.action,
                   AuditEvent.entity, AuditEvent.entity_id, AuditEvent.detail)
    if actions:
        query = query.where(AuditEvent.action.in_(actions))
    if actors:
        query = query.where(AuditEvent.actor_label.in_(actors))
    # Dates are the installation's business days (the log spans every location), times stored UTC.
    if since:
        query = query.where(AuditEvent.occurred_at >= clock.day_bounds_utc(since)[0])
    if until:
        query = query.where(AuditEvent.occurred_at < clock.day_bounds_utc(until)[1])
    query = query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(max(limit, 0))
    with db.read() as session:
        rows = session.execute(query).all()
    return pd.DataFrame([list(r) for r in rows], columns=COLUMNS)


def local_times(stored_utc: pd.Series) -> pd.Series:
    """Stored (UTC) times as the installation's wall clock shows them, naive, for people to read."""
    moments = pd.to_datetime(stored_utc)
    return moments.dt.tz_localize("UTC").dt.tz_convert(clock.zone().key).dt.tz_localize(None)


def time_zone_words() -> str:
    return f"Times are {clock.zone().key.replace('_', ' ')} time."


# Records people know by their organisation's reference (shown); the others are rows known only
# by a database number (never shown: they are named instead).
_REFERENCED = {"employee", "gesture", "customer", "incident"}
PEOPLE_COLUMNS = ["When", "Who", "What", "On", "Reference", "Detail"]


def for_people(db: Database, actor: Actor, events: pd.DataFrame) -> pd.DataFrame:
    """The events as a person reads them: actions and details in words ("Wrong PIN",
    "Amount: $12.00 · Reason: …"), each record named (the employee's name, the budget's owner and
    period, the policy's name) rather than by its database number."""
    access.require(actor, "audit.read")
    names = _record_names(db, events)
    return pd.DataFrame({
        "When": local_times(events["occurred_at"]),
        "Who": events["actor"],
        "What": events["action"].map(labels.audit_action),
        "On": [names.get((entity, str(ref))) or labels.audit_entity(entity)
               for entity, ref in zip(events["entity"], events["entity_id"], strict=True)],
        "Reference": [str(ref) if entity in _REFERENCED and isinstance(ref, str) else ""
                      for entity, ref in zip(events["entity"], events["entity_id"], strict=True)],
        "Detail": events["detail"].map(labels.audit_detail),
    }, columns=PEOPLE_COLUMNS)


def _numbers(refs: set[str]) -> list[int]:
    return [int(r) for r in refs if r.isdigit()]


def _record_names(db: Database, events: pd.DataFrame) -> dict[tuple[str, str], str]:
    wanted: dict[str, set[str]] = {}
    for entity, ref in zip(events["entity"], events["entity_id"], strict=True):
        if isinstance(ref, str) and ref:
            wanted.setdefault(str(entity), set()).add(ref)
    found: dict[tuple[str, str], str] = {}
    with db.read() as session:
        if refs := wanted.get("employee"):
            for code, name in session.execute(select(Employee.code, Employee.name).where(Employee.code.in_(refs))):
                found[("employee", code)] = f"Employee: {name}"
        if refs := wanted.get("customer"):
            for code, name in session.execute(select(Customer.code, Customer.name).where(Customer.code.in_(refs))):
                found[("customer", code)] = f"Customer: {name}"
        if refs := wanted.get("gesture"):
            for code, name in session.execute(select(Gesture.code, Employee.name).join(
                    Employee, Employee.id == Gesture.employee_id).where(Gesture.code.in_(refs))):
                found[("gesture", code)] = f"Gesture by {name}"
        if ids := _numbers(wanted.get("budget", set())):
            for budget_id, period, start, name in session.execute(
                    select(Budget.id, Budget.period, Budget.period_start, Employee.name)
                    .join(Employee, Employee.id == Budget.employee_id).where(Budget.id.in_(ids))):
                found[("budget", str(budget_id))] = f"Budget: {name}, {period_label(period, start)}"
        if ids := _numbers(wanted.get("budget_policy", set())):
            for policy_id, name in session.execute(
                    select(BudgetPolicy.id, BudgetPolicy.name).where(BudgetPolicy.id.in_(ids))):
                found[("budget_policy", str(policy_id))] = f"Budget policy: {name}"
    return found


def to_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with BOM, so spreadsheets detect the encoding) by the one CSV writer: CR and LF
    inside a cell are quoted, formula cells neutralised (`csvformat.neutralise`)."""
    return csv_bytes(frame)


__all__ = ["COLUMNS", "audit_choices", "neutralise", "query_audit", "to_csv"]
