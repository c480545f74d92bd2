"""Inbound webhooks: systems around the app (property management, point of sale, helpdesk) push
batches to `/api/v1/webhooks/<source>`, signed with the source's own secret.

Each push carries `X-Empowerment-Timestamp` (Unix seconds) and `X-Empowerment-Signature`
(`sha256=` + hex HMAC-SHA256 over "<timestamp>." and the raw body, `sealing.signature`). A wrong
signature, an unknown or revoked source, or a timestamp more than `MAX_SKEW_SECONDS` away from now
(a replay) is refused before the body is read as JSON. The secret is shown once when the source is
created and kept sealed (`sealing`).
"""

from __future__ import annotations

import hmac
import re
import secrets
from datetime import datetime

from sqlalchemy import select, update

from empowerment import access, audit
from empowerment.actor import Actor
from empowerment.clock import utc_now
from empowerment.db import Database
from empowerment.errors import InvalidInput, InvalidState, NotFound, SignatureInvalid
from empowerment.models import WebhookSource, table
from empowerment.services.sealing import seal, signature, unseal

TIMESTAMP_HEADER = "X-Empowerment-Timestamp"
SIGNATURE_HEADER = "X-Empowerment-Signature"
MAX_SKEW_SECONDS = 5 * 60
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
BAD_SIGNATURE = (f"The push is not signed with this source's secret: {SIGNATURE_HEADER} must be "
                 f"sha256=<hex HMAC-SHA256 of '<timestamp>.<raw body>'>.")


def create_source(db: Database, actor: Actor, name: str) -> str:
    """A new source; returns its signing secret (shown once)."""
    access.require(actor, "api.manage")
    name = (name or "").strip().lower()
    if not _NAME.match(name):
        raise InvalidInput("Name the source with lower-case letters, digits and dashes (it becomes "
                           "part of the address), for example 'pms' or 'pos-harbour'.")
    secret = "whsec_" + secrets.token_urlsafe(32)
    with db.write() as session:
        if session.scalar(select(WebhookSource.id).where(WebhookSource.name == name)) is not None:
            raise InvalidState(f"A webhook source '{name}' exists already; revoke it or choose another name.")
        session.add(WebhookSource(name=name, secret_encrypted=seal(secret), created_by_id=actor.employee_id))
        audit.record(session, actor, "webhook_source.created", "webhook_source", name)
    return secret


def revoke_source(db: Database, actor: Actor, name: str, now: datetime | None = None) -> None:
    access.require(actor, "api.manage")
    with db.write() as session:
        source = session.scalar(select(WebhookSource).where(WebhookSource.name == name))
        if source is None:
            raise NotFound(f"No webhook source '{name}'.")
        if source.revoked_at is not None:
            raise InvalidState(f"The webhook source '{name}' is already revoked.")
        source.revoked_at = now or utc_now()
        audit.record(session, actor, "webhook_source.revoked", "webhook_source", name)


def verify_push(db: Database, name: str, timestamp: str | None, signed: str | None, body: bytes,
                now: datetime | None = None) -> Actor:
    """The actor a genuine, fresh push acts as (`webhook:<name>`), or SignatureInvalid."""
    at = now or utc_now()
    with db.read() as session:
        source = session.scalar(select(WebhookSource).where(WebhookSource.name == name))
        sealed = source.secret_encrypted if source is not None and source.revoked_at is None else None
    if sealed is None:
        raise SignatureInvalid(f"No active webhook source '{name}'.")
    if not (timestamp or "").strip().isdigit():
        raise SignatureInvalid(f"{TIMESTAMP_HEADER} must be the Unix time of the push, in seconds.")
    sent_at = int(timestamp or "0")
    if abs(at.timestamp() - sent_at) > MAX_SKEW_SECONDS:
        raise SignatureInvalid(f"The push is dated more than {MAX_SKEW_SECONDS // 60} minutes from now; "
                               "a replayed or delayed push is refused. Sign it again with the current time.")
    expected = signature(unseal(sealed), sent_at, body)
    if not hmac.compare_digest(expected, (signed or "").strip()):
        raise SignatureInvalid(BAD_SIGNATURE)
    with db.write() as session:
        sources = table(WebhookSource)
        session.connection().execute(
            update(sources).where(sources.c.name == name).values(last_received_at=at.replace(microsecond=0)))
    return Actor.system(f"webhook:{name}")
