"""HTTP entry points beside the Streamlit pages and the command line: routes mounted on the same
server by `app.py`. What goes here: request parsing and responses only; every decision is a service's.
"""

from __future__ import annotations

from starlette.routing import BaseRoute


def routes() -> list[BaseRoute]:
    """Every HTTP route the app serves besides Streamlit's own."""
    from empowerment.api.session_routes import cookie_routes

    return cookie_routes()
