"""The organisation's vocabulary for screens (one small read; see `models.vocabulary`)."""

from __future__ import annotations

import pandas as pd

from empowerment.db import Database
from empowerment.models.vocabulary import (
    GESTURE_TYPE,
    INCIDENT_CATEGORY,
    SEVERITY_LABELS,
    TOUCHPOINT_LABELS,
    VALUATION_LABELS,
    Vocabulary,
    load_vocabulary,
)


def vocabulary(db: Database) -> Vocabulary:
    with db.read() as session:
        return load_vocabulary(session)


def terms_table(db: Database, kind: str) -> pd.DataFrame:
    """Every term of a kind (retired too) as people read it."""
    vocab = vocabulary(db)
    rows = []
    for t in vocab.of(kind, include_retired=True):
        row: dict[str, object] = {"code": t.code, "Label": t.label, "Description": t.description}
        if kind == GESTURE_TYPE:
            row["Costs money"] = "Yes" if t.costs_money else "No"
            row["Valued as"] = VALUATION_LABELS.get(t.valuation, t.valuation)
        if kind == INCIDENT_CATEGORY:
            row["Severity"] = SEVERITY_LABELS.get(t.severity or 0, "")
            row["Touchpoint"] = TOUCHPOINT_LABELS.get(t.touchpoint or "", t.touchpoint or "")
        row["Other words"] = ", ".join(t.synonyms)
        row["In use"] = "Retired" if t.retired else "Yes"
        rows.append(row)
    return pd.DataFrame(rows)
