"""Matching a file's rows to existing records by id: insert, update or leave as they are."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Table

from empowerment.services.importing.job import Job
from empowerment.services.importing.lookup import fetch_by_codes, positions
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


def _joined(data: pd.DataFrame, key: pd.Series, existing: pd.DataFrame) -> pd.DataFrame:
    """`data` with the columns of the `existing` row whose code is its key (missing where none),
    as a left merge on the key would give them, from one hash lookup of the keys (Arrow's, for
    strings) instead of the merge's factorizing and sorting of both sides."""
    # existing codes are distinct: every table's codes have a unique index, and a lookup
    # ignoring case keeps one record per lower-cased code
    where = positions(key, existing["code"])
    plan = data.reset_index(drop=True)
    missing = bool((where < 0).any())
    columns = {}
    for name in existing.columns.drop("code"):
        values = existing[name]
        if isinstance(values.dtype, pd.api.extensions.ExtensionDtype):
            taken = values.array.take(where, allow_fill=missing)
        else:  # -1 -> NaN (ints become floats, as a merge's missing rows make them)
            taken = pd.api.extensions.take(values.to_numpy(), where, allow_fill=missing)
        columns[name] = pd.Series(taken, index=plan.index, name=name)
    return pd.concat([plan, pd.DataFrame(columns, index=plan.index)], axis=1)


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
        existing = existing.rename(columns={f.column: f"{f.column}__db" for f in fields})
        plan = _joined(data, key, existing)
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
