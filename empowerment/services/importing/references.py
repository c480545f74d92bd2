"""Records a file refers to: customers and locations are created when unknown, employees must exist."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy import Table, func, select

from empowerment import settings
from empowerment.models import Customer, Employee, Location, search_key
from empowerment.models import table as table_of
from empowerment.services.importing.job import Job
from empowerment.services.importing.lookup import fetch_all, fetch_by_codes, ids_for, isin
from empowerment.services.importing.writing import bulk_insert


def customer_keys(codes: pd.Series) -> pd.Series:
    """Customer ids are matched ignoring case ("c00002" is C00002), like `lookups.customer_by_code`."""
    return codes.str.lower()


def ensure_customers(job: Job, codes: pd.Series, times: pd.Series) -> pd.Series:
    """Customer id per row, matched ignoring case; unknown customers are created ("Customer
    <id>", spelt as on their first row) and counted."""
    table = table_of(Customer)
    positions, distinct = pd.factorize(customer_keys(codes))
    distinct = np.asarray(distinct, dtype=object)
    found = fetch_by_codes(job.session, table, distinct, ["id"], ignore_case=True)
    unknown = ~isin(distinct, found["code"])
    if unknown.any():
        # Earliest time and first spelling per distinct id (position -1 marks empty cells): the
        # first row of each id found on integer positions, so only those cells become Python strings.
        first = pd.Series(times.to_numpy()).groupby(positions).min().reindex(range(len(distinct)))
        first_rows = pd.Series(positions).drop_duplicates()
        first_rows = first_rows[first_rows.to_numpy() >= 0]
        spelling = pd.Series(codes.iloc[first_rows.index.to_numpy()].to_numpy(dtype=object),
                             index=first_rows.to_numpy()).reindex(range(len(distinct)))
        first_seen = pd.Series(first.to_numpy()[unknown], index=pd.Index(spelling.to_numpy()[unknown]))
        job.summary.customers_created = len(first_seen)
        if not job.dry_run:
            new = pd.DataFrame(
                {
                    "code": first_seen.index.astype(object),
                    "name": "Customer " + first_seen.index.astype(str),
                    "search_name": ("Customer " + first_seen.index.astype(str)).map(search_key),
                    "first_seen_at": first_seen.to_numpy(),
                    "created_at": job.now,
                    "created_by_id": job.actor_id,
                }
            )
            created = _insert_and_read_back(job, table, new, span=(0.3, 0.4), label="Creating customers")
            created["code"] = customer_keys(created["code"].astype(str))
            found = pd.concat([found, created], ignore_index=True)
    return ids_for(codes, found, (positions, distinct))


def _insert_and_read_back(
    job: Job, table: Table, new: pd.DataFrame, *, span: tuple[float, float], label: str
) -> pd.DataFrame:
    """Insert `new` and read back the ids of its codes: only rows above the highest id before
    the insert are read (ids only grow; a concurrent writer's rows are told apart by their
    codes), instead of looking up every code in a table that may hold millions."""
    conn = job.session.connection()
    before = conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    bulk_insert(job, table, new, span=span, label=label)
    rows = conn.execute(select(table.c.code, table.c.id).where(table.c.id > before)).all()
    codes, ids = (list(column) for column in zip(*rows, strict=True)) if rows else ([], [])
    found = pd.DataFrame({"code": pd.Series(codes, dtype=object), "id": pd.Series(ids, dtype="float64")})
    return found[isin(found["code"], new["code"])].reset_index(drop=True)


def match_named(values: pd.Series, existing: pd.DataFrame) -> dict[str, float]:
    """Team/location cells -> id, matching the code first, else a unique name."""
    out: dict[str, float] = {}
    by_code = dict(zip(existing["code"], existing["id"], strict=True))
    names = existing["name"].value_counts()
    by_name = {n: i for n, i in zip(existing["name"], existing["id"], strict=True) if names.get(n, 0) == 1}
    for value in values.dropna().unique():
        if value in by_code:
            out[value] = float(by_code[value])
        elif value in by_name:
            out[value] = float(by_name[value])
    return out


def ensure_locations(job: Job, cells: pd.Series) -> pd.Series:
    """Location id per row (NaN where the cell is empty or, in a dry run, not yet created)."""
    table = table_of(Location)
    existing = fetch_all(job.session, table, ["id", "code", "name"])
    ids = match_named(cells, existing)
    unknown = [v for v in cells.dropna().unique() if v not in ids]
    job.summary.locations_created += len(unknown)
    if unknown and not job.dry_run:
        # Fixed at creation, in the installation's currency (the fast insert paths skip model defaults).
        new = pd.DataFrame({"code": unknown, "name": unknown, "currency": settings.currency()})
        bulk_insert(job, table, new, span=(0.3, 0.35), label="Creating locations")
        created = fetch_by_codes(job.session, table, unknown, ["id"])
        ids.update(dict(zip(created["code"], created["id"].astype(float), strict=True)))
    return cells.map(ids).astype("float64")


def check_employees(job: Job, column: str) -> pd.Series:
    """Employee id per row for `column`; unknown ids are problems."""
    codes = job.frame[column]
    found = fetch_by_codes(job.session, table_of(Employee), codes, ["id"])
    ids = ids_for(codes, found)
    unknown = (codes.notna() & ids.isna()).to_numpy()
    job.problems.add_mask(
        job.frame, unknown, column, job.raw[column], "unknown employee; import the employees file first"
    )
    return ids
