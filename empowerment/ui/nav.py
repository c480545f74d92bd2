"""The page registry: every page, its file, and the action a person needs to open it.

A page is shown to the roles that hold its action in `empowerment.access` (one registry for pages
and services alike). `app.py` builds `st.navigation` from this, and every page guards itself with
`require_page(KEY)` because Streamlit may serve a page file before `app.py` runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from empowerment import access
from empowerment.actor import Actor
from empowerment.models import Role


@dataclass(frozen=True)
class PageSpec:
    key: str
    path: str
    title: str
    icon: str
    action: str  # the access action that opens this page
    section: str

    @property
    def roles(self) -> frozenset[Role]:
        return access.roles_for(self.action)


PAGES: tuple[PageSpec, ...] = (
    PageSpec("log_recovery", "pages/log_recovery.py", "Log a recovery", "🤝", "gesture.log", "Front desk"),
    PageSpec("my_budget", "pages/my_budget.py", "My budget", "💳", "budget.read", "Front desk"),
    PageSpec("handover", "pages/handover.py", "Shift hand-over", "📋", "handover.read", "Front desk"),
    PageSpec("team", "pages/team.py", "Team", "👥", "team.manage", "Manage"),
    PageSpec("payoff", "pages/payoff.py", "Payoff", "📈", "payoff.read", "Insight"),
    PageSpec("joint_report", "pages/joint_report.py", "Joint report", "📑", "report.read", "Insight"),
    PageSpec("data", "pages/data.py", "Data", "🗂️", "data.import", "Admin"),
    PageSpec("policies", "pages/policies.py", "Policies", "⚙️", "policy.set", "Admin"),
    PageSpec("audit_log", "pages/audit_log.py", "Audit log", "🔎", "audit.read", "Admin"),
    PageSpec("connections", "pages/connections.py", "Connections", "🔌", "api.manage", "Admin"),
    PageSpec("deliveries", "pages/deliveries.py", "Delivery log", "📬", "notification.log", "Admin"),
    PageSpec("notifications", "pages/notifications.py", "Notifications", "🔔", "notification.preferences",
             "Account"),
)

PAGES_BY_KEY = {page.key: page for page in PAGES}

LANDING_PAGES = {Role.STAFF: "log_recovery", Role.MANAGER: "team", Role.HR: "joint_report",
                 Role.CX_LEAD: "joint_report", Role.ADMIN: "team"}


def pages_for(actor: Actor) -> list[PageSpec]:
    """The pages this person may open, in the registry's order."""
    return [page for page in PAGES if access.allows(actor, page.action, anywhere=True)]


def landing_page_for(actor: Actor) -> PageSpec:
    return PAGES_BY_KEY[LANDING_PAGES[actor.role]]
