"""Browser sessions: signed tokens, idle time, revocation, and the device cookie.

Browser sessions are signed tokens (`itsdangerous`, keyed by the installation's secret): a
short-lived hand-off token the page gives its own `/api/session` route (`empowerment.api`), which
answers with the long-lived HttpOnly cookie. Signing out revokes the session id in the audit log,
so a stale cookie cannot bring the person back even if the browser kept it. The device cookie
remembers, per browser, which sign-in screen and which location/team a shared tablet shows.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from empowerment import audit, settings
from empowerment.actor import Actor, load_actor
from empowerment.db import Database
from empowerment.models import AuditEvent, table
from empowerment.models.tables import BrowserSession
from empowerment.services.signin import SIGN_IN_SCREEN

SESSION_COOKIE = "emp_session"
SESSION_MAX_AGE_SECONDS = 12 * 3600  # one long shift; the idle timeout ends it much sooner
HANDOFF_MAX_AGE_SECONDS = 120
DEVICE_COOKIE = "emp_device"
_DEVICE_PART = re.compile(r"^[A-Za-z0-9._-]{0,64}$")


@dataclass(frozen=True)
class SessionClaim:
    employee_id: int
    sid: str
    issued_at: datetime


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(settings.secret_key(), salt=f"empowerment.{purpose}")


def _session_ref(sid: str) -> str:
    """How the audit log names a session: a digest, so the log never holds a live session id."""
    return hashlib.sha256(sid.encode()).hexdigest()[:32]


def new_session_id() -> str:
    return secrets.token_urlsafe(18)


def handoff_token(employee_id: int, sid: str) -> str:
    """Given to the browser right after sign-in; `/api/session` swaps it for the cookie."""
    return _serializer("handoff").dumps({"e": employee_id, "s": sid})


def cookie_from_handoff(token: str) -> str | None:
    """The session cookie's value for a fresh, genuine hand-off token; None otherwise."""
    try:
        data = _serializer("handoff").loads(token, max_age=HANDOFF_MAX_AGE_SECONDS)
    except (BadSignature, SignatureExpired, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("e"), int) or not data.get("s"):
        return None
    return _serializer("session").dumps({"e": data["e"], "s": str(data["s"])})


def read_cookie(value: str | None) -> SessionClaim | None:
    if not value:
        return None
    try:
        data, signed_at = _serializer("session").loads(
            value, max_age=SESSION_MAX_AGE_SECONDS, return_timestamp=True)
    except (BadSignature, SignatureExpired, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("e"), int) or not data.get("s"):
        return None
    issued = signed_at.astimezone().replace(tzinfo=None, microsecond=0)
    return SessionClaim(data["e"], str(data["s"]), issued)


# Last activity lives in the database (`browser_sessions`), so a browser that reconnects to another
# replica keeps its idle clock. Each process writes a session's row at most every TOUCH_EVERY: the
# idle timeout is counted in minutes, and a write per rerun would queue every tap behind SQLite's
# one writer. `_written` only remembers what this process last wrote; it decides nothing.
TOUCH_EVERY = timedelta(seconds=30)
_written: dict[str, datetime] = {}
_written_lock = threading.Lock()


def touch_session(db: Database, sid: str, at: datetime) -> None:
    """Record the session's activity at `at` (shared by every replica through the database)."""
    with _written_lock:
        last = _written.get(sid)
        if last is not None and last <= at < last + TOUCH_EVERY:
            return
        _written[sid] = at
        if len(_written) > 10_000:  # sessions never signed out: forget old ones
            for stale in [k for k, v in _written.items() if at - v > timedelta(hours=24)]:
                del _written[stale]
    rows = table(BrowserSession)
    insert_fn = pg_insert if db.dialect == "postgresql" else sqlite_insert
    upsert = insert_fn(rows).values(session_ref=_session_ref(sid), last_seen_at=at)
    upsert = upsert.on_conflict_do_update(index_elements=["session_ref"], set_={"last_seen_at": at})
    with db.write() as session:
        session.connection().execute(upsert)
        if last is None:  # a session new to this process: prune those idle for a day
            session.connection().execute(delete(rows).where(rows.c.last_seen_at < at - timedelta(days=1)))


def last_activity(db: Database, sid: str) -> datetime | None:
    with db.read() as session:
        return session.scalar(select(BrowserSession.last_seen_at).where(
            BrowserSession.session_ref == _session_ref(sid)))


def idle_expired(last_activity: datetime | None, now: datetime, idle_minutes: int) -> bool:
    return last_activity is not None and now - last_activity > timedelta(minutes=idle_minutes)


def end_session(db: Database, actor: Actor | None, sid: str | None, reason: str) -> None:
    """Sign out: the session id is revoked (in the audit log, so every server process sees it)."""
    if not sid and actor is None:
        return
    with _written_lock:
        _written.pop(sid or "", None)
    with db.write() as session:
        if sid:
            session.connection().execute(delete(table(BrowserSession)).where(
                table(BrowserSession).c.session_ref == _session_ref(sid)))
        audit.record(session, actor or SIGN_IN_SCREEN, "auth.signed_out", "session",
                     _session_ref(sid) if sid else None, dict(reason=reason))


def restore_session(db: Database, claim: SessionClaim, now: datetime, idle_minutes: int) -> Actor | None:
    """The actor for a cookie's claim if the session is neither idle, revoked nor orphaned."""
    last = last_activity(db, claim.sid) or claim.issued_at
    if idle_expired(last, now, idle_minutes):
        return None
    with db.read() as session:
        revoked = session.scalar(select(AuditEvent.id).where(
            AuditEvent.action == "auth.signed_out", AuditEvent.entity_id == _session_ref(claim.sid)
        ).limit(1))
    if revoked is not None:
        return None
    return load_actor(db, claim.employee_id)


def cookie_secure(request_is_https: bool) -> bool:
    """Whether the sign-in and device cookies carry `Secure` (`EMPOWERMENT_COOKIE_SECURE`): auto
    marks them when the request came over HTTPS (directly or through the proxy) or the app's
    public address is https, so a cookie set behind TLS is never sent over plain HTTP."""
    config = settings.current()
    if config.cookie_secure == "always":
        return True
    if config.cookie_secure == "never":
        return False
    return request_is_https or config.public_url.startswith("https://")


def same_origin_request(headers: Mapping[str, str]) -> bool:
    """Whether a cookie-setting request comes from the app's own pages, not another site's form
    (CSRF, e.g. signing the victim in as the attacker). Browsers send `Sec-Fetch-Site` and `Origin`
    with every POST; a request with neither (not a browser) has no victim's cookie to abuse. The
    origin's host must be the one the request was sent to (`Host`, or the proxy's
    `X-Forwarded-Host`) or the host of `EMPOWERMENT_PUBLIC_URL`; the scheme may differ behind a
    proxy that ends TLS."""
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = headers.get("origin")
    if origin is None:
        return True
    allowed = {headers.get("host"), headers.get("x-forwarded-host"),
               urlsplit(settings.current().public_url).netloc}
    return urlsplit(origin).netloc in allowed - {None, ""}


def parse_device(value: str | None) -> tuple[str, str | None, str | None] | None:
    """'tablet|HAR|HAR-FD' -> ("tablet", location code, team code); None if malformed."""
    parts = (value or "").split("|")
    if len(parts) != 3 or parts[0] not in ("tablet", "password"):
        return None
    if not all(_DEVICE_PART.match(p) for p in parts[1:]):
        return None
    return parts[0], parts[1] or None, parts[2] or None
