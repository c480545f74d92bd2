"""The app's rules that need no database: statuses, ledger directions, policy thresholds and
precedence, the access registry."""

from __future__ import annotations

from datetime import date

import pytest

from empowerment import access
from empowerment.actor import Actor
from empowerment.errors import PermissionDenied
from empowerment.models import BudgetPolicy, GestureStatus, LedgerEntryType, Period, Role
from empowerment.models.lookups import choose_policy
from empowerment.queries.budgets import LedgerTotals, SpendingLimits, ledger_totals

# --- gesture statuses ------------------------------------------------------------------------------


@pytest.mark.parametrize("status, against_budget, recovery", [
    (GestureStatus.LOGGED, True, True),
    (GestureStatus.PENDING_APPROVAL, True, False),  # money held, not a recovery yet
    (GestureStatus.REJECTED, False, False),
    (GestureStatus.VOIDED, False, False),
])
def test_each_status_says_whether_it_counts(status: GestureStatus, against_budget: bool, recovery: bool) -> None:
    assert status.counts_against_budget is against_budget
    assert status.counts_as_recovery is recovery
    assert (status in GestureStatus.against_budget()) is against_budget
    assert (status in GestureStatus.recoveries()) is recovery


def test_statuses_have_labels_not_codes() -> None:
    assert [s.label for s in GestureStatus] == ["Logged", "Waiting for approval", "Rejected", "Undone"]


# --- the ledger's directions -----------------------------------------------------------------------

MONEY_IN = {LedgerEntryType.ALLOCATION, LedgerEntryType.ROLLOVER, LedgerEntryType.RELEASE,
            LedgerEntryType.REVERSAL, LedgerEntryType.ADJUSTMENT}


@pytest.mark.parametrize("kind", list(LedgerEntryType))
def test_every_entry_type_moves_money_one_way(kind: LedgerEntryType) -> None:
    assert kind.direction == (1 if kind in MONEY_IN else -1)


def test_every_entry_type_belongs_to_exactly_one_total() -> None:
    for kind in LedgerEntryType:
        memberships = [kind.counts_as_allocation, kind.counts_as_spend, kind.counts_as_hold]
        assert memberships.count(True) == 1, kind


def test_totals_read_given_spent_and_held_from_signed_sums() -> None:
    sums = {LedgerEntryType.ALLOCATION: 50_000, LedgerEntryType.ROLLOVER: 1_000,
            LedgerEntryType.DEDUCTION: -500, LedgerEntryType.SPEND: -8_000, LedgerEntryType.REVERSAL: 2_000,
            LedgerEntryType.HOLD: -30_000, LedgerEntryType.RELEASE: 30_000}
    assert ledger_totals(sums) == LedgerTotals(allocated_cents=50_500, spent_cents=6_000, held_cents=0)


# --- policies ----------------------------------------------------------------------------------------

def _policy(policy_id: int, *, effective: date = date(2026, 1, 1), employee_id: int | None = None,
            team_id: int | None = None, role: Role | None = None, review: int | None = None,
            approval: int | None = None) -> BudgetPolicy:
    return BudgetPolicy(id=policy_id, name=f"P{policy_id}", employee_id=employee_id, team_id=team_id,
                        role=role, allowance_cents=100, period=Period.MONTH, effective_from=effective,
                        customer_daily_cap_cents=200_000, review_above_cents=review,
                        approval_above_cents=approval)


def test_thresholds_apply_strictly_above_and_only_when_set() -> None:
    policy = _policy(1, review=15_000, approval=40_000)
    assert not policy.needs_review(15_000) and policy.needs_review(15_001)
    assert not policy.needs_approval(40_000) and policy.needs_approval(40_001)
    unset = _policy(2)
    assert not unset.needs_review(10**9) and not unset.needs_approval(10**9)
    limits = SpendingLimits(1, 2, 3, review_above_cents=15_000, approval_above_cents=40_000)
    assert limits.needs_review(15_001) and not limits.needs_approval(40_000)


