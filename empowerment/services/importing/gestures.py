"""Gestures are history: recorded as they were (source "import", status "logged", no budget).

Budget limits are not applied; gestures above the customer daily cap are counted in a warning. A
gesture logged in the app (source other than "import") may be re-imported unchanged but not changed
by an import, because its ledger entries would no longer match.
"""

from __future__ import annotations

import sys

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from empowerment import access, settings
from empowerment.clock import business_today
from empowerment.errors import MissingExchangeRate
from empowerment.models import BudgetPolicy, Employee, Gesture, GestureStatus, Incident, Location, Role
from empowerment.models import table as table_of
from empowerment.models.lookups import MoneyHere, business_money, business_zone, policy_in_force, policy_terms
from empowerment.money import format_money
from empowerment.services.importing.amounts import employee_currencies, in_minor_units
from empowerment.services.importing.job import Job
from empowerment.services.importing.lookup import fetch_by_codes, ids_for
from empowerment.services.importing.plan import Field, apply_plan, plan_rows
from empowerment.services.importing.references import check_employees
from empowerment.services.incidents import resolve_where_gestures

DEFAULT_CUSTOMER_DAILY_CAP_CENTS = 200_000  # models.BudgetPolicy.customer_daily_cap_cents default


def import_gestures(job: Job) -> None:
    f = job.frame
    incidents = fetch_by_codes(
        job.session, table_of(Incident), f["incident_id"], ["id", "customer_id"]
    )
    incident_ids = ids_for(f["incident_id"], incidents)
    unknown = (f["incident_id"].notna() & incident_ids.isna()).to_numpy()
    job.problems.add_mask(
        f, unknown, "incident_id", job.raw["incident_id"], "unknown incident; import the incidents file first"
    )
    customer_ids = ids_for(
        f["incident_id"], incidents[["code", "customer_id"]].rename(columns={"customer_id": "id"})
    )
    employee_ids = check_employees(job, "employee_id")
    _refuse_gestures_of_non_spenders(job)
    in_minor_units(job, "cost", *employee_currencies(job, f["employee_id"]))  # the giver's location's

    data = pd.DataFrame(
        {
            "code": f["gesture_id"],
            "incident_id": incident_ids,
            "customer_id": customer_ids,
            "employee_id": employee_ids,
            "occurred_at": f["occurred_at"],
            "type": f["type"],
            "cost_cents": f["cost"],
        }
    )
    fields = [
        Field("incident_id", "incident_id", "int"),
        Field("customer_id", "incident_id", "int"),
        Field("employee_id", "employee_id", "int"),
        Field("occurred_at", "occurred_at", "time"),
        Field("type", "type", "str"),
        Field("cost_cents", "cost", "int"),
    ]
    if job.has("note"):
        data["note"] = f["note"]
        fields.append(Field("note", "note", "str"))
    table = table_of(Gesture)
    plan = plan_rows(job, table, data, fields, extra=("source",))
    _refuse_changes_to_app_gestures(job, plan, fields)
    job.problems.raise_if_any(job.filename)
    _warn_above_daily_cap(job, data)
    apply_plan(
        job,
        table,
        plan,
        fields,
        {
            "status": GestureStatus.LOGGED.value,
            "source": "import",
            "created_at": job.now,
            "created_by_id": job.actor_id,
            "needs_review": False,
            "featured": False,
        },
    )
    if not job.dry_run:  # an imported gesture resolves its incident, as one logged at the tablet does
        resolve_where_gestures(job.session)


def _refuse_gestures_of_non_spenders(job: Job) -> None:
    """Segregation of duties holds for imports too: only the roles that hold a recovery budget
    (`access.holds_a_budget`) give gestures; HR, CX leads and admins do not."""
    codes = job.frame["employee_id"]
    found = fetch_by_codes(job.session, table_of(Employee), codes, ["role"])
    if found.empty:
        return
    spenders = {role.value for role in Role if access.holds_a_budget(role)}
    role_of = dict(zip(found["code"], found["role"].astype(str).str.lower(), strict=True))
    roles = codes.map(role_of)
    mask = (roles.notna() & ~roles.isin(spenders)).to_numpy()
    job.problems.add_mask(job.frame, mask, "employee_id", job.raw["employee_id"],
                          "HR, CX leads and admins do not give recovery gestures; give the staff member "
                          "or manager who made it")


