"""`GET /api/handover/digest?format=html|text`: the hand-over's printable digest, made for whoever
the request's sign-in cookie says, at the moment of the request.

Why a route and not `st.download_button`: Streamlit serves a download button's bytes from a
`/media/...` URL that needs no cookie at all, so a digest stayed fetchable by anyone holding the
URL, also after the tablet had switched to another person. Here every fetch checks the signed,
HttpOnly, SameSite=Strict session cookie (not idle, not signed out) and the reader's right again,
and the answer is never cached.
"""

from __future__ import annotations

import functools

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from empowerment import settings
from empowerment.clock import utc_now
from empowerment.db import Database
from empowerment.errors import PermissionDenied
from empowerment.reports import digest
from empowerment.services import sessions

DIGEST_PATH = "/api/handover/digest"
_NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


@functools.cache
def _database() -> Database:
    return Database()


def _refuse(status: int, message: str) -> Response:
    return PlainTextResponse(message, status_code=status, headers=_NO_STORE)


async def _digest_route(request: Request) -> Response:
    return digest_response(_database(), request.cookies.get(sessions.SESSION_COOKIE),
                           request.query_params.get("format", "html"))


def digest_response(db: Database, cookie: str | None, kind: str) -> Response:
    """The digest for the cookie's person, or 401/403/400 with a sentence."""
    if kind not in ("html", "text"):
        return _refuse(400, "Ask for format=html or format=text.")
    claim = sessions.read_cookie(cookie)
    actor = (sessions.restore_session(db, claim, utc_now(),
                                      settings.idle_timeout_minutes()) if claim else None)
    if actor is None:
        return _refuse(401, "Sign in to the app, then open the hand-over page again.")
    try:
        handover = digest.read_handover(db, actor, purpose=f"digest ({kind})")
    except PermissionDenied as exc:
        return _refuse(403, str(exc))
    stamp = f"{handover.until:%Y%m%d-%H%M}"
    if kind == "html":
        body, media, name = digest.digest_html(handover), "text/html; charset=utf-8", f"handover-{stamp}.html"
    else:
        body, media, name = digest.digest_text(handover), "text/plain; charset=utf-8", f"handover-{stamp}.txt"
    headers = {**_NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'}
    return Response(body, media_type=media, headers=headers)


def digest_routes() -> list[BaseRoute]:
    return [Route(DIGEST_PATH, _digest_route, methods=["GET"])]
