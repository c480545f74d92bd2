"""Who may do what: one registry of named actions, and the one check every entry point uses.

    access.require(actor, "gesture.decide", team_id=employee.team_id)   # raises PermissionDenied
    access.allows(actor, "report.read")                                  # for showing a button
    access.team_ids(session, actor, "team.read")                         # the teams in reach

Every action is declared once below, with a description and, per role, its **reach**: `OWN` (the
actor's own records), `MANAGED` (the teams the actor manages) or `ALL`. A role without a grant may
not do it at all. The command line and background jobs act as `Actor.system()`, which may do
everything. Pages are shown to the roles that hold their page action (`empowerment.ui.nav`), and
every service checks its own action again, so no page ever decides scope. Refusals raise
`PermissionDenied` with a sentence the page can show as it is.

Segregation of duties lives here too, so every entry point (pages, command line, imports, API)
gets it from the same check: an action may refuse the actor's own records (`not_own`: nobody
approves or reviews a gesture they logged or that came from their own budget), and may touch only
records held by some roles (`holders`: only staff and managers hold and spend a recovery budget).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from empowerment.actor import Actor
from empowerment.errors import PermissionDenied, UnknownEmployee
from empowerment.models import Employee, Role, Team
from empowerment.models.lookups import employee_by_code


class Reach(enum.Flag):
    OWN = enum.auto()  # the actor's own records (their budget, their gestures)
    MANAGED = enum.auto()  # records of the teams the actor manages
    ALL = enum.auto()  # every record


OWN, MANAGED, ALL = Reach.OWN, Reach.MANAGED, Reach.ALL


@dataclass(frozen=True)
class Action:
    name: str
    description: str  # what the action is, in words: "approve or reject gestures waiting for approval"
    grants: Mapping[Role, Reach]
    # The sentence for a role without any grant; default "Only <roles> may <description> ...".
    denied: str | None = None
    # The sentence for a target out of the actor's reach; default "You may not <description> ...".
    out_of_reach: str | None = None
    # Segregation of duties. `not_own`: the sentence refusing the action on a record that is the
    # actor's own (their gesture, logged by them or on their budget); None: allowed on one's own.
    not_own: str | None = None
    # Whose records the action may touch, by the record holder's role (None: anyone's), and the
    # sentence refusing anyone else's.
    holders: frozenset[Role] | None = None
    not_a_holder: str | None = None
    roles: frozenset[Role] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "roles", frozenset(self.grants))

    def reach(self, actor: Actor) -> Reach | None:
        if actor.is_system:
            return ALL
        return self.grants.get(actor.role)


# Who holds a recovery budget and spends it: the front line. HR, CX leads and admins read, decide
# and configure; they never spend through the service (their records are refused as budgets too).
BUDGET_HOLDERS: frozenset[Role] = frozenset({Role.STAFF, Role.MANAGER})
NO_BUDGET = ("HR, CX leads and admins do not spend recovery budgets; log the gesture under the "
             "staff member or manager who made it.")

# Reusable grants: who works on a team's gestures, and who reads across the organisation.
FRONT_LINE: Mapping[Role, Reach] = {Role.STAFF: OWN, Role.MANAGER: OWN | MANAGED}
TEAM_LEADS: Mapping[Role, Reach] = {Role.MANAGER: MANAGED, Role.ADMIN: ALL}
READERS: Mapping[Role, Reach] = {Role.MANAGER: MANAGED, Role.HR: ALL, Role.CX_LEAD: ALL, Role.ADMIN: ALL}
LEADERS: Mapping[Role, Reach] = {Role.HR: ALL, Role.CX_LEAD: ALL, Role.ADMIN: ALL}
ADMINS: Mapping[Role, Reach] = {Role.ADMIN: ALL}
EVERYONE_OWN: Mapping[Role, Reach] = {role: OWN for role in Role}

_ACTIONS: tuple[Action, ...] = (
    # --- the front line ---------------------------------------------------------------------------
    Action("gesture.log", "log a recovery gesture on a budget", FRONT_LINE,
           out_of_reach="You may only log gestures on your own budget (managers: also for their teams).",
           holders=BUDGET_HOLDERS, not_a_holder=NO_BUDGET),
    Action("gesture.void", "undo a gesture", FRONT_LINE,
           out_of_reach="You may only undo your own gestures (managers: also their teams')."),
    Action("budget.read", "see a budget and its gestures", FRONT_LINE,
           out_of_reach="You may not see another person's budget."),
    Action("customer.read", "find customers and read their history",
           {Role.STAFF: OWN, Role.MANAGER: OWN | MANAGED, Role.HR: ALL, Role.CX_LEAD: ALL, Role.ADMIN: ALL},
           out_of_reach="This customer belongs to another location; ask a colleague there or a manager."),
    Action("customer.create", "add a customer", {role: ALL for role in Role}),
    Action("customer.merge", "merge two records of the same customer", ADMINS),
    Action("handover.read", "read the shift hand-over",
           {Role.STAFF: OWN, Role.MANAGER: OWN | MANAGED, Role.HR: ALL, Role.CX_LEAD: ALL, Role.ADMIN: ALL}),
    Action("incident.handle", "acknowledge, take over, follow up or close an incident",
           {Role.STAFF: OWN, Role.MANAGER: OWN | MANAGED, Role.ADMIN: ALL},
           out_of_reach="You may only act on incidents at your team's locations."),
    # HR and CX leads read the hand-over across locations with customers pseudonymised.
    Action("handover.identities", "see customers' names and rooms on the hand-over",
           {Role.STAFF: OWN, Role.MANAGER: OWN | MANAGED, Role.ADMIN: ALL}),
    # --- managing a team --------------------------------------------------------------------------
    Action("team.read", "open team views", READERS,
           denied="Team views are for managers; your own budget is on My budget.",
           out_of_reach="You can only see the teams you manage; ask an admin to add you as a manager "
                        "of that team."),
    Action("team.manage", "manage a team's gestures and people", TEAM_LEADS,
           out_of_reach="You may only manage the teams you manage."),
    Action("gesture.decide", "approve or reject gestures waiting for approval", TEAM_LEADS,
           out_of_reach="You may not approve gestures outside your teams.",
           not_own="You may not approve or reject a gesture you logged or that was given from your own "
                   "budget; another manager of the team or an admin decides it."),
    Action("gesture.review", "mark flagged gestures reviewed", TEAM_LEADS,
           out_of_reach="You may only review gestures for the teams you manage.",
           not_own="You may not review a gesture you logged or that was given from your own budget; "
                   "another manager of the team or an admin reviews it."),
    Action("story.feature", "feature recovery stories", READERS,
           out_of_reach="You may only feature stories of the teams you manage."),
    Action("recognition.give", "thank staff for a recovery story", TEAM_LEADS,
           out_of_reach="You may only thank people on the teams you manage."),
    Action("pin.unlock", "unlock a locked PIN", TEAM_LEADS,
           out_of_reach="You may not unlock the PIN of someone outside your teams.",
           not_own="You may not unlock your own PIN; ask another manager or an admin."),
    # --- proactive care (issue 13) -----------------------------------------------------------------
    Action("care.read", "read the proactive care list and the recognition feed of a location",
           {Role.STAFF: OWN, Role.MANAGER: OWN | MANAGED, Role.HR: ALL, Role.CX_LEAD: ALL, Role.ADMIN: ALL}),
    Action("followup.log", "record a follow-up with a customer", FRONT_LINE,
           out_of_reach="You may only record follow-ups as yourself (managers: also for their teams)."),
    Action("friction.read", "read the friction map",
           {Role.MANAGER: MANAGED, Role.CX_LEAD: ALL, Role.ADMIN: ALL, Role.HR: ALL},
           denied="The friction map is for managers and CX leads."),
    # --- insight ----------------------------------------------------------------------------------
    Action("payoff.read", "read the payoff", READERS),
    Action("report.read", "open the joint report", LEADERS),
    Action("report.identities", "see customer names in reports", LEADERS),
    Action("audit.read", "read the audit log", {Role.ADMIN: ALL, Role.HR: ALL}),
    Action("policy.read", "read the budget policies", {Role.ADMIN: ALL, Role.HR: ALL}),
    # --- configuration ----------------------------------------------------------------------------
    Action("policy.set", "change budget policies", ADMINS),
    Action("budget.adjust", "adjust budgets", ADMINS,
           not_own="You may not adjust your own budget; another admin does.",
           holders=BUDGET_HOLDERS, not_a_holder="Only staff and managers hold a recovery budget to adjust."),
    Action("settings.edit", "change the organisation's settings (guideline, import mappings)", ADMINS),
    Action("location.money", "set a location's currency and the locale its people type amounts in", ADMINS),
    Action("vocabulary.edit", "edit the organisation's vocabulary (gesture types, categories, values)",
           ADMINS),
    Action("data.import", "import data files", ADMINS),
    Action("data.export", "export data files", ADMINS),
    Action("user.create", "create users", ADMINS),
    Action("user.edit", "change, deactivate and reactivate employees", ADMINS),
    Action("password.set", "set a password", {**EVERYONE_OWN, Role.ADMIN: ALL},
           out_of_reach="You may not set another person's password."),
    Action("pin.set", "set a PIN", {**EVERYONE_OWN, Role.ADMIN: ALL},
           out_of_reach="You may not set another person's PIN."),
    # --- connected systems and notifications ------------------------------------------------------
    Action("api.manage", "manage API tokens and webhook sources", ADMINS),
    Action("notification.preferences", "choose how you are notified", EVERYONE_OWN,
           out_of_reach="You may only choose your own notifications."),
    Action("notification.log", "read the notification delivery log and send again", ADMINS),
    # --- the record's integrity and people's data (issue 11) --------------------------------------
    Action("integrity.verify", "check the ledger and the audit chain", ADMINS),
    Action("database.backup", "back up and restore the database", ADMINS),
    Action("customer.erase", "erase a customer's personal data on request", ADMINS),
)

ACTIONS: Mapping[str, Action] = {action.name: action for action in _ACTIONS}


def action(name: str) -> Action:
    try:
        return ACTIONS[name]
    except KeyError:  # a typo in code, never user input
        raise KeyError(f"No action '{name}' in empowerment.access.ACTIONS") from None


def _in_reach(actor: Actor, reach: Reach, team_id: int | None, employee_id: int | None) -> bool:
    if ALL in reach:
        return True
    if OWN in reach and employee_id is not None and employee_id == actor.employee_id:
        return True
    return MANAGED in reach and team_id is not None and team_id in actor.managed_team_ids


def _refusal(actor: Actor, spec: Action, team_id: int | None, employee_id: int | None,
             logged_by_id: int | None, holder_role: Role | None, anywhere: bool) -> str | None:
    """Why `actor` may not do `spec` to this record (None: they may). The one place that decides,
    segregation of duties included: reach, then the record holder's role, then self-dealing."""
    reach = spec.reach(actor)
    if reach is None:
        return spec.denied or (f"Only {_role_list(spec.roles)} may {spec.description}; you are signed "
                               f"in as {actor.role.label}.")
    if anywhere:
        return None
    if not _in_reach(actor, reach, team_id, employee_id):
        return spec.out_of_reach or f"You may not {spec.description} here."
    if spec.holders is not None and holder_role is not None and holder_role not in spec.holders:
        return spec.not_a_holder or f"You may not {spec.description} for a {holder_role.label}."
    if (spec.not_own and actor.employee_id is not None
            and actor.employee_id in (employee_id, logged_by_id)):
        return spec.not_own
    return None