def test_the_most_specific_scope_wins_then_the_newest_version() -> None:
    everyone = _policy(1)
    role = _policy(2, role=Role.STAFF)
    team = _policy(3, team_id=7)
    own = _policy(4, employee_id=42)
    newer_team = _policy(5, team_id=7, effective=date(2026, 3, 1))
    other_team = _policy(6, team_id=8)
    assert choose_policy([everyone, role, team, own, newer_team], 42, 7, Role.STAFF) is own
    assert choose_policy([everyone, role, team, newer_team, other_team], 42, 7, Role.STAFF) is newer_team
    assert choose_policy([everyone, role, other_team], 42, 7, Role.STAFF) is role
    assert choose_policy([everyone, role], 42, 7, Role.MANAGER) is everyone
    assert choose_policy([other_team], 42, 7, Role.STAFF) is None


# --- the access registry --------------------------------------------------------------------------

STAFF = Actor(employee_id=1, name="Ana", role=Role.STAFF, team_id=10)
MANAGER = Actor(employee_id=2, name="Mia", role=Role.MANAGER, team_id=10, managed_team_ids=frozenset({10}))
HR = Actor(employee_id=3, name="Hal", role=Role.HR)
ADMIN = Actor(employee_id=4, name="Ada", role=Role.ADMIN)


def test_every_action_is_described_and_named_once() -> None:
    names = [a.name for a in access._ACTIONS]
    assert len(names) == len(set(names))
    assert all(a.description and a.grants for a in access._ACTIONS)


@pytest.mark.parametrize("actor, name, target, allowed", [
    (STAFF, "gesture.log", dict(employee_id=1, team_id=10), True),  # own budget
    (STAFF, "gesture.log", dict(employee_id=5, team_id=10), False),  # a colleague's
    (MANAGER, "gesture.log", dict(employee_id=5, team_id=10), True),  # their team
    (MANAGER, "gesture.decide", dict(team_id=10), True),
    (MANAGER, "gesture.decide", dict(team_id=11), False),
    (HR, "gesture.decide", dict(team_id=10), False),  # reads, never moves money
    (HR, "team.read", dict(team_id=11), True),
    (STAFF, "team.read", dict(team_id=10), False),
    (ADMIN, "policy.set", {}, True),
    (MANAGER, "policy.set", {}, False),
    (Actor.system("cli"), "policy.set", {}, True),
])
def test_the_registry_decides(actor: Actor, name: str, target: dict[str, int], allowed: bool) -> None:
    assert access.allows(actor, name, **target) is allowed
    if allowed:
        access.require(actor, name, **target)
    else:
        with pytest.raises(PermissionDenied):
            access.require(actor, name, **target)


def test_refusals_are_sentences_with_role_labels() -> None:
    with pytest.raises(PermissionDenied, match="^Only HR and admins may read the audit log; you are signed in as CX lead.$"):
        access.require(Actor(9, "Cleo", Role.CX_LEAD), "audit.read")


def test_an_unknown_action_is_a_programming_error() -> None:
    with pytest.raises(KeyError, match="No action"):
        access.allows(ADMIN, "gesture.lgo")


def test_an_incident_s_life_is_ruled_by_its_status() -> None:
    from empowerment.models import IncidentStatus

    assert IncidentStatus.open_statuses() == [IncidentStatus.OPEN]
    assert [s for s in IncidentStatus if s.can_be_closed] == [IncidentStatus.OPEN]
    assert [s for s in IncidentStatus if s.can_change_hands] == [IncidentStatus.OPEN]
    assert [s for s in IncidentStatus if s.can_be_followed_up] == [IncidentStatus.OPEN, IncidentStatus.RESOLVED]
    assert all("_" not in s.label and s.label[0].isupper() for s in IncidentStatus)
