"""HTTP entry points beside the Streamlit pages and the command line, mounted on the same server by
`app.py` through `st.App(routes=routes())`. What goes here: request parsing and responses only;
every decision is a service's.

- `/api/session`, `/api/device`: the sign-in and device cookies (`session_routes`).
- `/api/oidc/login`, `/api/oidc/callback`: company sign-in with OpenID Connect (`oidc_routes`).
- `/api/handover/digest`: the hand-over's printable digest, checked against the cookie on every
  fetch (`digest_routes`).
- `/api/v1/...`: the JSON API for other systems (`v1`), with `/api/v1/openapi.json` and readable
  docs at `/api/v1/docs`.

Why a FastAPI application mounted at `/api/v1` rather than plain Starlette routes: Streamlit 1.67's
`st.App(routes=...)` takes any Starlette `BaseRoute`, so a `Mount` of a FastAPI app (FastAPI is
built on Starlette and shares Streamlit's server, event loop and port) costs nothing at run time,
and it gives the three things a public API needs from one declaration per endpoint: request
checking against typed models, the OpenAPI document (which Schemathesis then tests the server
against), and one place for problem+json errors. Written by hand on Starlette, the schema, the
checks and the document would be three copies of each endpoint's contract that drift apart. FastAPI's
own Swagger/ReDoc pages load scripts from a CDN, so they are off; `/api/v1/docs` is rendered here
from the OpenAPI document, with no script. Tested with streamlit 1.67.0, starlette 1.10.0 and
fastapi 0.165.0 (pinned in requirements.txt; starlette is Streamlit's own server, and a starlette
release has broken Streamlit before).
"""

from __future__ import annotations

import re

from starlette.routing import BaseRoute, Mount


def routes() -> list[BaseRoute]:
    """Every HTTP route the app serves besides Streamlit's own."""
    from empowerment.api.digest_routes import digest_routes
    from empowerment.api.oidc_routes import oidc_routes
    from empowerment.api.session_routes import cookie_routes
    from empowerment.api.v1 import create_app

    api = Mount("/api/v1", app=create_app())
    # Starlette's mount pattern stops at a line break, so a path holding an encoded newline fell
    # through to Streamlit's plain-text 404; every /api/v1 path belongs to the API (problem+json).
    api.path_regex = re.compile(r"^/api/v1/(?P<path>.*)$", re.DOTALL)
    return [*cookie_routes(), *oidc_routes(), *digest_routes(), api]
