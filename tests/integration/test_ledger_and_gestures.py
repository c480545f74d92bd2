"""The budget ledger and gesture services, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select, text

from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import (
    BudgetExceeded,
    CustomerDailyCapExceeded,
    InvalidAmount,
    InvalidInput,
    InvalidState,
    NoBudgetPolicy,
    PermissionDenied,
    UnknownCustomer,
    UnknownEmployee,
)
from empowerment.models import (
    AuditEvent,
    Budget,
    Employee,
    Gesture,
    GestureStatus,
    LedgerEntry,
    LedgerEntryType,
    Period,
    Role,
    Rollover,
)
from empowerment.models.lookups import policy_in_force
from empowerment.periods import next_period_start
from empowerment.queries.budgets import budget_status, spending_limits
from empowerment.services.gestures import LogRequest, decide_gesture, log_gesture, void_gesture
from empowerment.services.ledger import Adjustment, adjust_budget
from empowerment.services.policies import PolicyRequest, set_policy
from tests.factories import SYSTEM, make_customer, make_employee, make_policy, make_team


def _counts(db: Database) -> tuple[int, int, int, int]:
    with db.read() as session:
        return (
            session.scalar(select(func.count()).select_from(Gesture)) or 0,
            session.scalar(select(func.count()).select_from(LedgerEntry)) or 0,
            session.scalar(select(func.count()).select_from(Budget)) or 0,
            session.scalar(select(func.coalesce(func.sum(Budget.remaining_cents), 0))) or 0,
        )


def assert_ledger_matches_balances(db: Database) -> None:
    with db.read() as session:
        rows = session.execute(
            select(Budget.id, Budget.remaining_cents, func.coalesce(func.sum(LedgerEntry.amount_cents), 0))
            .outerjoin(LedgerEntry, LedgerEntry.budget_id == Budget.id)
            .group_by(Budget.id, Budget.remaining_cents)
        ).all()
    for budget_id, remaining, ledger_sum in rows:
        assert remaining == ledger_sum, f"budget {budget_id}: {remaining} != ledger {ledger_sum}"
        assert remaining >= 0


@pytest.fixture
def org(db: Database) -> dict[str, str]:
    team_id = make_team(db, "FD")
    staff = make_employee(db, "E1", team_id=team_id, name="Ana")
    other = make_employee(db, "E2", team_id=make_team(db, "HK"), name="Bo")
    customer = make_customer(db, "C1", name="Guest One")
    make_policy(db, 50_000, review_above_cents=15_000, approval_above_cents=30_000)
    return {"staff": staff, "other": other, "customer": customer}


def log(db: Database, org: dict[str, str], amount: str | int = "25", **kwargs: object) -> object:
    request = LogRequest(
        employee_code=str(kwargs.pop("employee", org["staff"])),
        customer_code=str(kwargs.pop("customer", org["customer"])),
        gesture_type=str(kwargs.pop("gesture_type", "comp")),
        amount=amount,
        category=str(kwargs.pop("category", "Noise")),
        note=kwargs.pop("note", "What happened and what we did."),  # above "review above" a note is required
        **kwargs,  # type: ignore[arg-type]
    )
    return log_gesture(db, SYSTEM, request)


def test_a_gesture_takes_its_cost_from_the_budget_and_is_audited(db: Database, org: dict[str, str]) -> None:
    result = log(db, org, "25.50", note="Moved them to a quiet room 🙏")
    assert result.remaining_cents == 50_000 - 2_550
    assert budget_status(db, SYSTEM, org["staff"]).spent_cents == 2_550
    with db.read() as session:
        entry_types = session.scalars(select(LedgerEntry.entry_type).order_by(LedgerEntry.id)).all()
        assert entry_types == [LedgerEntryType.ALLOCATION, LedgerEntryType.SPEND]
        assert session.scalar(select(func.count()).where(AuditEvent.action == "gesture.logged")) == 1
    assert_ledger_matches_balances(db)


def test_zero_cost_gestures_are_logged_without_touching_money(db: Database, org: dict[str, str]) -> None:
    result = log(db, org, "0", gesture_type="personal_note", note="Handwritten apology")
    assert result.remaining_cents == 50_000
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Gesture)) == 1


def test_over_budget_is_refused_saying_what_is_left_and_nothing_changes(db: Database, org: dict[str, str]) -> None:
    log(db, org, "250")
    log(db, org, "200", customer=make_customer(db, "C2"))
    before = _counts(db)
    with pytest.raises(BudgetExceeded, match=r"\$60\.00 is more than your remaining budget; \$50\.00 is left"):
        log(db, org, "60", customer=make_customer(db, "C3"))
    assert _counts(db)[:2] == before[:2]


def test_the_per_customer_daily_cap_is_enforced_per_employee(db: Database, org: dict[str, str]) -> None:
    set_policy(db, SYSTEM, PolicyRequest("Generous", allowance_cents=1_000_000, period=Period.MONTH,
               employee_code=org["staff"], customer_daily_cap_cents=20_000))
    log(db, org, "150")
    with pytest.raises(CustomerDailyCapExceeded, match=r"limit of \$200\.00 per customer per day; \$50\.00 is left"):
        log(db, org, "60")
    log(db, org, "50")
    log(db, org, "60", customer=make_customer(db, "C9"))  # another guest has their own cap


def test_a_repeated_idempotency_key_logs_once(db: Database, org: dict[str, str]) -> None:
    first = log(db, org, "40", idempotency_key="tap-1")
    second = log(db, org, "40", idempotency_key="tap-1")
    assert second.already_logged and second.gesture_code == first.gesture_code
    assert second.remaining_cents == first.remaining_cents == 46_000
    assert _counts(db)[0] == 1


def test_void_is_a_reversing_entry_and_restores_the_balance(db: Database, org: dict[str, str]) -> None:
    result = log(db, org, "80")
    assert void_gesture(db, SYSTEM, result.gesture_code, "Wrong guest") == 50_000
    with db.read() as session:
        entries = session.execute(select(LedgerEntry.entry_type, LedgerEntry.amount_cents)
                                  .order_by(LedgerEntry.id)).all()
        assert entries[-2:] == [(LedgerEntryType.SPEND, -8_000), (LedgerEntryType.REVERSAL, 8_000)]
        gesture = session.scalar(select(Gesture))
        assert gesture is not None and gesture.status == GestureStatus.VOIDED
        assert gesture.void_reason == "Wrong guest"
    with pytest.raises(InvalidState, match="already undone"):
        void_gesture(db, SYSTEM, result.gesture_code, "again")
    assert_ledger_matches_balances(db)


def test_gestures_above_review_are_flagged_not_blocked(db: Database, org: dict[str, str]) -> None:
    result = log(db, org, "200")
    assert result.needs_review and result.status == GestureStatus.LOGGED
    assert "review" in result.message


def test_gestures_above_approval_hold_the_money_until_a_manager_decides(db: Database, org: dict[str, str]) -> None:
    manager = Actor(employee_id=None, name="m", role=Role.ADMIN)
    pending = log(db, org, "350")
    assert pending.status == GestureStatus.PENDING_APPROVAL and pending.remaining_cents == 15_000
    decide_gesture(db, manager, pending.gesture_code, approve=True)
    status = budget_status(db, SYSTEM, org["staff"])
    assert (status.spent_cents, status.held_cents, status.remaining_cents) == (35_000, 0, 15_000)
    rejected = log(db, org, "100.00", customer=make_customer(db, "C4"))
    assert rejected.status == GestureStatus.LOGGED  # below the approval amount
    set_policy(db, SYSTEM, PolicyRequest("Low approval", allowance_cents=50_000, period=Period.MONTH,
               employee_code=org["staff"], approval_above_cents=1_000, immediate=True))
    pending2 = log(db, org, "20", customer=make_customer(db, "C5"))
    with pytest.raises(InvalidInput, match="why"):
        decide_gesture(db, manager, pending2.gesture_code, approve=False)
    decide_gesture(db, manager, pending2.gesture_code, approve=False, reason="Not needed")
    assert budget_status(db, SYSTEM, org["staff"]).held_cents == 0
    assert_ledger_matches_balances(db)


def test_policy_precedence_is_employee_then_team_then_role_then_default(db: Database, org: dict[str, str]) -> None:
    set_policy(db, SYSTEM, PolicyRequest("Staff role", allowance_cents=1, period=Period.MONTH, role=Role.STAFF))
    set_policy(db, SYSTEM, PolicyRequest("Front desk", allowance_cents=2, period=Period.QUARTER, team_code="FD"))
    with db.read() as session:
        ana = session.scalar(select(Employee).where(Employee.code == org["staff"]))
        bo = session.scalar(select(Employee).where(Employee.code == org["other"]))
        assert ana is not None and bo is not None
        assert policy_in_force(session, ana, date.today()).name == "Front desk"  # type: ignore[union-attr]
        assert policy_in_force(session, bo, date.today()).name == "Staff role"  # type: ignore[union-attr]
    set_policy(db, SYSTEM, PolicyRequest("Ana only", allowance_cents=3, period=Period.YEAR, employee_code=org["staff"]))
    with db.read() as session:
        ana = session.scalar(select(Employee).where(Employee.code == org["staff"]))
        assert policy_in_force(session, ana, date.today()).name == "Ana only"  # type: ignore[arg-type,union-attr]


def test_a_policy_change_applies_from_the_next_period_unless_immediate(db: Database, org: dict[str, str]) -> None:
    today = date.today()
    next_month = next_period_start(Period.MONTH, today)
    set_policy(db, SYSTEM, PolicyRequest("Default", allowance_cents=99_999, period=Period.MONTH, today=today))
    with db.read() as session:
        ana = session.scalar(select(Employee).where(Employee.code == org["staff"]))
        assert ana is not None
        assert policy_in_force(session, ana, today).allowance_cents == 50_000  # type: ignore[union-attr]
        assert policy_in_force(session, ana, next_month).allowance_cents == 99_999  # type: ignore[union-attr]
    assert budget_status(db, SYSTEM, org["staff"]).allocated_cents == 50_000
    set_policy(db, SYSTEM, PolicyRequest("Default", allowance_cents=70_000, period=Period.MONTH, immediate=True))
    status = budget_status(db, SYSTEM, org["staff"])
    assert (status.allocated_cents, status.remaining_cents) == (70_000, 70_000)


def test_three_immediate_saves_leave_the_allowance_at_the_policy_amount(db: Database, org: dict[str, str]) -> None:
    log(db, org, "10")  # opens this month's budget at 500.00
    for _ in range(3):  # a double tap, then the same change again
        set_policy(db, SYSTEM, PolicyRequest("Default", allowance_cents=60_000, period=Period.MONTH, immediate=True))
    status = budget_status(db, SYSTEM, org["staff"])
    assert (status.allocated_cents, status.remaining_cents) == (60_000, 59_000)
    assert_ledger_matches_balances(db)


def test_a_new_policy_applied_immediately_moves_the_allowance_too(db: Database, org: dict[str, str]) -> None:
    log(db, org, "10")
    set_policy(db, SYSTEM, PolicyRequest("Front desk", allowance_cents=80_000, period=Period.MONTH,
                                         team_code="FD", immediate=True))
    status = budget_status(db, SYSTEM, org["staff"])
    assert (status.policy_name, status.allocated_cents, status.remaining_cents) == ("Front desk", 80_000, 79_000)


def test_lowering_the_allowance_never_takes_more_than_is_left(db: Database, org: dict[str, str]) -> None:
    log(db, org, "100")  # 400.00 left of 500.00
    set_policy(db, SYSTEM, PolicyRequest("Default", allowance_cents=5_000, period=Period.MONTH, immediate=True))
    status = budget_status(db, SYSTEM, org["staff"])
    assert status.remaining_cents == 0 and status.spent_cents == 10_000
    with db.read() as session:
        kinds = list(session.scalars(select(LedgerEntry.entry_type).order_by(LedgerEntry.id)))
    assert kinds[-1] == LedgerEntryType.ALLOCATION_REDUCTION
    assert_ledger_matches_balances(db)


def test_full_rollover_carries_the_unspent_balance(db: Database, org: dict[str, str]) -> None:
    set_policy(db, SYSTEM, PolicyRequest("Carry", allowance_cents=10_000, period=Period.MONTH, employee_code=org["staff"],
               rollover=Rollover.FULL, today=date(2026, 1, 1)))
    log_gesture(db, SYSTEM, LogRequest(org["staff"], org["customer"], "gift", "30", category="Noise"),
                at=datetime(2026, 1, 10, 12))
    status = budget_status(db, SYSTEM, org["staff"], on=date(2026, 2, 3))
    assert status.allocated_cents == 10_000 + 7_000
    assert status.remaining_cents == 17_000


def test_adjustments_are_signed_entries_with_a_reason(db: Database, org: dict[str, str]) -> None:
    assert adjust_budget(db, SYSTEM, Adjustment(org["staff"], 5_000, "Busy season top-up")) == 55_000
    with pytest.raises(InvalidInput, match="reason"):
        adjust_budget(db, SYSTEM, Adjustment(org["staff"], 5_000, " "))
    with pytest.raises(BudgetExceeded):
        adjust_budget(db, SYSTEM, Adjustment(org["staff"], -60_000, "Too much"))
    assert adjust_budget(db, SYSTEM, Adjustment(org["staff"], -2_500, "Duplicate top-up")) == 52_500
    with db.read() as session:
        last = session.scalars(select(LedgerEntry).order_by(LedgerEntry.id.desc())).first()
    assert last is not None and (last.entry_type, last.amount_cents) == (LedgerEntryType.DEDUCTION, -2_500)
    assert_ledger_matches_balances(db)


def test_the_ledger_refuses_edits_and_deletes(db: Database, org: dict[str, str]) -> None:
    log(db, org, "10")
    for statement in ("UPDATE ledger_entries SET amount_cents = 0", "DELETE FROM ledger_entries"):
        with pytest.raises(Exception, match="append-only"), db.write() as session:
            session.execute(text(statement))
    assert _counts(db)[1] == 2


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"amount": "-5"}, InvalidAmount, "negative"),
        ({"amount": "abc"}, InvalidAmount, "not a number"),
        ({"amount": "12.345"}, InvalidAmount, "more than 2 decimals"),
        ({"amount": "99999999999"}, InvalidAmount, "too large"),
        ({"amount": -500}, InvalidAmount, "negative"),
        ({"employee": "nobody"}, UnknownEmployee, "No active employee with id 'nobody'"),
        ({"customer": "ghost"}, UnknownCustomer, "No customer with id 'ghost'"),
        ({"note": "x" * 10_000}, InvalidInput, "10,000 characters long"),
        ({"gesture_type": "bribe"}, InvalidInput, "not a gesture type"),
        ({"category": ""}, InvalidInput, "what went wrong"),
    ],
)
def test_bad_input_is_refused_clearly_and_changes_nothing(
    db: Database, org: dict[str, str], kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    before = _counts(db)
    kwargs = dict(kwargs)  # the parametrized dict is shared between backends
    amount = kwargs.pop("amount", "10")
    with pytest.raises(error, match=message):
        log(db, org, amount, **kwargs)  # type: ignore[arg-type]
    assert _counts(db)[:2] == before[:2]


def test_names_in_any_script_and_emoji_round_trip(db: Database, org: dict[str, str]) -> None:
    customer = make_customer(db, "C-ユ", name="محمد 李小龍 Zoë 🎉")
    result = log(db, org, "5", customer=customer, note="Кофе и извинения ☕")
    with db.read() as session:
        gesture = session.scalar(select(Gesture).where(Gesture.code == result.gesture_code))
        assert gesture is not None and gesture.note == "Кофе и извинения ☕"


def test_staff_cannot_log_or_read_for_someone_else(db: Database, org: dict[str, str]) -> None:
    with db.read() as session:
        ana = session.scalar(select(Employee).where(Employee.code == org["staff"]))
        assert ana is not None
        actor = Actor(employee_id=ana.id, name=ana.name, role=Role.STAFF, team_id=ana.team_id)
    with pytest.raises(PermissionDenied):
        budget_status(db, actor, org["other"])
    with pytest.raises(PermissionDenied):
        log_gesture(db, actor, LogRequest(org["other"], org["customer"], "comp", "5", category="Noise"))
    assert budget_status(db, actor, org["staff"]).remaining_cents == 50_000


def test_limits_show_what_can_be_spent_before_submitting(db: Database, org: dict[str, str]) -> None:
    log(db, org, "100")
    limits = spending_limits(db, SYSTEM, org["staff"], org["customer"])
    assert (limits.remaining_cents, limits.customer_cap_cents, limits.customer_cap_left_cents,
            limits.spendable_now_cents) == (40_000, 200_000, 190_000, 40_000)


def test_an_employee_without_any_policy_gets_a_kind_refusal(tmp_path: object) -> None:
    from empowerment.db import upgrade

    database = Database(f"sqlite:///{tmp_path}/np.db")
    upgrade(database)
    employee = make_employee(database, "E9")
    customer = make_customer(database, "C9")
    with pytest.raises(NoBudgetPolicy, match="no budget policy yet"):
        log_gesture(database, SYSTEM, LogRequest(employee, customer, "comp", "5", category="Noise"))


def test_search_results_stay_readable_after_the_unit_closes(db: Database, org: dict[str, str]) -> None:
    from empowerment.queries.customers import search_customers

    make_customer(db, "C77", name="Zoë Exact")
    assert [card.code for card in search_customers(db, SYSTEM, "C77")] == ["C77"]
    assert [card.name for card in search_customers(db, SYSTEM, "zoë")] == ["Zoë Exact"]


@pytest.mark.parametrize("typed, found", [
    ("мария", "Мария Иванова"),  # Cyrillic, typed in lower case
    ("ÉLODIE", "élodie Durand"),  # accented Latin, typed in capitals
    ("ZOË", "Zoë Exact"),
    ("ἈΘῆΝΑΙ", None),  # no such guest
])
def test_name_search_ignores_case_in_any_script(db: Database, typed: str, found: str | None) -> None:
    from empowerment.queries.customers import search_customers

    for name in ("Мария Иванова", "élodie Durand", "Zoë Exact", "Maria Ivanova"):
        make_customer(db, name=name)
    names = [card.name for card in search_customers(db, SYSTEM, typed)]
    assert names == ([found] if found else [])


def test_search_takes_percent_and_underscore_literally(db: Database) -> None:
    from empowerment.queries.customers import search_customers

    make_customer(db, name="Ann 100% Smith")
    make_customer(db, name="Bob Jones")
    assert [card.name for card in search_customers(db, SYSTEM, "0%")] == ["Ann 100% Smith"]
    assert search_customers(db, SYSTEM, "%%") == [] and search_customers(db, SYSTEM, "__") == []


def test_limits_show_a_period_nobody_opened_yet_without_opening_it(db: Database, org: dict[str, str]) -> None:
    limits = spending_limits(db, SYSTEM, org["staff"], None)
    assert limits.remaining_cents == limits.spendable_now_cents == 50_000
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Budget)) == 0  # reads never write
    assert_ledger_matches_balances(db)
