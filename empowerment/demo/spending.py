"""Gestures for the recovered incidents, and the budgets and ledger that pay for them.

Budgets are monthly; every (employee, month) gets a budget row with its ALLOCATION entry and one
SPEND entry per paid gesture, so `Budget.remaining_cents` equals the ledger sum by construction.
A gesture that would overdraw its month (or eat into money reserved for the few live gestures
logged through the service at the end) becomes a zero-cost personal note instead: it still
counts as a recovery, so the causal story is untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from empowerment.demo.model import DAY, Simulation
from empowerment.models import GestureType

GESTURE_TYPES = tuple(t.value for t in GestureType)
# refund, comp, upgrade, gift, voucher, personal_note, time, other
TYPE_SHARE = np.array([0.12, 0.25, 0.10, 0.12, 0.12, 0.14, 0.12, 0.03])
# Per incident category, how much likelier each type is (categories in INCIDENT_CATEGORIES order).
TYPE_TILT = np.ones((10, 8))
TYPE_TILT[0, 2] = 3.0  # Room not ready -> upgrade
TYPE_TILT[2, 0] = 4.0  # Billing error -> refund
TYPE_TILT[3, 6] = 2.0  # Long wait -> time
TYPE_TILT[4, 1] = 3.0  # Food & drink -> comp
TYPE_TILT[6, 5] = 3.0  # Staff attitude -> personal note
TYPE_TILT[8, 6] = 3.0  # Lost item -> time
REFUND, COMP, UPGRADE, GIFT, VOUCHER, NOTE, TIME, OTHER = range(8)
HIGH_COST_SHARE = 0.012  # "a handful" above the review threshold
DUPLICATE_SHARE = 0.005  # logged twice by mistake, then voided
REVIEW_LAG_DAYS = 10  # gestures needing review older than this have been reviewed


@dataclass(frozen=True)
class PolicyTable:
    """Policy rows and, per (employee, month), the id of the policy in force."""

    rows: pd.DataFrame  # id, name, team_id, role, allowance_cents, review/approval/cap, effective_from
    by_employee_month: np.ndarray  # [employee index, month index] -> policy row position, -1 none


def month_index(times: np.ndarray, first_month: np.datetime64) -> np.ndarray:
    return (times.astype("datetime64[M]") - first_month).astype(np.int64)


def _row_choice(rng: np.random.Generator, probabilities: np.ndarray) -> np.ndarray:
    cum = np.cumsum(probabilities, axis=1)
    cum /= cum[:, -1:]
    return (rng.random(len(probabilities))[:, None] > cum).sum(1).clip(0, probabilities.shape[1] - 1)


def _costs(rng: np.random.Generator, types: np.ndarray) -> np.ndarray:
    n = types.size

    def lognormal(median_dollars: float, sigma: float = 0.5) -> np.ndarray:
        return median_dollars * np.exp(rng.normal(0, sigma, n))

    dollars = np.select(
        [types == REFUND, types == COMP, types == UPGRADE, types == GIFT, types == VOUCHER,
         types == OTHER],
        [lognormal(60).clip(10, 150),
         np.round(lognormal(35).clip(8, 150) * 2) / 2,
         np.where(rng.random(n) < 0.55, 0, lognormal(70).clip(20, 150)),
         lognormal(30, 0.4).clip(10, 120),
         rng.choice([25.0, 50.0, 75.0, 100.0], n, p=[0.3, 0.4, 0.15, 0.15]),
         lognormal(25).clip(5, 100)],
        default=0.0,
    )
    dollars = np.where(types == COMP, dollars, np.round(dollars))  # comps may end in .50
    return np.round(dollars * 100).astype(np.int64)


def plan_gestures(
    rng: np.random.Generator,
    sim: Simulation,
    start: np.datetime64,
    first_month: np.datetime64,
    policies: PolicyTable,
    manager_of_employee: np.ndarray,  # reviewer / voider per employee index
    reserve_current_month: dict[int, int],  # employee index -> cents kept free this month
) -> pd.DataFrame:
    """One row per gesture (voided duplicates included), sorted by time."""
    incident = np.flatnonzero(sim.incident_recovered)
    n = incident.size
    employee = sim.incident_employee[incident]
    time_s = np.minimum(sim.incident_time_s[incident] + rng.integers(5 * 60, 2 * 3600, n), sim.end_s)
    types = _row_choice(rng, TYPE_SHARE[None, :] * TYPE_TILT[sim.incident_category[incident]])
    cost = _costs(rng, types)
    month = month_index(start + time_s.astype("timedelta64[s]"), first_month)
    policy_pos = policies.by_employee_month[employee, month]
    rows = policies.rows
    review = rows["review_above_cents"].to_numpy(dtype=np.int64)[policy_pos]
    approval = rows["approval_above_cents"].to_numpy(dtype=np.int64)[policy_pos]
    allowance = rows["allowance_cents"].to_numpy(dtype=np.int64)[policy_pos]

    high = (cost > 0) & (rng.random(n) < HIGH_COST_SHARE)
    high_cost = review + 100 + np.floor(rng.random(n) * (approval - review - 100) / 100) * 100
    cost = np.where(high, high_cost.astype(np.int64), np.minimum(cost, review))

    frame = pd.DataFrame({
        "incident": incident, "employee": employee, "time_s": time_s, "type": types,
        "cost_cents": cost, "month": month, "allowance": allowance, "review": review,
    }).sort_values(["time_s", "incident"], kind="stable").reset_index(drop=True)

    # Never overdraw: the first gesture that would, becomes a (free) personal note; repeat.
    current = int(month.max()) if n else 0
    reserved = frame["employee"].map(reserve_current_month).fillna(0).astype(np.int64)
    limit = frame["allowance"] - np.where(frame["month"] == current, reserved, 0)
    while True:
        spent = frame.groupby(["employee", "month"], sort=False)["cost_cents"].cumsum()
        over = spent > limit
        if not over.any():
            break
        first_over = over[over].groupby([frame["employee"], frame["month"]]).head(1).index
        frame.loc[first_over, "cost_cents"] = 0
        frame.loc[first_over, "type"] = NOTE
    frame["needs_review"] = frame["cost_cents"] > frame["review"]

    # A few were logged twice by mistake and the copy voided within the hour.
    month_total = frame.groupby(["employee", "month"])["cost_cents"].transform("sum")
    candidates = np.flatnonzero(
        (frame["cost_cents"] > 0) & ~frame["needs_review"]
        & (month_total + frame["cost_cents"] <= limit)
        & (frame["time_s"] + 3600 < sim.end_s)
    )
    duplicates = rng.choice(candidates, size=min(candidates.size, int(round(n * DUPLICATE_SHARE))),
                            replace=False) if candidates.size else np.zeros(0, dtype=np.int64)
    # at most one copy per (employee, month) keeps the month within its limit
    dup = frame.loc[np.sort(duplicates)].drop_duplicates(["employee", "month"]).copy()
    dup["time_s"] += 90
    dup["voided_s"] = dup["time_s"] + rng.integers(15 * 60, 3600, len(dup))
    frame["voided_s"] = -1
    frame = pd.concat([frame, dup], ignore_index=True)
    frame["voided"] = frame["voided_s"] >= 0
    frame = frame.sort_values(["time_s", "incident", "voided"], kind="stable").reset_index(drop=True)

    # Reviews of the older large gestures.
    n = len(frame)
    reviewed = frame["needs_review"] & (frame["time_s"] < sim.end_s - REVIEW_LAG_DAYS * DAY)
    review_lag = (rng.uniform(0.3, 3.0, n) * DAY).astype(np.int64)
    frame["reviewed_s"] = np.where(reviewed, frame["time_s"] + review_lag, -1)
    frame["manager"] = manager_of_employee[frame["employee"].to_numpy()]
    frame["type_name"] = np.take(np.array(GESTURE_TYPES, dtype=object), frame["type"].to_numpy())
    return frame


def plan_budgets(
    gestures: pd.DataFrame,
    budget_employees: np.ndarray,  # employee indexes who hold budgets
    months: list[date],  # first day of each month, first_month .. current month
    policies: PolicyTable,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(budgets, ledger): one budget per employee per month; allocation, spends, reversals."""
    n_months = len(months)
    emp = np.repeat(budget_employees, n_months)
    month = np.tile(np.arange(n_months), budget_employees.size)
    policy_pos = policies.by_employee_month[emp, month]
    allowance = policies.rows["allowance_cents"].to_numpy(dtype=np.int64)[policy_pos]
    budgets = pd.DataFrame({
        "id": np.arange(1, emp.size + 1), "employee": emp, "month": month,
        "policy_pos": policy_pos, "allowance": allowance,
    })
    key = pd.MultiIndex.from_arrays([budgets["employee"], budgets["month"]])
    budget_id = pd.Series(budgets["id"].to_numpy(), index=key)
    gestures["budget_id"] = budget_id.reindex(
        pd.MultiIndex.from_arrays([gestures["employee"], gestures["month"]])
    ).to_numpy()
    net = gestures.loc[~gestures["voided"]].groupby("budget_id")["cost_cents"].sum()
    budgets["remaining_cents"] = budgets["allowance"] - budgets["id"].map(net).fillna(0).astype(np.int64)
    assert (budgets["remaining_cents"] >= 0).all()

    paid = gestures.loc[gestures["cost_cents"] > 0]
    allocation = pd.DataFrame({
        "budget_id": budgets["id"], "entry_type": "allocation", "amount_cents": budgets["allowance"],
        "gesture_row": -1, "time_s": np.nan, "month": budgets["month"], "reverses": -1,
    })
    spends = pd.DataFrame({
        "budget_id": paid["budget_id"].to_numpy(), "entry_type": "spend",
        "amount_cents": -paid["cost_cents"].to_numpy(), "gesture_row": paid.index.to_numpy(),
        "time_s": paid["time_s"].to_numpy(dtype=float), "month": paid["month"].to_numpy(),
        "reverses": -1,
    })
    voided = paid.loc[paid["voided"]]
    reversals = pd.DataFrame({
        "budget_id": voided["budget_id"].to_numpy(), "entry_type": "reversal",
        "amount_cents": voided["cost_cents"].to_numpy(), "gesture_row": voided.index.to_numpy(),
        "time_s": voided["voided_s"].to_numpy(dtype=float), "month": voided["month"].to_numpy(),
        "reverses": voided.index.to_numpy(),  # gesture row whose spend this reverses
    })
    ledger = pd.concat([allocation, spends, reversals], ignore_index=True)
    # Allocations at the start of their month, then everything in time order.
    ledger["sort_time"] = ledger["time_s"].fillna(-1.0)
    ledger = ledger.sort_values(["month", "sort_time", "entry_type"], kind="stable")
    ledger = ledger.reset_index(drop=True)
    ledger["id"] = np.arange(1, len(ledger) + 1)
    spend_id = ledger.loc[ledger["entry_type"] == "spend"].set_index("gesture_row")["id"]
    ledger["reverses_entry_id"] = ledger["reverses"].map(spend_id)
    return budgets, ledger