def allows(actor: Actor, name: str, *, team_id: int | None = None, employee_id: int | None = None,
           logged_by_id: int | None = None, holder_role: Role | None = None, anywhere: bool = False) -> bool:
    """May `actor` do `name` to a record of `team_id` / `employee_id` (held by someone with
    `holder_role`, logged by `logged_by_id`)? With `anywhere`, whether the actor may do it to
    anything at all (for showing a page or a button)."""
    return _refusal(actor, action(name), team_id, employee_id, logged_by_id, holder_role, anywhere) is None


def require(actor: Actor, name: str, *, team_id: int | None = None, employee_id: int | None = None,
            logged_by_id: int | None = None, holder_role: Role | None = None, anywhere: bool = False) -> None:
    """`allows`, or `PermissionDenied` with the action's own sentence."""
    refusal = _refusal(actor, action(name), team_id, employee_id, logged_by_id, holder_role, anywhere)
    if refusal is not None:
        raise PermissionDenied(refusal)


def holds_a_budget(role: Role) -> bool:
    """Whether people with `role` hold a recovery budget (the front line)."""
    return role in BUDGET_HOLDERS


def _role_list(roles: Iterable[Role]) -> str:
    names = [role.plural for role in Role if role in set(roles)]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def reaches_all(actor: Actor, name: str) -> bool:
    """Whether `actor` may `name` anything of anybody (an admin setting any password)."""
    reach = action(name).reach(actor)
    return reach is not None and ALL in reach


