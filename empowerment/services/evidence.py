"""The tablet's "what tends to work", stored (`models.EvidenceRow`, `EvidenceState`): written in
one write unit, all rows replaced at once, so a reader sees the old set or the new one, never a
mix. Computed by `reports.evidence.refresh` (the notification worker, hourly; the
`evidence-refresh` command; `init`), away from the app process: at 1M gestures the analysis
takes tens of seconds of CPU that would otherwise slow every tablet rerun."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from sqlalchemy import delete, insert

from empowerment import access
from empowerment.actor import Actor
from empowerment.clock import utc_now
from empowerment.db import Database
from empowerment.models import EvidenceRow, EvidenceState

COLUMNS = ("category", "gesture_type", "cases", "estimate", "low", "high", "p_value", "p_holm", "reliable", "reason")


def _number(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value) \
        else float(value)


def store(db: Database, actor: Actor, evidence: pd.DataFrame, data_version: str, seconds: float) -> int:
    """Replace the stored evidence with `evidence` (`queries.care.what_tends_to_work`'s frame):
    -> the number of rows. Data work: the right to import data (like the outcomes rebuild)."""
    access.require(actor, "data.import")
    rows = [{
        "category": str(r["category"]), "gesture_type": str(r["gesture_type"]), "cases": int(r["cases"]),
        **{c: _number(r[c]) for c in ("estimate", "low", "high", "p_value", "p_holm")},
        "reliable": bool(r["reliable"]), "reason": str(r["reason"] or ""),
    } for r in evidence.to_dict(orient="records")]
    with db.write() as session:
        session.execute(delete(EvidenceRow))
        if rows:
            session.execute(insert(EvidenceRow), rows)
        state = session.get(EvidenceState, 1)
        if state is None:
            state = EvidenceState(id=1)
            session.add(state)
        state.computed_at, state.data_version, state.rows, state.seconds = utc_now(), data_version, len(rows), seconds
    return len(rows)
