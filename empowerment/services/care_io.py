"""CSV import and export of the vocabulary, value tags and follow-ups (issue 13), in the same
spirit as the other kinds: readable headers, labels beside codes, formula cells neutralised, a
file checked whole before anything is written."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import aliased

from empowerment import access, audit
from empowerment.actor import Actor
from empowerment.csvformat import escape_formulas
from empowerment.db import Database
from empowerment.errors import ImportFailed
from empowerment.models import Employee, FollowUp, Gesture, GestureValue, Incident
from empowerment.models.vocabulary import KINDS, SERVICE_VALUE, load_vocabulary
from empowerment.services import vocabulary

VOCABULARY_COLUMNS = ["kind", "code", "label", "description", "costs_money", "valuation", "hourly_rate", "severity",
                      "touchpoint", "synonyms", "retired"]
VALUE_TAG_COLUMNS = ["gesture_id", "value", "value_label"]
FOLLOW_UP_COLUMNS = ["follow_up_id", "incident_id", "employee_id", "kind", "occurred_at", "note", "source"]


def _csv(frame: pd.DataFrame) -> str:
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype).startswith("str"):
            out[column] = escape_formulas(out[column].astype(object).where(out[column].notna(), "").astype(str))
    return out.to_csv(index=False)


def export_vocabulary(db: Database, actor: Actor) -> str:
    access.require(actor, "data.export")
    with db.read() as session:
        vocab = load_vocabulary(session)
    rows = []
    for kind in KINDS:
        for t in vocab.of(kind, include_retired=True):
            rows.append({"kind": kind, "code": t.code, "label": t.label, "description": t.description,
                         "costs_money": ("yes" if t.costs_money else "no") if kind == "gesture_type" else "",
                         "valuation": t.valuation,
                         "hourly_rate": str(Decimal(t.hourly_rate_cents) / 100) if t.hourly_rate_cents else "",
                         "severity": t.severity or "", "touchpoint": t.touchpoint or "",
                         "synonyms": "|".join(t.synonyms), "retired": "yes" if t.retired else ""})
    return _csv(pd.DataFrame(rows, columns=VOCABULARY_COLUMNS))


def _read(text: str, required: Sequence[str]) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportFailed(f"The file has no {', '.join(missing)} column; the header must name {', '.join(required)}.")
    return [dict(row) for row in reader]


def import_vocabulary(db: Database, actor: Actor, text: str) -> int:
    access.require(actor, "vocabulary.edit")
    rows = _read(text, ["kind", "code", "label"])
    return vocabulary.import_terms(db, actor, rows)


def export_value_tags(db: Database, actor: Actor) -> str:
    access.require(actor, "data.export")
    with db.read() as session:
        rows = session.execute(select(Gesture.code, GestureValue.value_code)
                               .join(Gesture, Gesture.id == GestureValue.gesture_id)
                               .order_by(Gesture.code, GestureValue.value_code)).all()
        labels = load_vocabulary(session).labels(SERVICE_VALUE)
    return _csv(pd.DataFrame([(g, v, labels.get(v, v)) for g, v in rows], columns=VALUE_TAG_COLUMNS))


def import_value_tags(db: Database, actor: Actor, text: str) -> int:
    """Tag gestures with values (gesture_id, value as code or label); all rows or none."""
    access.require(actor, "data.import")
    rows = _read(text, ["gesture_id", "value"])
    problems: list[dict[str, object]] = []
    with db.write() as session:
        vocab = load_vocabulary(session)
        codes = {str(r["gesture_id"]).strip() for r in rows}
        ids = dict(session.execute(select(Gesture.code, Gesture.id).where(Gesture.code.in_(codes))).all())
        existing = {(g, v) for g, v in session.execute(select(GestureValue.gesture_id, GestureValue.value_code)
                                                        .where(GestureValue.gesture_id.in_(ids.values())))}
        new: set[tuple[int, str]] = set()
        for line, row in enumerate(rows, start=2):
            gesture, value = str(row["gesture_id"]).strip(), vocab.match(SERVICE_VALUE, row["value"])
            if gesture not in ids:
                problems.append({"line": line, "column": "gesture_id", "value": gesture, "reason": "no such gesture"})
            if value is None:
                problems.append({"line": line, "column": "value", "value": row["value"],
                                 "reason": "is not one of the organisation's service values"})
            if gesture in ids and value is not None and (ids[gesture], value) not in existing:
                new.add((ids[gesture], value))
        if problems:
            raise ImportFailed(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in the file; nothing "
                               "was imported.", problems)
        for gesture_id, value in sorted(new):
            session.add(GestureValue(gesture_id=gesture_id, value_code=value))
        audit.record(session, actor, "import.value_tags", "value_tags", None, dict(rows=len(rows), new=len(new)))
    return len(new)


def export_follow_ups(db: Database, actor: Actor) -> str:
    access.require(actor, "data.export")
    who = aliased(Employee)
    with db.read() as session:
        rows = session.execute(select(FollowUp.code, Incident.code, who.code, FollowUp.kind, FollowUp.occurred_at,
                                      FollowUp.note, FollowUp.source)
                               .join(Incident, Incident.id == FollowUp.incident_id)
                               .outerjoin(who, who.id == FollowUp.employee_id).order_by(FollowUp.occurred_at)).all()
    frame = pd.DataFrame(rows, columns=FOLLOW_UP_COLUMNS)
    frame["occurred_at"] = pd.to_datetime(frame["occurred_at"]).dt.strftime("%Y-%m-%dT%H:%M:%S")
    return _csv(frame)


def import_follow_ups(db: Database, actor: Actor, text: str) -> int:
    """Follow-ups recorded elsewhere (incident_id, employee_id, kind, occurred_at[, note,
    follow_up_id]); rows whose id is already there are skipped; all rows or none."""
    from empowerment.models import FollowUpKind
    from empowerment.services.care import _kind

    access.require(actor, "data.import")
    rows = _read(text, ["incident_id", "employee_id", "kind", "occurred_at"])
    problems: list[dict[str, object]] = []
    with db.write() as session:
        incidents = dict(session.execute(select(Incident.code, Incident.id)).all())
        customers = dict(session.execute(select(Incident.id, Incident.customer_id)).all())
        employees = dict(session.execute(select(Employee.code, Employee.id)).all())
        known = set(session.scalars(select(FollowUp.code)))
        added = 0
        for line, row in enumerate(rows, start=2):
            incident, employee = str(row["incident_id"]).strip(), str(row["employee_id"]).strip()
            kind: FollowUpKind | None = None
            try:
                kind = _kind(row["kind"])
                at = datetime.fromisoformat(str(row["occurred_at"]).strip())
            except (ValueError, Exception) as exc:  # noqa: BLE001 - every bad cell is reported
                problems.append({"line": line, "column": "kind" if kind is None else "occurred_at",
                                 "value": row["kind"] if kind is None else row["occurred_at"], "reason": str(exc)})
                continue
            if incident not in incidents:
                problems.append({"line": line, "column": "incident_id", "value": incident, "reason": "no such incident"})
            if employee not in employees:
                problems.append({"line": line, "column": "employee_id", "value": employee, "reason": "no such employee"})
            code = str(row.get("follow_up_id") or "").strip() or f"F-import-{line}-{incident}"[:64]
            if problems or code in known:
                continue
            session.add(FollowUp(code=code, incident_id=incidents[incident], customer_id=customers[incidents[incident]],
                                 kind=kind.value, employee_id=employees[employee], occurred_at=at,
                                 note=(row.get("note") or "").strip() or None, source="import"))
            known.add(code)
            added += 1
        if problems:
            raise ImportFailed(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in the file; nothing "
                               "was imported.", problems)
        audit.record(session, actor, "import.follow_ups", "follow_ups", None, dict(rows=len(rows), new=added))
    return added
