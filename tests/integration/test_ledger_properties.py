"""Property-based (Hypothesis, stateful): whatever sequence of spends, holds, approvals, rejections,
voids, corrections and immediate policy changes happens, every budget's balance equals the sum of
its ledger entries and never goes below zero, and the service's own totals agree with the ledger."""

from __future__ import annotations

import itertools
import shutil
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import func, select

from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import EmpowermentError
from empowerment.models import Budget, GestureStatus, LedgerEntry, Period
from empowerment.queries.budgets import budget_status
from empowerment.services.gestures import LogRequest, decide_gesture, log_gesture, void_gesture
from empowerment.services.ledger import Adjustment, adjust_budget
from empowerment.services.policies import PolicyRequest, set_policy
from tests.factories import make_customer, make_employee, make_team

SYSTEM = Actor.system("property test")
# Cents, around the policy's edges (review above 100.00, approval above 300.00) and anywhere between.
amounts = st.one_of(st.sampled_from([0, 1, 9_999, 10_001, 29_999, 30_001, 45_000]), st.integers(0, 60_000))


class LedgerMachine(RuleBasedStateMachine):
    template: str = ""
    directory: Path = Path()

    @initialize()
    def open_the_shop(self) -> None:
        path = self.directory / f"{uuid.uuid4().hex}.db"
        shutil.copyfile(self.template, path)
        self.db = Database(f"sqlite:///{path}")
        team = make_team(self.db, "FD")
        self.staff = [make_employee(self.db, f"E{i}", team_id=team, name=f"Staff {i}") for i in range(2)]
        self.customers = [make_customer(self.db, f"C{i}") for i in range(3)]
        set_policy(self.db, SYSTEM, PolicyRequest("Default", allowance_cents=100_000, period=Period.MONTH,
                                                  review_above_cents=10_000, approval_above_cents=30_000,
                                                  customer_daily_cap_cents=80_000))
        self.gestures: list[str] = []
        self.keys = itertools.count()

    def teardown(self) -> None:
        if hasattr(self, "db"):
            self.db.dispose()

    def _attempt(self, call, *args, **kwargs):  # type: ignore[no-untyped-def]
        """A refusal (over budget, over the cap, wrong state) is a fine outcome; anything else is not."""
        try:
            return call(*args, **kwargs)
        except EmpowermentError:
            return None

    @rule(who=st.integers(0, 1), customer=st.integers(0, 2), cents=amounts, twice=st.booleans())
    def log(self, who: int, customer: int, cents: int, twice: bool) -> None:
        request = LogRequest(self.staff[who], self.customers[customer], "comp", cents, category="Noise",
                             idempotency_key=f"k{next(self.keys)}")
        result = self._attempt(log_gesture, self.db, SYSTEM, request)
        if twice:  # a double tap: the same key logs once
            again = self._attempt(log_gesture, self.db, SYSTEM, request)
            assert result is None or (again is not None and again.gesture_code == result.gesture_code)
        if result is not None:
            self.gestures.append(result.gesture_code)

    @rule(pick=st.integers(0, 10**6), approve=st.booleans())
    def decide(self, pick: int, approve: bool) -> None:
        if self.gestures:
            code = self.gestures[pick % len(self.gestures)]
            self._attempt(decide_gesture, self.db, SYSTEM, code, approve, "" if approve else "Too much")

    @rule(pick=st.integers(0, 10**6))
    def void(self, pick: int) -> None:
        if self.gestures:
            self._attempt(void_gesture, self.db, SYSTEM, self.gestures[pick % len(self.gestures)], "Mistake")

    @rule(who=st.integers(0, 1), cents=st.integers(-150_000, 150_000))
    def correct(self, who: int, cents: int) -> None:
        self._attempt(adjust_budget, self.db, SYSTEM, Adjustment(self.staff[who], cents, "Correction"))

    @rule(allowance=st.integers(0, 200_000), immediate=st.booleans())
    def change_policy(self, allowance: int, immediate: bool) -> None:
        self._attempt(set_policy, self.db, SYSTEM, PolicyRequest(
            "Default", allowance_cents=allowance, period=Period.MONTH, review_above_cents=10_000,
            approval_above_cents=30_000, customer_daily_cap_cents=80_000, immediate=immediate))

    @invariant()
    def balances_are_the_ledger(self) -> None:
        if not hasattr(self, "db"):
            return
        with self.db.read() as session:
            rows = session.execute(
                select(Budget.id, Budget.remaining_cents, func.coalesce(func.sum(LedgerEntry.amount_cents), 0))
                .outerjoin(LedgerEntry, LedgerEntry.budget_id == Budget.id)
                .group_by(Budget.id, Budget.remaining_cents)).all()
        for budget_id, remaining, ledger_sum in rows:
            assert remaining == ledger_sum, f"budget {budget_id}: {remaining} != ledger {ledger_sum}"
            assert remaining >= 0

    @invariant()
    def totals_add_up(self) -> None:
        if not hasattr(self, "db"):
            return
        for code in self.staff:
            status = budget_status(self.db, SYSTEM, code)
            if status.opened:
                assert status.allocated_cents - status.spent_cents - status.held_cents == status.remaining_cents
                assert status.held_cents >= 0
        with self.db.read() as session:
            from empowerment.models import Gesture

            held = session.scalar(select(func.coalesce(func.sum(Gesture.cost_cents), 0))
                                  .where(Gesture.status == GestureStatus.PENDING_APPROVAL))
        assert held == sum(budget_status(self.db, SYSTEM, code).held_cents for code in self.staff)


@pytest.mark.slow
def test_no_sequence_of_money_moves_breaks_the_ledger(_sqlite_template: str, tmp_path: Path) -> None:
    LedgerMachine.template, LedgerMachine.directory = _sqlite_template, tmp_path
    run_state_machine_as_test(LedgerMachine, settings=settings(
        max_examples=25, stateful_step_count=25, deadline=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
