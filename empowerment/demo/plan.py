"""Everything the demo writes, computed in memory first (no database): `make_plan`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd

from empowerment.demo import texts
from empowerment.demo.model import WINDOW_DAYS, Simulation, simulate
from empowerment.demo.org import (
    PROPERTIES,
    Org,
    build_customers,
    build_org,
    build_policies,
    months_between,
)
from empowerment.demo.spending import PolicyTable, plan_budgets, plan_gestures

CUSTOMERS_AT_SCALE_1 = 5_000
COMP_LINE_SHARE = 0.25  # comps whose zero-amount line is posted to the customer's bill


@dataclass(frozen=True)
class DemoPlan:
    seed: int
    scale: float
    now: datetime
    start_dt: datetime
    start: np.datetime64  # = start_dt, seconds
    months: list[date]  # first day of each budget month, oldest first
    org: Org
    policies: PolicyTable
    sim: Simulation
    customers: pd.DataFrame
    transactions: pd.DataFrame  # customer (index), time_s, amount; in time order
    incident_order: np.ndarray  # simulation index of incident id 1, 2, ...
    incident_id: np.ndarray  # simulation index -> incident id
    incident_description: list[str | None]  # in id order
    gestures: pd.DataFrame
    gesture_notes: list[str]
    gesture_featured: np.ndarray
    budgets: pd.DataFrame
    ledger: pd.DataFrame

    def at(self, seconds: np.ndarray) -> np.ndarray:
        """Seconds since the window start -> datetime64[s]."""
        return self.start + np.asarray(seconds, dtype=np.int64).astype("timedelta64[s]")


def make_plan(seed: int, scale: float, now: datetime) -> DemoPlan:
    start_dt = datetime.combine((now - timedelta(days=WINDOW_DAYS)).date(), time.min)
    start = np.datetime64(start_dt, "s")
    months = months_between(start_dt, now)
    rng_org, rng_sim, rng_gestures, rng_people, rng_text = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5)
    )
    org_ = build_org(rng_org)
    policies = build_policies(org_, months)
    sim = simulate(
        rng_sim, max(int(round(CUSTOMERS_AT_SCALE_1 * scale)), 50),
        int((now - start_dt).total_seconds()), org_.staffing,
        np.array([p.incident_rate for p in PROPERTIES]),
        np.array([p.price_factor for p in PROPERTIES]),
        np.array([p.visit_share for p in PROPERTIES]),
    )
    gestures = plan_gestures(
        rng_gestures, sim, start, np.datetime64(months[0], "M"), policies, org_.reviewer,
        {index: cents for index, _, _, cents, _ in org_.live},
    )
    gestures = gestures.loc[gestures["month"] < len(months)].reset_index(drop=True)
    employees = org_.employees
    budget_holders = np.flatnonzero(employees["role"].isin(["staff", "manager"]).to_numpy())
    budgets, ledger = plan_budgets(gestures, budget_holders, months, policies)
    customers = build_customers(rng_people, sim, start)

    # Incidents get ids in time order; the simulation's arrays are in (customer, time) order.
    incident_order = np.argsort(sim.incident_time_s, kind="stable")
    incident_id = np.empty(incident_order.size, dtype=np.int64)
    incident_id[incident_order] = np.arange(1, incident_order.size + 1)
    n_incidents = incident_order.size
    variant = rng_text.integers(0, 3, n_incidents).tolist()
    described = (rng_text.random(n_incidents) < 0.85).tolist()
    description = [
        texts.DESCRIPTIONS[c][v] if keep else None
        for c, v, keep in zip(sim.incident_category[incident_order].tolist(), variant, described,
                              strict=True)
    ]

    # Transactions: one per visit, plus zero-amount comp lines posted after some comps (never a
    # "return": only amounts > 0 count).
    comps = gestures.loc[(gestures["type_name"] == "comp") & ~gestures["voided"]
                         & (gestures["time_s"] + 1800 <= sim.end_s)]
    comps = comps.loc[rng_text.random(len(comps)) < COMP_LINE_SHARE]
    transactions = pd.DataFrame({
        "customer": np.concatenate([sim.visit_customer,
                                    sim.incident_customer[comps["incident"].to_numpy()]]),
        "time_s": np.concatenate([sim.visit_time_s, comps["time_s"].to_numpy() + 1800]),
        "amount": np.concatenate([sim.visit_amount_cents, np.zeros(len(comps), np.int64)]),
    }).sort_values(["time_s", "customer"], kind="stable").reset_index(drop=True)

    note_variant = rng_text.integers(0, 6, len(gestures)).tolist()
    notes = [texts.NOTES[t][v % len(texts.NOTES[t])]
             for t, v in zip(gestures["type"].tolist(), note_variant, strict=True)]
    featured = (gestures["reviewed_s"].to_numpy() >= 0) & (rng_text.random(len(gestures)) < 0.3)
    return DemoPlan(
        seed=seed, scale=scale, now=now, start_dt=start_dt, start=start, months=months,
        org=org_, policies=policies, sim=sim, customers=customers, transactions=transactions,
        incident_order=incident_order, incident_id=incident_id,
        incident_description=description, gestures=gestures, gesture_notes=notes,
        gesture_featured=featured, budgets=budgets, ledger=ledger,
    )
