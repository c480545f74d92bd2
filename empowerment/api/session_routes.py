"""The sign-in cookie routes, mounted beside the Streamlit app by `app.py` (`st.App(routes=...)`).

- `POST /api/session` swaps a fresh hand-off token (given to the page right after sign-in) for the
  signed, HttpOnly, SameSite=Strict session cookie; `DELETE /api/session` clears it.
- `POST /api/device` remembers, per browser, which sign-in screen and which location/team a shared
  tablet shows.

Both refuse a request from another site (403): a cross-site form could otherwise sign a victim
in as the attacker or change the tablet's screen. Cookies are `Secure` behind HTTPS
(`EMPOWERMENT_COOKIE_SECURE`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from empowerment.services import sessions


def _cross_site(request: Request) -> Response | None:
    """403 for a request another site's page made (see `sessions.same_origin_request`)."""
    if sessions.same_origin_request(request.headers):
        return None
    return Response("Refused: this request did not come from the app's own pages.", status_code=403,
                    headers={"Cache-Control": "no-store"})


async def _device_route(request: Request) -> Response:
    """Remembers, per browser, which sign-in screen and which location/team the tablet shows."""
    refused = _cross_site(request)
    if refused is not None:
        return refused
    value = (await request.body())[:300].decode("ascii", errors="replace")
    if sessions.parse_device(value) is None:
        return Response(status_code=400, headers={"Cache-Control": "no-store"})
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    response.set_cookie(sessions.DEVICE_COOKIE, value, max_age=365 * 86400, path="/", httponly=True,
                        samesite="strict", secure=_https(request))
    return response


def _https(request: Request) -> bool:
    return sessions.cookie_secure(
        request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https")


async def _session_route(request: Request) -> Response:
    refused = _cross_site(request)
    if refused is not None:
        return refused
    response = Response(status_code=204, headers={"Cache-Control": "no-store"})
    if request.method == "DELETE":
        response.delete_cookie(sessions.SESSION_COOKIE, path="/", httponly=True, samesite="strict",
                               secure=_https(request))
        return response
    token = (await request.body())[:4096].decode("ascii", errors="replace")
    value = sessions.cookie_from_handoff(token)
    if value is None:
        return Response(status_code=400, headers={"Cache-Control": "no-store"})
    response.set_cookie(sessions.SESSION_COOKIE, value, max_age=sessions.SESSION_MAX_AGE_SECONDS,
                        path="/", httponly=True, samesite="strict", secure=_https(request))
    return response


def cookie_routes() -> list[BaseRoute]:
    return [Route("/api/session", _session_route, methods=["POST", "DELETE"]),
            Route("/api/device", _device_route, methods=["POST"])]
