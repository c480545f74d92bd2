"""The page registry: every page, its file, and the action a person needs to open it.

A page is shown to the roles that hold its action in `empowerment.access` (one registry for pages
and services alike). `app.py` builds `st.navigation` from this, and every page guards itself with
`require_page(KEY)` because Streamlit may serve a page file before `app.py` runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from empowerment import access
from empowerment.actor import Actor
from empowerment.models import Role
from empowerment.ui import components


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
    PageSpec("log_recovery", "pages/log_recovery.py", "Log a recovery", ":material/volunteer_activism:", "gesture.log", "Front desk"),
    PageSpec("my_budget", "pages/my_budget.py", "My budget", ":material/account_balance_wallet:", "budget.read", "Front desk"),
    PageSpec("handover", "pages/handover.py", "Shift hand-over", ":material/assignment:", "handover.read", "Front desk"),
    PageSpec("care_list", "pages/care_list.py", "Care list", ":material/favorite:", "care.read", "Front desk"),
    PageSpec("team", "pages/team.py", "Team", ":material/groups:", "team.manage", "Manage"),
    PageSpec("payoff", "pages/payoff.py", "Payoff", ":material/trending_up:", "payoff.read", "Insight"),
    PageSpec("joint_report", "pages/joint_report.py", "Joint report", ":material/summarize:", "report.read", "Insight"),
    PageSpec("friction", "pages/friction.py", "Friction map", ":material/explore:", "friction.read", "Insight"),
    PageSpec("data", "pages/data.py", "Data", ":material/folder_open:", "data.import", "Admin"),
    PageSpec("vocabulary", "pages/vocabulary.py", "Vocabulary", ":material/translate:", "vocabulary.edit", "Admin"),
    PageSpec("people", "pages/people.py", "People", ":material/badge:", "user.edit", "Admin"),
    PageSpec("policies", "pages/policies.py", "Policies", ":material/tune:", "policy.set", "Admin"),
    PageSpec("locations", "pages/locations.py", "Locations", ":material/location_on:", "location.money", "Admin"),
    PageSpec("customers", "pages/customers.py", "Customers", ":material/group:", "customer.merge", "Admin"),
    PageSpec("audit_log", "pages/audit_log.py", "Audit log", ":material/manage_search:", "audit.read", "Admin"),
    PageSpec("connections", "pages/connections.py", "Connections", ":material/cable:", "api.manage", "Admin"),
    PageSpec("deliveries", "pages/deliveries.py", "Delivery log", ":material/outbox:", "notification.log", "Admin"),
    PageSpec("notifications", "pages/notifications.py", "Notifications", ":material/notifications:", "notification.preferences",
             "Account"),
)

PAGES_BY_KEY = {page.key: page for page in PAGES}

LANDING_PAGES = {Role.STAFF: "log_recovery", Role.MANAGER: "team", Role.HR: "joint_report",
                 Role.CX_LEAD: "joint_report", Role.ADMIN: "team"}


def pages_for(actor: Actor) -> list[PageSpec]:
    """The pages this person may open, in the registry's order."""
    return [page for page in PAGES if access.allows(actor, page.action, anywhere=True)]


# Who works at the shared tablet: their pages get the whole width, the menu one tap away.
TABLET_ROLES = frozenset({Role.STAFF})


def sidebar_collapsed(actor: Actor, tablet_mode: bool) -> bool:
    """Collapse the sidebar on the shared tablet (any role signed in there) and for staff."""
    return tablet_mode or actor.role in TABLET_ROLES


def landing_page_for(actor: Actor) -> PageSpec:
    return PAGES_BY_KEY[LANDING_PAGES[actor.role]]


def render_links(sections: dict[str, list[object]]) -> None:
    """The sidebar's page links, by section, as plain links (Streamlit's own menu is a list whose
    section headings are not list items: axe-core's "list" and "listitem" violations), and the
    base style every page needs. `sections` maps a heading to its `st.Page`s (hidden ones left out)."""
    components.apply_base_style()
    with st.sidebar, st.container(key="emp_nav"):
        for heading, pages in sections.items():
            st.markdown(f"**{heading}**")
            for page in pages:
                st.page_link(page)  # type: ignore[arg-type]
