"""One importer per kind: the checked file becomes rows of the kind's table (and its references).

Gestures have rules of their own, in `gestures`."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from sqlalchemy import bindparam, update

from empowerment.models import Customer, Employee, Gesture, Incident, Team, Transaction, search_key
from empowerment.models import table as table_of
from empowerment.services import outcomes
from empowerment.services.importing import writing
from empowerment.services.importing.amounts import customer_currencies, in_minor_units
from empowerment.services.importing.gestures import import_gestures
from empowerment.services.importing.job import Job
from empowerment.services.importing.lookup import fetch_all, fetch_by_codes
from empowerment.services.importing.plan import Field, apply_plan, plan_rows
from empowerment.services.importing.rates import import_exchange_rates
from empowerment.services.importing.references import (
    check_employees,
    ensure_customers,
    ensure_locations,
    match_named,
)
from empowerment.services.importing.validation import check_duplicate_ids
from empowerment.services.importing.values import as_us
from empowerment.services.importing.writing import bulk_insert, bulk_update


def import_customers(job: Job) -> None:
    f = job.frame
    job.problems.raise_if_any(job.filename)
    data = pd.DataFrame({"code": f["customer_id"], "name": f["name"]})
    fields = [Field("name", "name", "str")]
    for optional in ("segment", "email", "phone"):
        if job.has(optional):
            data[optional] = f[optional]
            fields.append(Field(optional, optional, "str"))
    table = table_of(Customer)
    plan = plan_rows(job, table, data, fields, ignore_case=True)  # "c00002" is C00002
    searched = plan["name"].map(search_key)  # the tablet's search column follows the name
    inserted, updated = (plan["action"] == "insert").to_numpy(), (plan["action"] == "update").to_numpy()
    # only the inserted rows' keys: a Series set on an empty frame would give it rows of its own
    apply_plan(job, table, plan, fields, {"created_at": job.now, "created_by_id": job.actor_id,
                                          "search_name": searched[inserted]})
    if not job.dry_run:
        bulk_update(job, table, pd.DataFrame({"id": plan.loc[updated, "id"], "search_name": searched[updated]}),
                    ["search_name"])


def import_employees(job: Job) -> None:
    f = job.frame
    job.problems.raise_if_any(job.filename)
    team_ids = _team_ids(job)
    data = pd.DataFrame(
        {
            "code": f["employee_id"],
            "name": f["name"],
            "role": f["role"],
            "team_id": f["team"].map(team_ids).astype("float64"),
        }
    )
    fields = [
        Field("name", "name", "str"),
        Field("role", "role", "str"),
        Field("team_id", "team", "int"),
    ]
    table = table_of(Employee)
    plan = plan_rows(job, table, data, fields)
    apply_plan(
        job,
        table,
        plan,
        fields,
        {"active": True, "pin_failed_attempts": 0, "created_at": job.now},
    )


def _team_ids(job: Job) -> dict[str, float]:
    """Team cell -> team id. Unknown teams are created at the location given on their first row;
    existing teams stay as they are (a warning counts the rows that disagree about the location)."""
    f = job.frame
    teams = fetch_all(job.session, table_of(Team), ["id", "code", "name", "location_id"])
    team_ids = match_named(f["team"], teams)
    team_location = dict(zip(teams["id"].astype(float), teams["location_id"], strict=True))

    no_team_location = (f["team"].isna() & f["location"].notna()).sum()
    if no_team_location:
        job.summary.warnings.append(
            f"{no_team_location:,} row{'s' if no_team_location > 1 else ''} give a location but "
            "no team; an employee's location is their team's, so it was not recorded."
        )
    with_team = f[f["team"].notna()]
    location_ids = ensure_locations(job, with_team["location"])
    known = with_team["team"].isin(team_ids.keys())
    file_location = location_ids[known]
    app_location = with_team.loc[known, "team"].map(team_ids).map(team_location)
    disagree = int(
        (file_location.notna() & (file_location.astype(float) != pd.to_numeric(app_location))).sum()
    )
    if disagree:
        job.summary.warnings.append(
            f"{disagree:,} row{'s' if disagree > 1 else ''} give a location other than their "
            "team's location in the app; teams were left as they are."
        )
    unknown = with_team[~known]
    if not unknown.empty:
        firsts = unknown.assign(location_id=location_ids[~known]).drop_duplicates("team")
        job.summary.teams_created = len(firsts)
        if not job.dry_run:
            team_ids.update(_create_teams(job, firsts))
    return team_ids


def _create_teams(job: Job, firsts: pd.DataFrame) -> dict[str, float]:
    new = pd.DataFrame(
        {
            "code": firsts["team"].to_numpy(dtype=object),
            "name": firsts["team"].to_numpy(dtype=object),
            "location_id": firsts["location_id"].to_numpy(),
        }
    )
    bulk_insert(job, table_of(Team), new, span=(0.35, 0.4), label="Creating teams")
    created = fetch_by_codes(job.session, table_of(Team), new["code"], ["id"])
    return dict(zip(created["code"], created["id"].astype(float), strict=True))


def import_transactions(job: Job) -> None:
    f = job.frame
    in_minor_units(job, "amount", *customer_currencies(job, f["customer_id"]))  # the customer's location's
    if job.problems:
        _check_ids_now(job)  # every problem of a refused file is listed at once
    job.problems.raise_if_any(job.filename)
    customer_ids = ensure_customers(job, f["customer_id"], f["occurred_at"])
    data = pd.DataFrame(
        {
            "code": f["transaction_id"],
            "customer_id": customer_ids,
            "occurred_at": f["occurred_at"],
            "amount_cents": f["amount"],
        }
    )
    fields = [
        Field("customer_id", "customer_id", "int"),
        Field("occurred_at", "occurred_at", "time"),
        Field("amount_cents", "amount", "int"),
    ]
    table = table_of(Transaction)
    plan = plan_rows(job, table, data, fields)
    action = plan["action"].to_numpy()
    # many new rows: written in the order their indexes build fastest (taken a chunk at a time,
    # while the database writes the previous chunk); a file imported again sorts nothing
    many_new = int((action == "insert").sum()) >= writing.REBUILD_INDEXES_FROM_ROWS
    order = _index_order(data) if many_new and not job.dry_run else None
    # A big load of new rows only: the codes' unique index, built again after the insert, refuses
    # a duplicate in one sort (5M rows: 1-3 s less than hashing them first); the readable
    # problems are worked out only then. Otherwise (a row matched an existing code) now.
    all_new = bool((action == "insert").all())
    index_checks_ids = (not job.ids_checked and all_new
                        and writing.will_rebuild_indexes(job.session.connection(), table, len(plan)))
    if not index_checks_ids:
        _check_ids_now(job)
        job.problems.raise_if_any(job.filename)
    if job.dry_run:
        return
    changed = action != "same"
    inserts_only = bool(changed.any()) and not (action == "update").any()
    try:
        if inserts_only:  # the outcomes are worked out while the rows go in, from memory
            new = plan.loc[action == "insert"]
            rows = pd.DataFrame({"customer_id": new["customer_id"].to_numpy(dtype="int64"),
                                 "occurred_at": as_us(new["occurred_at"]).to_numpy(),
                                 "amount_cents": new["amount_cents"].to_numpy(dtype="int64")})
            with outcomes.refreshed_around_insert(job.session, pd.unique(rows["customer_id"].to_numpy()), rows):
                apply_plan(job, table, plan, fields, {}, insert_order=order)
        else:
            apply_plan(job, table, plan, fields, {}, insert_order=order)
            if changed.any():
                # a transaction moved to another customer changes the outcomes of both
                before = plan["customer_id__db"] if "customer_id__db" in plan else pd.Series(dtype="float64")
                touched = np.concatenate([
                    plan.loc[changed, "customer_id"].to_numpy(dtype="float64"),
                    pd.to_numeric(before[changed] if len(before) else before).to_numpy(dtype="float64")])
                outcomes.refresh(job.session, touched, transactions_changed=True)
    except writing.INTEGRITY_ERRORS:
        if index_checks_ids:
            _check_ids_now(job)
            job.problems.raise_if_any(job.filename)  # rolls the unit back, with the usual problems
        raise


def _check_ids_now(job: Job) -> None:
    if not job.ids_checked:
        check_duplicate_ids(job.frame, job.spec, job.problems)
        job.ids_checked = True


# Kinds whose ids a big load may leave to the database's unique index (migration 0013).
IDS_CHECKED_BY_THE_DATABASE = frozenset({"transactions"})


def _index_order(data: pd.DataFrame) -> np.ndarray | None:
    """A big load: the row positions in about the order of the (customer, time) index, so it is
    built again from presorted rows (4x cheaper than from rows at random; the unique index on
    codes sorts bytewise on both databases, migration 0019); None when the file is in that order
    already. Only an order of writing: the rows are the same, their ids (and so an export, which
    lists by id) follow it; smaller files keep the file's order. Ties are left as they fall."""
    if len(data) < 2:
        return None
    customer = data["customer_id"].to_numpy(dtype="float64", na_value=np.nan)
    times = data["occurred_at"].to_numpy(dtype="datetime64[us]").view("int64")
    if np.isnan(customer).any() or (times == np.iinfo(np.int64).min).any():
        return None  # refused later anyway; nothing to gain
    customer_key = customer.astype(np.int64)
    customer_key -= customer_key.min()
    times = times - times.min()
    customer_span, time_span = int(customer_key.max()) + 1, int(times.max()) + 1
    while customer_span * time_span >= 2**62:  # one int64 key: coarser times until it fits
        times >>= 8
        time_span = (time_span >> 8) + 1
    order = np.argsort(customer_key * time_span + times)
    if (np.diff(order) == 1).all():
        return None  # already in order
    return order


