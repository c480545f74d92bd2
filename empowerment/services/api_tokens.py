"""API tokens: created by admins (shown once, stored as a SHA-256 digest), named, scoped, revocable,
with a last-used time and a per-token rate limit counted in the database (so it holds across
replicas). Every API call is authenticated here and recorded in the audit log.

A token acts with the rights of one employee (re-read on every call, so a deactivated person's
tokens stop at once), narrowed by its scopes: `ingest` (batch upserts), `log` (log, void and decide
gestures), `read` (customer histories and balances). The app's own scope rules then apply as for
that person in the app.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from empowerment import access, audit, settings
from empowerment.actor import Actor, actor_for
from empowerment.clock import utc_now
from empowerment.db import Database
from empowerment.errors import (
    AuthenticationFailed,
    InvalidInput,
    InvalidState,
    NotFound,
    RateLimited,
    ScopeMissing,
)
from empowerment.models import ApiRateWindow, ApiToken, Employee, Role, table

SCOPES: dict[str, str] = {
    "ingest": "send customers, transactions and incidents in batches",
    "log": "log, undo and decide gestures",
    "read": "read customer histories and budget balances",
}
TOKEN_PREFIX = "emp_"
MAX_NAME_CHARS = 100
UNKNOWN_TOKEN = "The API token is missing, unknown or revoked."
_TOKEN_SHAPE = re.compile(r"^emp_[A-Za-z0-9_-]{20,100}$")


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class NewToken:
    token: str  # shown once; only its digest is stored
    token_id: int
    name: str
    scopes: tuple[str, ...]


def parse_scopes(scopes: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    wanted = scopes.replace(",", " ").split() if isinstance(scopes, str) else list(scopes)
    unknown = [s for s in wanted if s not in SCOPES]
    if unknown or not wanted:
        raise InvalidInput(f"Give one or more scopes from: {', '.join(SCOPES)}"
                           + (f" ('{unknown[0]}' is not one)." if unknown else "."))
    return tuple(s for s in SCOPES if s in wanted)


def create_token(db: Database, actor: Actor, name: str, scopes: str | list[str] | tuple[str, ...],
                 employee_code: str, rate_limit_per_minute: int | None = None) -> NewToken:
    """A new token acting as `employee_code`; the only time the token itself is known."""
    access.require(actor, "api.manage")
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME_CHARS:
        raise InvalidInput(f"Name the token (1 to {MAX_NAME_CHARS} characters), after the system that uses it.")
    chosen = parse_scopes(scopes)
    limit = rate_limit_per_minute or settings.current().api_rate_limit_per_minute
    if not 1 <= limit <= 1_000_000:
        raise InvalidInput("The rate limit is a number of calls per minute from 1 to 1,000,000.")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.write() as session:
        employee = access.employee(session, actor, "api.manage", employee_code)
        row = ApiToken(name=name, token_hash=digest(token), prefix=token[:10], scopes=" ".join(chosen),
                       employee_id=employee.id, rate_limit_per_minute=limit, created_by_id=actor.employee_id)
        session.add(row)
        session.flush()
        audit.record(session, actor, "api_token.created", "api_token", row.id,
                     dict(name=name, scopes=" ".join(chosen), acts_as=employee.code, rate_limit=limit))
        return NewToken(token, row.id, name, chosen)


def revoke_token(db: Database, actor: Actor, token_id: int, now: datetime | None = None) -> None:
    access.require(actor, "api.manage")
    with db.write() as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise NotFound(f"No API token {token_id}.")
        if row.revoked_at is not None:
            raise InvalidState(f"The token '{row.name}' is already revoked.")
        row.revoked_at = now or utc_now()
        row.revoked_by_id = actor.employee_id
        audit.record(session, actor, "api_token.revoked", "api_token", row.id, dict(name=row.name))


@dataclass(frozen=True)
class Caller:
    """Who is calling the API: the token and the person it acts as."""

    token_id: int
    token_name: str
    scopes: frozenset[str]
    actor: Actor

    def require_scope(self, scope: str) -> None:
        if scope not in self.scopes:
            raise ScopeMissing(f"This token may not {SCOPES[scope]}: it lacks the '{scope}' scope. "
                               "An admin can create a token with it.")


def authenticate(db: Database, token: str | None, now: datetime | None = None) -> Caller:
    """The caller behind a bearer token, counted against its rate limit, its last use noted.
    Raises AuthenticationFailed (missing, unknown, revoked, its person inactive) or RateLimited."""
    token = (token or "").strip()
    if not _TOKEN_SHAPE.match(token):
        raise AuthenticationFailed(UNKNOWN_TOKEN)
    at = now or utc_now()
    minute = int(at.timestamp()) // 60
    with db.write() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))
        if row is None or row.revoked_at is not None:
            raise AuthenticationFailed(UNKNOWN_TOKEN)
        employee = session.get(Employee, row.employee_id)
        if employee is None or not employee.active:
            raise AuthenticationFailed(f"The token '{row.name}' acts for a person who is no longer active.")
        calls = _count_call(session, row.id, minute)
        if calls > row.rate_limit_per_minute:
            raise RateLimited(
                f"The token '{row.name}' made more than {row.rate_limit_per_minute:,} calls this minute; "
                "wait for the next minute.", retry_after=60 - int(at.timestamp()) % 60)
        tokens = table(ApiToken)
        session.connection().execute(update(tokens).where(tokens.c.id == row.id).values(last_used_at=at))
        return Caller(row.id, row.name, frozenset(row.scopes.split()), actor_for(employee, session))


def _count_call(session: Session, token_id: int, minute: int) -> int:
    """This minute's calls including this one: one upsert, atomic on both databases."""
    windows = table(ApiRateWindow)
    insert_fn = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert_fn(windows).values(token_id=token_id, window_start=minute, calls=1)
    statement = statement.on_conflict_do_update(
        index_elements=["token_id", "window_start"], set_={"calls": windows.c.calls + 1})
    calls = session.connection().execute(statement.returning(windows.c.calls)).scalar_one()
    if calls == 1:  # the first call of a minute clears this token's older minutes
        session.connection().execute(delete(windows).where(
            windows.c.token_id == token_id, windows.c.window_start < minute - 1))
    return int(calls)


def record_call(db: Database, caller: Caller | None, method: str, path: str, status: int,
                detail: dict[str, object] | None = None, at: datetime | None = None) -> None:
    """Every API call in the audit log: which token, what, and how it ended."""
    who = caller.actor if caller else Actor(None, "API (no valid token)", Role.STAFF)
    label = Actor(who.employee_id, f"{who.name} (API token '{caller.token_name}')" if caller else who.name,
                  who.role)
    with db.write() as session:
        audit.record(session, label, "api.call", "api_token", caller.token_id if caller else None,
                     dict(method=method, path=path[:200], status=status, **(detail or {})),
                     at=at or utc_now())
