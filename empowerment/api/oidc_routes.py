"""Company sign-in (OpenID Connect) routes; filled in below."""

from __future__ import annotations

from starlette.routing import BaseRoute


def oidc_routes() -> list[BaseRoute]:
    return []