def import_incidents(job: Job) -> None:
    f = job.frame
    employee_ids = check_employees(job, "employee_id") if job.has("employee_id") else None
    job.problems.raise_if_any(job.filename)
    customer_ids = ensure_customers(job, f["customer_id"], f["occurred_at"])
    data = pd.DataFrame(
        {
            "code": f["incident_id"],
            "customer_id": customer_ids,
            "occurred_at": f["occurred_at"],
            "category": f["category"],
        }
    )
    fields = [
        Field("customer_id", "customer_id", "int"),
        Field("occurred_at", "occurred_at", "time"),
        Field("category", "category", "str"),
    ]
    if job.has("location"):
        data["location_id"] = ensure_locations(job, f["location"])
        fields.append(Field("location_id", "location", "int"))
    if job.has("description"):
        data["description"] = f["description"]
        fields.append(Field("description", "description", "str"))
    if employee_ids is not None:
        data["employee_id"] = employee_ids
        fields.append(Field("employee_id", "employee_id", "int"))
    table = table_of(Incident)
    plan = plan_rows(job, table, data, fields)
    apply_plan(job, table, plan, fields, {"created_at": job.now})
    if not job.dry_run:
        _move_gestures_with_their_incidents(job, plan)
        changed = plan["action"].to_numpy() != "same"
        if changed.any():
            moved = plan.loc[changed & (plan["action"].to_numpy() == "update"), "id"].to_numpy(dtype="float64")
            outcomes.refresh(job.session, plan.loc[changed, "customer_id"].to_numpy(dtype="float64"),
                             incident_ids=moved)


def _move_gestures_with_their_incidents(job: Job, plan: pd.DataFrame) -> None:
    """A gesture's customer is its incident's: follow incidents that moved to another customer."""
    moved = plan[(plan["action"] == "update") & plan["customer_id__diff"]]
    if moved.empty:
        return
    gestures = table_of(Gesture)
    stmt = (
        update(gestures)
        .where(gestures.c.incident_id == bindparam("_incident"))
        .values(customer_id=bindparam("_customer"))
    )
    job.session.connection().execute(
        stmt,
        [
            {"_incident": int(i), "_customer": int(c)}
            for i, c in zip(moved["id"], moved["customer_id"], strict=True)
        ],
    )


IMPORTERS: dict[str, Callable[[Job], None]] = {
    "employees": import_employees,
    "customers": import_customers,
    "transactions": import_transactions,
    "incidents": import_incidents,
    "gestures": import_gestures,
    "exchange_rates": import_exchange_rates,
}
