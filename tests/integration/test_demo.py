"""The demo data: shape, invariants, and the causal story it is built to tell."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select, text

import empowerment.demo
from empowerment.actor import Actor
from empowerment.db import Database, upgrade
from empowerment.demo import DEMO_TRUE_UPLIFT, DemoSummary, generate_demo
from empowerment.errors import InvalidState
from empowerment.models import (
    AppSetting,
    Budget,
    Customer,
    Employee,
    Gesture,
    GestureStatus,
    GestureType,
    Incident,
    LedgerEntry,
    Role,
    Team,
    TeamManager,
    Transaction,
)
from empowerment.queries.budgets import budget_status
from empowerment.services.customers import create_customer
from empowerment.services.gestures import INCIDENT_CATEGORIES, LogRequest, log_gesture
from empowerment.services.passwords import verify_secret

NOW = datetime(2026, 3, 18, 15, 30)  # fixed, so every figure below is reproducible


@dataclass(frozen=True)
class Demo:
    db: Database
    summary: DemoSummary


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    path = tmp_path_factory.mktemp("demo")
    db = Database(f"sqlite:///{path}/demo.db")
    messages: list[str] = []
    summary = generate_demo(db, seed=7, scale=0.2, now=NOW, progress=messages.append)
    assert any("Writing" in m for m in messages)
    yield Demo(db, summary)
    db.dispose()


def _count(db: Database, model: type) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _frame(db: Database, sql: str) -> pd.DataFrame:
    with db.engine.connect() as conn:
        return pd.read_sql_query(text(sql), conn)


@pytest.fixture
def fast_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 takes most of a small demo's time; tests that do not sign in skip it."""
    monkeypatch.setattr(empowerment.demo, "hash_secret", lambda secret: f"test-hash:{secret}")


# --- shape -----------------------------------------------------------------------------------


def test_counts(demo: Demo) -> None:
    db, s = demo.db, demo.summary
    assert (s.locations, s.teams, s.employees, s.staff, s.managers) == (3, 12, 58, 49, 6)
    assert _count(db, Team) == 12 and _count(db, Employee) == 58
    assert _count(db, Customer) == s.customers == 1_000
    assert _count(db, Transaction) == s.transactions
    assert _count(db, Incident) == s.incidents
    assert _count(db, Gesture) == s.gestures
    assert _count(db, Budget) == s.budgets
    assert _count(db, LedgerEntry) == s.ledger_entries
    # scale 0.2 of ~5,000 customers and ~8-10k incidents
    assert 1_400 <= s.incidents <= 2_200
    assert 5 * s.customers <= s.transactions <= 10 * s.customers
    assert 0.25 <= s.recovered_incidents / s.incidents <= 0.55
    with db.read() as session:
        roles = dict(session.execute(
            select(Employee.role, func.count()).group_by(Employee.role)).all())
    assert roles == {Role.STAFF: 49, Role.MANAGER: 6, Role.HR: 1, Role.CX_LEAD: 1, Role.ADMIN: 1}


def test_refuses_a_database_that_has_data(demo: Demo) -> None:
    with pytest.raises(InvalidState, match="already has data; demo fills only an empty one"):
        generate_demo(demo.db, seed=1, scale=0.05)


def test_creates_the_schema_when_missing(tmp_path: Path, fast_hash: None) -> None:
    db = Database(f"sqlite:///{tmp_path}/fresh.db")
    summary = generate_demo(db, seed=2, scale=0.02, now=NOW)
    assert summary.customers == 100 and _count(db, Customer) == 100
    db.dispose()


def test_times_are_within_the_two_years_up_to_now(demo: Demo) -> None:
    frame = _frame(demo.db, """
        SELECT 't' AS kind, MIN(occurred_at) AS first, MAX(occurred_at) AS last FROM transactions
        UNION ALL SELECT 'i', MIN(occurred_at), MAX(occurred_at) FROM incidents
        UNION ALL SELECT 'g', MIN(occurred_at), MAX(occurred_at) FROM gestures""")
    first = pd.to_datetime(frame["first"]).min()
    last = pd.to_datetime(frame["last"]).max()
    assert first >= pd.Timestamp(NOW - timedelta(days=731))
    assert last <= pd.Timestamp(NOW)
    assert pd.Timestamp(NOW) - last < pd.Timedelta(days=2)


def test_categories_types_and_names(demo: Demo) -> None:
    with demo.db.read() as session:
        categories = set(session.scalars(select(Incident.category).distinct()))
        types = set(session.scalars(select(Gesture.type).distinct()))
        names = list(session.scalars(select(Customer.name)))
        costs = list(session.scalars(select(Gesture.cost_cents)))
    assert categories == set(INCIDENT_CATEGORIES)
    assert types == set(GestureType)
    assert any(not name.isascii() for name in names)
    non_latin = [n for n in names
                 if any(ch.isalpha() and not unicodedata.name(ch, "").startswith("LATIN") for ch in n)]
    assert 10 <= len(non_latin) <= 120  # about 1 in 20
    assert min(costs) == 0 and 0 < max(costs) <= 120_000


