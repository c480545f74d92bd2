"""Matching a file's rows to existing records by id: insert, update or leave as they are."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Table

from empowerment.services.importing.job import Job
from empowerment.services.importing.lookup import fetch_by_codes
from empowerment.services.importing.values import as_us
from empowerment.services.importing.writing import bulk_insert, bulk_update


@dataclass(frozen=True)
class Field:
    column: str  # database column
    csv: str  # CSV column it comes from
    type: str  # "int", "str" or "time": how to compare


def _normal(values: pd.Series, kind: str) -> pd.Series:
    if kind == "int":
        return pd.to_numeric(values, errors="coerce").astype("float64")
    if kind == "time":
        if values.dtype == object:
            values = pd.to_datetime(values, errors="coerce", format="ISO8601")
        return as_us(values)
    return values.astype(object).where(values.notna(), None)


def _same(a: pd.Series, b: pd.Series, kind: str) -> np.ndarray:
    a, b = _normal(a, kind), _normal(b, kind)
    both_missing = (a.isna() & b.isna()).to_numpy(dtype=bool)
    if kind == "str":
        equal = (a.fillna("\x00") == b.fillna("\x00")).to_numpy(dtype=bool)
    else:
        equal = (a == b).fillna(False).to_numpy(dtype=bool)
    return equal | both_missing


def plan_rows(
    job: Job,
    table: Table,
    data: pd.DataFrame,
    fields: list[Field],
    extra: Sequence[str] = (),
    *,
    ignore_case: bool = False,
) -> pd.DataFrame:
    """Match `data` ("code" + field columns) to existing rows: adds "id", "action"
    (insert | update | same), "<column>__db" and "<column>__diff" columns; counts the summary.
    With `ignore_case` (customer ids) a row matches the record whose code differs only in case,
    and that record keeps its own spelling."""
    key = data["code"].str.lower() if ignore_case else data["code"]
    existing = fetch_by_codes(
        job.session, table, key, ["id", *[f.column for f in fields], *extra], ignore_case=ignore_case
    )
    if existing.empty:
        plan = data.copy()
        plan["id"] = np.nan
        for name in extra:
            plan[name] = None
        plan["action"] = "insert"
        for f in fields:
            plan[f"{f.column}__diff"] = False
    else:
        existing = existing.rename(columns={"code": "_key", **{f.column: f"{f.column}__db" for f in fields}})
        plan = data.assign(_key=key).merge(existing, on="_key", how="left", validate="many_to_one")
        plan = plan.drop(columns="_key")
        is_new = plan["id"].isna().to_numpy()
        changed = np.zeros(len(plan), dtype=bool)
        for f in fields:
            diff = ~_same(plan[f.column], plan[f"{f.column}__db"], f.type) & ~is_new
            plan[f"{f.column}__diff"] = diff
            changed |= diff
        plan["action"] = np.where(is_new, "insert", np.where(changed, "update", "same"))
    action = plan["action"].to_numpy()
    job.summary.inserted = int((action == "insert").sum())
    job.summary.updated = int((action == "update").sum())
    job.summary.unchanged = int((action == "same").sum())
    return plan


def apply_plan(
    job: Job,
    table: Table,
    plan: pd.DataFrame,
    fields: list[Field],
    insert_extra: Mapping[str, Any],
    *,
    insert_order: np.ndarray | None = None,
) -> None:
    """Insert the new rows (with `insert_extra` values; in `insert_order`, positions of `plan`'s
    rows, when given) and update the changed ones."""
    if job.dry_run:
        return
    action = plan["action"].to_numpy()
    inserting = action == "insert"
    new = plan.loc[inserting, ["code", *[f.column for f in fields]]]
    for name, value in insert_extra.items():
        new[name] = value
    order_of_new = None
    if insert_order is not None:  # plan positions -> positions among the new rows
        order_of_new = (np.cumsum(inserting) - 1)[insert_order[inserting[insert_order]]]
    bulk_insert(job, table, new, span=(0.4, 0.9), label="Adding", row_order=order_of_new)
    changed = plan.loc[action == "update", ["id", *[f.column for f in fields]]]
    bulk_update(job, table, changed, [f.column for f in fields])
