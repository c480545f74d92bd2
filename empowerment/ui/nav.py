"""The page registry: every page, its file, and the roles that may open it.

`app.py` builds `st.navigation` from this, and every page guards itself with
`require_page(KEY)` because Streamlit may serve a page file before `app.py` runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from empowerment.models import Role

ALL_ROLES = frozenset(Role)
EVERYONE_BUT_ADMIN_ONLY = ALL_ROLES


@dataclass(frozen=True)
class PageSpec:
    key: str
    path: str
    title: str
    icon: str
    roles: frozenset[Role]
    section: str


PAGES: tuple[PageSpec, ...] = (
    PageSpec("log_recovery", "pages/log_recovery.py", "Log a recovery", "🤝",
             frozenset({Role.STAFF, Role.MANAGER, Role.ADMIN}), "Front desk"),
    PageSpec("my_budget", "pages/my_budget.py", "My budget", "💳",
             frozenset({Role.STAFF, Role.MANAGER, Role.ADMIN}), "Front desk"),
    PageSpec("handover", "pages/handover.py", "Shift hand-over", "📋", ALL_ROLES, "Front desk"),
    PageSpec("team", "pages/team.py", "Team", "👥", frozenset({Role.MANAGER, Role.ADMIN}), "Manage"),
    PageSpec("payoff", "pages/payoff.py", "Payoff", "📈",
             frozenset({Role.MANAGER, Role.HR, Role.CX_LEAD, Role.ADMIN}), "Insight"),
    PageSpec("joint_report", "pages/joint_report.py", "Joint report", "📑",
             frozenset({Role.HR, Role.CX_LEAD, Role.ADMIN}), "Insight"),
    PageSpec("data", "pages/data.py", "Data", "🗂️", frozenset({Role.ADMIN}), "Admin"),
    PageSpec("policies", "pages/policies.py", "Policies", "⚙️", frozenset({Role.ADMIN}), "Admin"),
    PageSpec("audit_log", "pages/audit_log.py", "Audit log", "🔎",
             frozenset({Role.ADMIN, Role.HR}), "Admin"),
)

PAGES_BY_KEY = {page.key: page for page in PAGES}


def pages_for(role: Role) -> list[PageSpec]:
    return [page for page in PAGES if role in page.roles]


def landing_page_for(role: Role) -> PageSpec:
    preferred = {
        Role.STAFF: "log_recovery",
        Role.MANAGER: "team",
        Role.HR: "joint_report",
        Role.CX_LEAD: "joint_report",
        Role.ADMIN: "log_recovery",
    }[role]
    return PAGES_BY_KEY[preferred]