# --- budgets and ledger ----------------------------------------------------------------------


def test_every_budget_equals_its_ledger_sum(demo: Demo) -> None:
    frame = _frame(demo.db, """
        SELECT b.id, b.remaining_cents, COALESCE(SUM(l.amount_cents), 0) AS ledger
        FROM budgets b LEFT JOIN ledger_entries l ON l.budget_id = b.id
        GROUP BY b.id, b.remaining_cents""")
    assert len(frame) == demo.summary.budgets
    assert (frame["remaining_cents"] == frame["ledger"]).all()
    assert (frame["remaining_cents"] >= 0).all()


def test_gestures_and_ledger_agree(demo: Demo) -> None:
    frame = _frame(demo.db, """
        SELECT g.id, g.status, g.cost_cents, COALESCE(SUM(l.amount_cents), 0) AS net,
               COUNT(l.id) AS entries
        FROM gestures g LEFT JOIN ledger_entries l ON l.gesture_id = g.id
        GROUP BY g.id, g.status, g.cost_cents""")
    logged = frame[frame["status"] == "logged"]
    assert (logged["net"] == -logged["cost_cents"]).all()
    assert (logged.loc[logged["cost_cents"] == 0, "entries"] == 0).all()
    voided = frame[frame["status"] == "voided"]
    assert len(voided) >= 1 and (voided["net"] == 0).all() and (voided["entries"] == 2).all()
    pending = frame[frame["status"] == "pending_approval"]
    assert (pending["net"] == -pending["cost_cents"]).all()


def test_budgets_cover_every_month_for_staff_and_managers(demo: Demo) -> None:
    frame = _frame(demo.db, """
        SELECT e.role, COUNT(DISTINCT b.period_start) AS months, COUNT(*) AS budgets
        FROM budgets b JOIN employees e ON e.id = b.employee_id GROUP BY e.role""")
    months = (NOW.year - (NOW - timedelta(days=730)).year) * 12 + NOW.month - (
        NOW - timedelta(days=730)).month + 1
    assert set(frame["role"]) == {"staff", "manager"}
    assert (frame["months"] == months).all()
    assert frame["budgets"].sum() == 55 * months


def test_this_period_via_the_service_matches_the_ledger(demo: Demo) -> None:
    before = _count(demo.db, Budget)
    code = empowerment.demo.org.TABLET_STAFF_CODE
    status = budget_status(demo.db, Actor.system("test"), code, on=NOW.date())
    assert _count(demo.db, Budget) == before  # the period's budget already existed
    assert status.period_start == date(NOW.year, NOW.month, 1)
    assert status.allocated_cents == 50_000 and status.policy_name == "Standard"
    assert status.remaining_cents == status.allocated_cents - status.spent_cents - status.held_cents
    assert status.spent_cents >= 3_500  # the live gesture logged at the end


def test_policies(demo: Demo) -> None:
    frame = _frame(demo.db, "SELECT name, role, team_id, allowance_cents, review_above_cents, "
                            "approval_above_cents, effective_from FROM budget_policies ORDER BY id")
    assert list(frame["name"][:3]) == ["Standard", "Standard", "Managers"]
    assert list(frame["allowance_cents"][:3]) == [40_000, 50_000, 150_000]
    assert frame["name"].str.startswith("Concierge").sum() == 3
    assert (frame["review_above_cents"] <= frame["approval_above_cents"]).all()


# --- people ----------------------------------------------------------------------------------


def test_sign_ins(demo: Demo) -> None:
    logins = {login.username: login for login in demo.summary.logins}
    assert set(logins) == {
        "admin", "hr", "cx", "manager.harbour", "manager.harbour.ops", "manager.oldtown",
        "manager.oldtown.ops", "manager.airport", "manager.airport.ops",
    }
    assert logins["admin"].secret == "demo-admin" and logins["hr"].secret == "demo-hr"
    assert logins["cx"].secret == "demo-cx" and logins["cx"].role == "cx_lead"
    assert logins["manager.harbour"].teams == ("HAR-FD", "HAR-CON")
    with demo.db.read() as session:
        admin = session.scalar(select(Employee).where(Employee.username == "admin"))
        staff = session.scalars(select(Employee).where(Employee.role == Role.STAFF)).all()
        tablet = session.scalar(select(Employee).where(
            Employee.code == demo.summary.tablet_staff_code))
        assert admin is not None and tablet is not None
        assert verify_secret(admin.password_hash, "demo-admin")
        assert all(e.username is None and e.password_hash is None for e in staff)
        assert len({e.pin_hash for e in staff}) == 1  # one hash, computed once, shared
        assert tablet.name == demo.summary.tablet_staff_name == "Amelia Hart"
        assert verify_secret(tablet.pin_hash, "1234")
        team = session.get(Team, tablet.team_id)
        assert team is not None and team.code == "HAR-FD"
    text_ = demo.summary.as_text()
    assert "manager.harbour" in text_ and "demo-manager" in text_ and "PIN 1234" in text_


