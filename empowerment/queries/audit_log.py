"""The audit log, read side: filter by action, actor and date; export as CSV.

Admins and HR read it. The CSV is safe to open in a spreadsheet: a text cell that starts with
a formula character (`csvformat.DANGEROUS_FIRST_CHARACTERS`) is prefixed with an apostrophe so it is never run as a formula.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy import select

from empowerment import access
from empowerment.actor import Actor
from empowerment.csvformat import csv_bytes, neutralise
from empowerment.db import Database
from empowerment.models import AuditEvent

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
    if since:
        query = query.where(AuditEvent.occurred_at >= datetime.combine(since, datetime.min.time()))
    if until:
        end = datetime.combine(until + timedelta(days=1), datetime.min.time())
        query = query.where(AuditEvent.occurred_at < end)
    query = query.order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc()).limit(max(limit, 0))
    with db.read() as session:
        rows = session.execute(query).all()
    return pd.DataFrame([list(r) for r in rows], columns=COLUMNS)


def to_csv(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV (with BOM, so spreadsheets detect the encoding) by the one CSV writer: CR and LF
    inside a cell are quoted, formula cells neutralised (`csvformat.neutralise`)."""
    return csv_bytes(frame)


__all__ = ["COLUMNS", "audit_choices", "neutralise", "query_audit", "to_csv"]
