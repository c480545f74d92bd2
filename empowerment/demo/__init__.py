"""Demo data: a realistic hotel group whose recovery gestures have a known, true effect.

`generate_demo(db, seed=7)` fills an EMPTY database (it refuses otherwise; the CLI's
`demo --force` erases first). About 5,000 customers at `scale=1.0`; tests use `scale=0.2`.

The organisation
    3 hotels (Harbour Hotel, Old Town Inn, Airport Lodge), each with 4 teams (Front desk,
    Housekeeping, Restaurant, Concierge); 49 front-line staff, 6 managers (each runs two teams of
    one hotel, linked by `TeamManager`), 1 HR, 1 CX lead, 1 admin. About 15% of staff never use
    their budget (the "empowerment gap"). Budget policies, all monthly: "Standard" (the default:
    400.00 until a year ago, 500.00 since; review above 150.00, approval above 400.00),
    "Managers" (role: 1,500.00; review above 500.00, approval above 1,200.00) and one
    "Concierge (hotel)" team policy per hotel (1,000.00; review above 250.00, approval above
    750.00); every policy caps spend at 2,000.00 per customer per day. Every staff member and
    manager has a budget row for every month of the two years with its allocation, spend and
    reversal ledger entries, so `Budget.remaining_cents` equals its ledger sum.

Sign-ins (also in `DemoSummary.logins`)
    admin / demo-admin (Sam Whitaker, admin)
    hr / demo-hr (Priya Raman, HR)        cx / demo-cx (Lucía Fernández, CX lead)
    manager.harbour, manager.oldtown, manager.airport / demo-manager (Front desk + Concierge)
    manager.harbour.ops, manager.oldtown.ops, manager.airport.ops / demo-manager
        (Housekeeping + Restaurant)
    Every staff member and manager: PIN 1234 on the shared tablet; staff have no username.
    Hashes are computed once per distinct secret and shared (argon2 hashes embed their salt).
    The first Harbour Hotel front-desk staff member is E010 "Amelia Hart".

The generative model (all times in the two years ending now; `model.py` has the code)
    1. Customers: segment (Leisure 45%, Business 25%, Loyalty member 15%, Event guest 15%) and a
       personal visit rate, lognormal around the segment's median (4, 14, 18, 1.5 visits a year).
       First visit uniform-ish over the window (earlier more likely); mostly at a home hotel.
    2. Visits: each is one transaction with amount > 0 (lognormal around the segment's spend,
       cheaper at the Airport Lodge). Without an incident the next visit follows after
       1 + Exponential(mean 365 / rate) whole days, at an afternoon or evening arrival time;
       2% of visits are a customer's last.
    3. Incidents: a visit has one with probability 22% (Harbour), 23% (Old Town), 30% (Airport),
       30 min to 40 h after arrival (never at night). Category from
       `gestures.INCIDENT_CATEGORIES`; the team that receives it depends on the category
       (food -> Restaurant, ...), the person on staff weights (managers receive a few).
    4. Prior frequency f = the customer's purchases in the 365 days before the incident (exactly
       the analysis's `prior_txn_count_365`).
    5. Recovery (selection bias): the receiving employee logs a gesture with probability
       engagement * (0.25 + 0.60 * (1 - exp(-f / 4))) -- staff favour already-loyal customers;
       engagement is 0 for the empowerment-gap staff, about 0.67 on average for the others.
    6. Outcome: P(first purchase strictly after the incident is within 90 days)
           = 0.12 + 0.62 * (1 - exp(-f / 5)) + DEMO_TRUE_UPLIFT * recovered,
       DEMO_TRUE_UPLIFT = 0.12 (additive, +12 percentage points; the same for everyone). The
       next visit is drawn on day 1..89 after the incident's day, or on day 91 or later (35%
       never), accordingly, so the observed "first transaction with amount > 0 strictly after
       the incident, within 90 days" follows the model exactly; zero-amount comp lines posted
       after some incidents never count as a return. A naive recovered-vs-not comparison
       overstates the effect (about +17 points: recovered customers are the loyal ones);
       adjusting for f recovers +12 points on average over seeds (seed 7 happens to give
       about +10 +- 2). `DemoSummary` reports naive and stratified estimates.
    7. Gestures: type by category (a refund for a billing error, a comp for food, ...); cost 0
       (personal note, time, many upgrades) up to 150.00, ~1% between review and approval
       thresholds (flagged for review; reviewed by the manager when older than 10 days); 0.5% are
       a voided duplicate with a reversing ledger entry. A gesture that would overdraw its month
       becomes a free personal note (still a recovery). Four live gestures are logged through
       `gestures.log_gesture` at the end: one waiting for approval (450.00 at the Harbour front
       desk) and two needing review, for the manager queues.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from empowerment.actor import Actor
from empowerment.clock import utc_now
from empowerment.db import Database, upgrade
from empowerment.demo import org
from empowerment.demo.model import (
    DEMO_TRUE_UPLIFT,
    HORIZON_DAYS,
    baseline_return_probability,
    observed_return_within,
    recovery_probability,
)
from empowerment.demo.org import DemoLogin
from empowerment.demo.plan import DemoPlan, make_plan
from empowerment.demo.writing import database_is_empty, erase_database, write_plan
from empowerment.errors import InvalidState
from empowerment.models import GestureStatus, Role
from empowerment.services import outcomes
from empowerment.services.gestures import LogRequest, LogResult, log_gesture
from empowerment.services.passwords import hash_secret

__all__ = [
    "DEMO_TRUE_UPLIFT", "NOT_EMPTY_MESSAGE", "DemoLogin", "DemoSummary",
    "baseline_return_probability", "database_is_empty", "erase_database", "generate_demo",
    "recovery_probability",
]

NOT_EMPTY_MESSAGE = "The database already has data; demo fills only an empty one."
Progress = Callable[[str], None]


@dataclass(frozen=True)
class DemoSummary:
    seed: int
    scale: float
    seconds: float
    locations: int
    teams: int
    employees: int
    staff: int
    managers: int
    customers: int
    transactions: int
    incidents: int
    gestures: int
    recovered_incidents: int
    budgets: int
    ledger_entries: int
    policies: int
    staff_without_gestures: int
    pending_approval: int
    open_reviews: int
    true_uplift: float
    eligible_incidents: int
    naive_return_recovered: float
    naive_return_not_recovered: float
    adjusted_uplift: float  # stratified by prior-visit count: close to true_uplift
    adjusted_uplift_se: float
    logins: tuple[DemoLogin, ...] = field(default_factory=tuple)
    tablet_staff_code: str = org.TABLET_STAFF_CODE
    tablet_staff_name: str = org.TABLET_STAFF_NAME
    staff_pin: str = org.STAFF_PIN

    @property
    def naive_uplift(self) -> float:
        return self.naive_return_recovered - self.naive_return_not_recovered

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["logins"] = [login.as_dict() for login in self.logins]
        data["naive_uplift"] = self.naive_uplift
        return data

    def as_text(self) -> str:
        lines = [
            f"Demo data (seed {self.seed}) created in {self.seconds:.1f} s:",
            f"  {self.locations} hotels, {self.teams} teams, {self.employees} employees "
            f"({self.staff} staff, {self.managers} managers; {self.staff_without_gestures} staff "
            "never used their budget)",
            f"  {self.customers:,} customers, {self.transactions:,} transactions, "
            f"{self.incidents:,} incidents, {self.gestures:,} gestures "
            f"({self.recovered_incidents:,} incidents recovered)",
            f"  {self.policies} policy versions, {self.budgets:,} budgets, "
            f"{self.ledger_entries:,} ledger entries; {self.pending_approval} gesture(s) waiting "
            f"for approval, {self.open_reviews} to review",
            f"  Return within {HORIZON_DAYS} days ({self.eligible_incidents:,} incidents with "
            f"{HORIZON_DAYS} days behind them): recovered {self.naive_return_recovered:.1%}, "
            f"not recovered {self.naive_return_not_recovered:.1%} (naive difference "
            f"{self.naive_uplift:+.1%}; adjusted for prior visits {self.adjusted_uplift:+.1%} "
            f"± {1.96 * self.adjusted_uplift_se:.1%}; true effect {self.true_uplift:+.1%})",
            "Sign in:",
        ]
        for login in self.logins:
            teams = f" - {', '.join(login.teams)}" if login.teams else ""
            lines.append(f"  {login.username:<22} {login.secret:<13} {login.name} ({login.role}){teams}")
        lines.append(
            f"  Shared tablet: any staff member with PIN {self.staff_pin}, e.g. "
            f"{self.tablet_staff_name} ({self.tablet_staff_code}), Harbour Hotel front desk"
        )
        return "\n".join(lines)


def generate_demo(
    db: Database,
    seed: int = 7,
    progress: Progress | None = None,
    *,
    scale: float = 1.0,
    now: datetime | None = None,
) -> DemoSummary:
    """Fill an empty database with the demo organisation (see the module docstring). Upgrades
    the schema to head first; refuses with `InvalidState` if any data is present."""
    started = time.perf_counter()
    say = progress or (lambda _message: None)
    if not database_is_empty(db):
        raise InvalidState(NOT_EMPTY_MESSAGE)
    say("Creating or upgrading the schema")
    upgrade(db)
    if not database_is_empty(db):
        raise InvalidState(NOT_EMPTY_MESSAGE)
    now = (now or utc_now()).replace(microsecond=0)

    say("Simulating the organisation and two years of visits, incidents and recoveries")
    plan = make_plan(seed, scale, now)
    say("Hashing the demo passwords and PIN (once per distinct secret)")
    hashes = {secret: hash_secret(secret) for secret in sorted(set(plan.org.employees["secret"]))}
    say(f"Writing {len(plan.customers):,} customers, {len(plan.transactions):,} transactions, "
        f"{plan.incident_order.size:,} incidents, {len(plan.gestures):,} gestures")
    write_plan(db, plan, hashes, say)
    say("Linking every incident to the purchases after it (the outcomes table)")
    outcomes.rebuild(db, Actor.system("demo"))
    say("Logging a few live gestures for the manager queues")
    live = _log_live_gestures(db, plan)
    summary = _summary(plan, started, live)
    say(f"Done in {summary.seconds:.1f} s")
    return summary


def _adjusted_uplift(prior: np.ndarray, recovered: np.ndarray, returned: np.ndarray
                     ) -> tuple[float, float]:
    """(estimate, standard error) of the effect on the recovered, stratified by prior-visit
    count (capped at 12): what an analysis that adjusts for the confounder should find."""
    frame = pd.DataFrame({"f": np.minimum(prior, 12), "r": recovered, "y": returned.astype(float)})
    cells = frame.groupby(["f", "r"])["y"].agg(["mean", "var", "size"]).unstack()
    cells = cells.dropna()
    if cells.empty:
        return float("nan"), float("nan")
    weights = cells[("size", True)] / cells[("size", True)].sum()
    diff = cells[("mean", True)] - cells[("mean", False)]
    variance = (cells[("var", True)] / cells[("size", True)]
                + cells[("var", False)] / cells[("size", False)])
    return float((weights * diff).sum()), float(np.sqrt((weights**2 * variance).sum()))


def _log_live_gestures(db: Database, plan: DemoPlan) -> list[LogResult]:
    """Through the real service, minutes ago, for in-house guests: one waiting for approval,
    two needing review, one ordinary."""
    org_, sim, emp = plan.org, plan.sim, plan.org.employees
    in_house = sim.visit_time_s >= sim.end_s - 3 * 86_400
    month_start = datetime.combine(plan.now.date().replace(day=1), datetime.min.time())
    results = []
    used: set[int] = set()
    for k, (index, gesture_type, category, cents, note) in enumerate(org_.live):
        hotel = int(org_.teams.loc[int(emp.loc[index, "team"]), "hotel"])
        here = sim.visit_customer[in_house & (sim.visit_hotel == hotel)].tolist()
        customer = next((c for c in dict.fromkeys(here) if c not in used), k)
        used.add(customer)
        actor = Actor(employee_id=int(emp.loc[index, "id"]), name=str(emp.loc[index, "name"]),
                      role=Role.STAFF, team_id=int(emp.loc[index, "team"]) + 1)
        at = max(plan.now - timedelta(minutes=95 - 25 * k), month_start)
        results.append(log_gesture(db, actor, LogRequest(
            employee_code=str(emp.loc[index, "code"]),
            customer_code=str(plan.customers.loc[customer, "code"]),
            gesture_type=gesture_type, amount=cents, category=category, note=note,
            idempotency_key=f"demo-live-{k}", source="app",
        ), at=at))
    return results


def _summary(plan: DemoPlan, started: float, live: list[LogResult]) -> DemoSummary:
    org_, sim, gestures, emp = plan.org, plan.sim, plan.gestures, plan.org.employees
    staff = np.flatnonzero((emp["role"] == "staff").to_numpy())
    used_budget = set(gestures.loc[~gestures["voided"], "employee"]) | {i for i, *_ in org_.live}
    eligible, returned = observed_return_within(sim)
    rec = sim.incident_recovered
    adjusted, adjusted_se = _adjusted_uplift(sim.incident_prior_visits[eligible], rec[eligible],
                                             returned[eligible])
    logins = tuple(
        DemoLogin(row.username, row.secret, row.role, row.name, row.code,
                  tuple(org_.teams.loc[t, "code"] for t in row.managed))
        for row in emp.itertuples() if isinstance(row.username, str)
    )
    return DemoSummary(
        seed=plan.seed, scale=plan.scale, seconds=round(time.perf_counter() - started, 2),
        locations=len(org_.locations), teams=len(org_.teams), employees=len(emp),
        staff=staff.size, managers=int((emp["role"] == "manager").sum()),
        customers=len(plan.customers), transactions=len(plan.transactions),
        incidents=sim.incident_time_s.size + len(live),
        gestures=len(gestures) + len(live), recovered_incidents=int(rec.sum()) + len(live),
        budgets=len(plan.budgets),
        ledger_entries=len(plan.ledger) + sum(1 for r in live if r.cost_cents),
        policies=len(plan.policies.rows),
        staff_without_gestures=sum(1 for i in staff if i not in used_budget),
        pending_approval=sum(r.status == GestureStatus.PENDING_APPROVAL for r in live),
        open_reviews=int((gestures["needs_review"] & (gestures["reviewed_s"] < 0)).sum())
        + sum(r.needs_review and r.status == GestureStatus.LOGGED for r in live),
        true_uplift=DEMO_TRUE_UPLIFT,
        eligible_incidents=int(eligible.sum()),
        naive_return_recovered=float(returned[eligible & rec].mean()),
        naive_return_not_recovered=float(returned[eligible & ~rec].mean()),
        adjusted_uplift=adjusted,
        adjusted_uplift_se=adjusted_se,
        logins=logins,
    )