def test_every_team_has_a_manager(demo: Demo) -> None:
    frame = _frame(demo.db, """
        SELECT t.code, e.role, e.username FROM team_managers tm
        JOIN teams t ON t.id = tm.team_id JOIN employees e ON e.id = tm.employee_id""")
    assert sorted(frame["code"]) == sorted(
        f"{h}-{t}" for h in ("HAR", "OLD", "AIR") for t in ("FD", "HK", "RES", "CON"))
    assert (frame["role"] == "manager").all()
    assert frame.groupby("username").size().eq(2).all()
    assert _count(demo.db, TeamManager) == 12


def test_manager_queues_have_work(demo: Demo) -> None:
    with demo.db.read() as session:
        pending = session.scalars(
            select(Gesture).where(Gesture.status == GestureStatus.PENDING_APPROVAL)).all()
        open_reviews = session.scalar(select(func.count()).select_from(Gesture).where(
            Gesture.needs_review.is_(True), Gesture.reviewed_at.is_(None),
            Gesture.status == GestureStatus.LOGGED))
        reviewed = session.scalar(select(func.count()).select_from(Gesture).where(
            Gesture.reviewed_at.is_not(None)))
        assert len(pending) == demo.summary.pending_approval == 1
        employee = session.get(Employee, pending[0].employee_id)
        assert employee is not None
        manager_ids = set(session.scalars(
            select(TeamManager.employee_id).where(TeamManager.team_id == employee.team_id)))
        manager = session.scalar(select(Employee.username).where(Employee.id.in_(manager_ids)))
    assert manager == "manager.harbour"
    assert open_reviews == demo.summary.open_reviews and open_reviews >= 2
    assert reviewed and reviewed >= 1


def test_guideline_setting(demo: Demo) -> None:
    with demo.db.read() as session:
        guideline = session.get(AppSetting, "guideline")
    assert guideline is not None
    assert "$2,000 per guest per day" in guideline.value
    assert "Write down what happened" in guideline.value


# --- the causal story ------------------------------------------------------------------------


def test_about_15_percent_of_staff_never_use_their_budget(demo: Demo) -> None:
    frame = _frame(demo.db, """
        SELECT e.id, COUNT(g.id) AS gestures FROM employees e
        LEFT JOIN gestures g ON g.employee_id = e.id AND g.status != 'voided'
        WHERE e.role = 'staff' GROUP BY e.id""")
    never = int((frame["gestures"] == 0).sum())
    assert never == demo.summary.staff_without_gestures
    assert 0.10 <= never / len(frame) <= 0.20
    received = _frame(demo.db, "SELECT employee_id, COUNT(*) AS n FROM incidents GROUP BY 1")
    gap_ids = set(frame.loc[frame["gestures"] == 0, "id"])
    assert gap_ids <= set(received["employee_id"])  # they do meet unhappy customers


def _linked(db: Database) -> pd.DataFrame:
    """Per incident: recovered, prior purchases in 365 days, back within 90 days (if known)."""
    incidents = _frame(db, "SELECT id, customer_id, occurred_at FROM incidents")
    recovered = set(_frame(db, "SELECT DISTINCT incident_id FROM gestures "
                               "WHERE status != 'voided'")["incident_id"])
    txn = _frame(db, "SELECT customer_id, occurred_at FROM transactions WHERE amount_cents > 0")
    incidents["t"] = pd.to_datetime(incidents["occurred_at"])
    txn["t"] = pd.to_datetime(txn["occurred_at"])
    txn = txn.sort_values(["customer_id", "t"])
    by_customer = {c: g["t"].to_numpy() for c, g in txn.groupby("customer_id")}
    rows = []
    for incident in incidents.itertuples():
        times = by_customer.get(incident.customer_id, np.array([], dtype="datetime64[ns]"))
        t = np.datetime64(incident.t)
        after = times[times > t]
        prior = int(((times >= t - np.timedelta64(365, "D")) & (times < t)).sum())
        back = bool(after.size and after[0] - t <= np.timedelta64(90, "D"))
        eligible = t + np.timedelta64(90, "D") <= np.datetime64(NOW)
        rows.append((incident.id in recovered, prior, back, eligible))
    return pd.DataFrame(rows, columns=["recovered", "prior", "back", "eligible"])