def roles_for(name: str) -> frozenset[Role]:
    return action(name).roles


# --- reach over teams, locations and people -------------------------------------------------------

def team_ids(session: Session, actor: Actor, name: str, wanted: Iterable[int] | None = None) -> list[int]:
    """The ids of the teams `actor` may `name` (all of them when `wanted` is None), refusing any
    wanted team out of reach. The one answer to "which teams may this person see"."""
    require(actor, name, anywhere=True)
    reach = action(name).reach(actor)
    assert reach is not None
    if ALL in reach:
        visible = list(session.scalars(select(Team.id).order_by(Team.name)))
    else:
        visible = sorted(set(actor.managed_team_ids) if MANAGED in reach else set())
        if OWN in reach and actor.team_id is not None and actor.team_id not in visible:
            visible.append(actor.team_id)
    if wanted is None:
        return visible
    wanted_ids = list(dict.fromkeys(wanted))
    if any(team_id not in visible for team_id in wanted_ids):
        raise PermissionDenied(action(name).out_of_reach or f"You may not {action(name).description} there.")
    return wanted_ids


def location_ids(session: Session, actor: Actor, name: str) -> list[int] | None:
    """The ids of the locations `actor` may `name` (their own team's and their managed teams'
    locations); None means every location."""
    require(actor, name, anywhere=True)
    reach = action(name).reach(actor)
    assert reach is not None
    if ALL in reach:
        return None
    teams = set(actor.managed_team_ids) if MANAGED in reach else set()
    if OWN in reach and actor.team_id is not None:
        teams.add(actor.team_id)
    if not teams:
        return []
    rows = session.scalars(select(Team.location_id).where(Team.id.in_(teams)))
    return sorted({row for row in rows if row is not None})


def employee(session: Session, actor: Actor, name: str, employee_code: str, *,
             for_update: bool = False, active_only: bool = True) -> Employee:
    """The one employee lookup: the employee with this organisation id, once `actor` is known to
    be allowed to `name` them. Unknown (or, with `active_only`, inactive) ids raise UnknownEmployee."""
    found = employee_by_code(session, employee_code, for_update=for_update)
    if found is None or (active_only and not found.active):
        raise UnknownEmployee(f"No {'active ' if active_only else ''}employee with id '{employee_code}'.")
    require(actor, name, team_id=found.team_id, employee_id=found.id, holder_role=found.role)
    return found