def _refuse_changes_to_app_gestures(job: Job, plan: pd.DataFrame, fields: list[Field]) -> None:
    """A gesture logged in the app may be re-imported unchanged, never changed: its ledger
    entries would no longer match."""
    from_app = (
        (plan["action"] == "update") & plan["source"].notna() & (plan["source"] != "import")
    ).to_numpy()
    if not from_app.any():
        return
    seen: set[str] = set()
    for fld in fields:
        if fld.csv in seen:
            continue
        seen.add(fld.csv)
        mask = from_app & plan[f"{fld.column}__diff"].to_numpy(dtype=bool)
        job.problems.add_mask(
            job.frame,
            mask,
            fld.csv,
            job.raw[fld.csv],
            f"this gesture was logged in the app; an import may not change its {fld.csv} "
            "(its budget ledger would no longer match)",
        )


def _warn_above_daily_cap(job: Job, data: pd.DataFrame) -> None:
    """Imported gestures are history: limits are not applied, but the overs are counted, each
    against its giver's cap (the policy in force for them today, `models.lookups.policy_in_force`:
    their own, their team's at its location, their role's or everyone's) and said in the currency
    of the giver's location (`business_money`)."""
    order = data.sort_values("occurred_at", kind="stable")
    day = order["occurred_at"].dt.floor("D")
    running = order.groupby(
        [order["employee_id"], order["customer_id"], day], dropna=False
    )["cost_cents"].cumsum().astype("float64")
    lowest = job.session.scalar(select(func.min(BudgetPolicy.customer_daily_cap_cents)))
    floor = DEFAULT_CUSTOMER_DAILY_CAP_CENTS if lowest is None else min(int(lowest), DEFAULT_CUSTOMER_DAILY_CAP_CENTS)
    if job.session.scalar(select(Location.id).where(Location.currency != settings.currency()).limit(1)):
        floor = 0  # a converted cap may be fewer minor units than any policy's own
    maybe = order["employee_id"].notna() & (running > floor)  # no cap is lower: only these can be over
    if not maybe.any():
        return
    caps = {int(e): _customer_daily_cap(job.session, int(e)) for e in pd.unique(order.loc[maybe, "employee_id"])}
    givers = order.loc[maybe, "employee_id"].astype("int64")
    over = running[maybe] > givers.map(lambda e: caps[e][0]).astype("float64")
    overs = givers[over].map(lambda e: caps[e]).value_counts(sort=False)
    for (cap, money), count in sorted(overs.items(), key=lambda item: (item[0][1].currency, item[0][0])):
        count = int(count)
        job.summary.warnings.append(
            f"{count:,} gesture{'s' if count > 1 else ''} in this file "
            f"{'are' if count > 1 else 'is'} above the {format_money(cap, money.currency, money.locale)} "
            "daily cap per employee per customer; imported gestures are recorded as history, so limits "
            "were not applied."
        )


def _customer_daily_cap(session: Session, employee_id: int) -> tuple[int, MoneyHere]:
    """The giver's cap in force today (the model's default with no policy), and the currency and
    locale of their location, in whose minor units the cap and their gestures' costs are."""
    employee = session.get(Employee, employee_id)
    assert employee is not None  # checked by `check_employees` before any warning
    today = business_today(business_zone(session, employee))
    policy = policy_in_force(session, employee, today)
    cap = DEFAULT_CUSTOMER_DAILY_CAP_CENTS
    if policy is not None:
        try:  # in the giver's currency (a policy for everyone is kept in the installation's)
            cap = policy_terms(session, policy, employee, today).customer_daily_cap_cents
        except MissingExchangeRate:
            cap = sys.maxsize  # only a warning: not counted without a rate, never at a made-up one
    return cap, business_money(session, employee)