def test_recovered_customers_return_more_often_naively(demo: Demo) -> None:
    linked = _linked(demo.db)
    eligible = linked[linked["eligible"]]
    assert len(eligible) == demo.summary.eligible_incidents
    rate = eligible.groupby("recovered")["back"].mean()
    assert rate[True] > rate[False]
    # The database tells exactly the story the generator computed.
    assert rate[True] == pytest.approx(demo.summary.naive_return_recovered, abs=1e-12)
    assert rate[False] == pytest.approx(demo.summary.naive_return_not_recovered, abs=1e-12)
    # Selection bias: staff chose already-loyal customers.
    prior = eligible.groupby("recovered")["prior"].mean()
    assert prior[True] > prior[False] + 1
    assert demo.summary.true_uplift == DEMO_TRUE_UPLIFT == 0.12


def test_generated_outcomes_follow_the_documented_model() -> None:
    """Large simulation, no database: adjusting for prior visits recovers the true effect."""
    from empowerment.demo.model import DAY, baseline_return_probability, observed_return_within
    from empowerment.demo.model import simulate as run
    from empowerment.demo.org import PROPERTIES, build_org

    rng_org, rng_sim = (np.random.default_rng(s) for s in np.random.SeedSequence(11).spawn(2))
    sim = run(rng_sim, 20_000, 730 * DAY, build_org(rng_org).staffing,
              np.array([p.incident_rate for p in PROPERTIES]),
              np.array([p.price_factor for p in PROPERTIES]),
              np.array([p.visit_share for p in PROPERTIES]))
    eligible, back = observed_return_within(sim)
    assert (back[eligible] == sim.incident_returns[eligible]).all()
    excess = back.astype(float) - baseline_return_probability(sim.incident_prior_visits)
    recovered = sim.incident_recovered
    assert excess[eligible & recovered].mean() == pytest.approx(DEMO_TRUE_UPLIFT, abs=0.02)
    assert excess[eligible & ~recovered].mean() == pytest.approx(0.0, abs=0.015)


# --- reproducibility and backends ------------------------------------------------------------


def _fingerprint(db: Database) -> tuple[object, ...]:
    frame = _frame(db, """
        SELECT (SELECT COUNT(*) FROM transactions) AS txn,
               (SELECT SUM(amount_cents) FROM transactions) AS revenue,
               (SELECT COUNT(*) FROM incidents) AS incidents,
               (SELECT COUNT(*) FROM gestures) AS gestures,
               (SELECT SUM(cost_cents) FROM gestures) AS cost,
               (SELECT SUM(remaining_cents) FROM budgets) AS remaining,
               (SELECT MIN(name) || MAX(name) FROM customers) AS names""")
    return tuple(frame.iloc[0])


def test_same_seed_same_data(tmp_path: Path, fast_hash: None) -> None:
    prints = []
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        db = Database(f"sqlite:///{tmp_path}/{name}.db")
        summary = generate_demo(db, seed=seed, scale=0.05, now=NOW)
        prints.append((_fingerprint(db), summary.incidents, summary.naive_uplift))
        db.dispose()
    assert prints[0] == prints[1]
    assert prints[0] != prints[2]


def test_on_each_backend_and_the_app_can_carry_on(db: Database, fast_hash: None) -> None:
    summary = generate_demo(db, seed=3, scale=0.05)
    assert _count(db, Customer) == summary.customers
    # New rows after explicit-id bulk inserts (PostgreSQL sequences must have moved on).
    customer_code = create_customer(db, Actor.system("test"), "Walk-in Guest")
    result = log_gesture(db, Actor.system("test"), LogRequest(
        employee_code="E012", customer_code=customer_code, gesture_type="gift", amount="10",
        category="Noise"))
    assert result.cost_cents == 1_000 and not result.already_logged
    frame = _frame(db, """
        SELECT b.id, b.remaining_cents, COALESCE(SUM(l.amount_cents), 0) AS ledger
        FROM budgets b LEFT JOIN ledger_entries l ON l.budget_id = b.id
        GROUP BY b.id, b.remaining_cents""")
    assert (frame["remaining_cents"] == frame["ledger"]).all()


def test_erase_then_refill(tmp_path: Path, fast_hash: None) -> None:
    db = Database(f"sqlite:///{tmp_path}/erase.db")
    upgrade(db)
    generate_demo(db, seed=1, scale=0.02, now=NOW)
    assert not empowerment.demo.database_is_empty(db)
    empowerment.demo.erase_database(db)
    assert empowerment.demo.database_is_empty(db)
    generate_demo(db, seed=1, scale=0.02, now=NOW)
    assert _count(db, Customer) == 100
    db.dispose()
