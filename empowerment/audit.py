"""The audit log: every write records who and when. Details are JSON, never secrets.

The log is hash-chained: each row stores the hash of the row before it (`prev_hash`) and its own
hash (`row_hash`), an HMAC-SHA256 over its content and `prev_hash` (`row_digest`), keyed with a
sub-key of the installation's secret, so someone who can write to the database but has not the
secret cannot recompute the chain after an edit. Changing, removing or inserting a row anywhere
breaks the chain at that row, which `python -m empowerment verify` names. The database also
refuses UPDATE, DELETE and (PostgreSQL) TRUNCATE on the table.

A chain alone cannot show that its newest rows were cut off: what is left is still a whole chain.
So every append also advances a seal (an `AppSetting` row): the number of rows and the head's hash,
with an HMAC over both. `verify` checks the log against the seal; someone without the secret cannot
write a seal for a shorter log. (Putting back an old seal they copied earlier is not caught: for
that, keep the head `verify` prints somewhere else, e.g. with the backups.)

Appends are serialised so two writers never chain onto the same row: on SQLite write units already
run one at a time (`BEGIN IMMEDIATE`); on PostgreSQL `record` takes a transaction-scoped advisory
lock before reading the chain's head, held until the unit commits or rolls back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from empowerment import settings
from empowerment.actor import Actor
from empowerment.models import AppSetting, AuditEvent, table
from empowerment.periods import as_utc, utc_now

GENESIS_HASH = "0" * 64
# pg_advisory_xact_lock key for appending to the chain (any fixed 64-bit number of our own).
CHAIN_LOCK_KEY = 7_340_110_001


_PURPOSE = b"empowerment.audit-chain.v1"
_keys: dict[str, bytes] = {}


def chain_key(secret: str | None = None) -> bytes:
    """The chain's sub-key (the installation secret also signs cookies: never used directly).
    Cached per configured secret, so the hot path does not read data/secret.key each time."""
    if secret is not None:
        return hmac.new(secret.encode("utf-8"), _PURPOSE, hashlib.sha256).digest()
    configured = settings.current().secret_key
    key = _keys.get(configured)
    if key is None:
        key = _keys[configured] = chain_key(settings.secret_key())
    return key


def row_digest(prev_hash: str, occurred_at: datetime, actor_id: int | None, actor_label: str,
               action: str, entity: str, entity_id: str | None, detail: str | None, *,
               key: bytes | None = None) -> str:
    """The one hashing rule of the chain: HMAC-SHA256 of the row's content as canonical JSON,
    the previous row's hash first. Times to the microsecond, as both databases store them."""
    content = [prev_hash, occurred_at.isoformat(sep=" ", timespec="microseconds"), actor_id,
               actor_label, action, entity, entity_id, detail]
    canonical = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    return hmac.new(key or chain_key(), canonical.encode("utf-8"), hashlib.sha256).hexdigest()


_EVENTS = table(AuditEvent)
_SETTINGS = table(AppSetting)
# The hot path's statements, built once: building a Core statement per call (`.values(**...)`)
# costs several times what SQLite takes to run it, and every append runs inside a write lock.
_HEAD = select(_EVENTS.c.row_hash).order_by(_EVENTS.c.id.desc()).limit(1)
_SEAL_VALUE = select(_SETTINGS.c.value).where(_SETTINGS.c.key == AppSetting.AUDIT_SEAL)
# The chain's head and the seal in one round trip (after the append lock, on PostgreSQL: a
# statement's snapshot is taken when it starts, so the lock must be a statement of its own).
_HEAD_AND_SEAL = select(_HEAD.scalar_subquery().label("head"), _SEAL_VALUE.scalar_subquery().label("seal"))
_APPEND = insert(_EVENTS)
_ADVANCE_SEAL = (update(_SETTINGS).where(_SETTINGS.c.key == AppSetting.AUDIT_SEAL)
                 .values(value=bindparam("seal_value"), updated_at=bindparam("seal_at")))
_FIRST_SEAL = insert(_SETTINGS).values(key=AppSetting.AUDIT_SEAL, value=bindparam("seal_value"),
                                       updated_at=bindparam("seal_at"))
_LOCK_SQL = f"SELECT pg_advisory_xact_lock({CHAIN_LOCK_KEY})"


def _take_append_lock(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(_LOCK_SQL)


def chain_head(session: Session) -> str:
    """The newest row's hash (the genesis hash for an empty log), after taking the chain's
    append lock on PostgreSQL."""
    connection = session.connection()
    _take_append_lock(connection)
    return connection.execute(_HEAD).scalar() or GENESIS_HASH


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Append one row to the chain and advance the seal, in the caller's write unit: three
    statements (the head and the seal read together, the row, the seal), prebuilt Core."""
    occurred_at = at or utc_now()
    if type(occurred_at) is not datetime:  # a pandas Timestamp: hash what the database keeps
        occurred_at = datetime.fromisoformat(str(occurred_at))
    if occurred_at.tzinfo is not None:
        occurred_at = as_utc(occurred_at)
    values: dict[str, Any] = dict(
        occurred_at=occurred_at,
        actor_id=actor.employee_id,
        actor_label=actor.name,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        detail=json.dumps(detail, default=str, ensure_ascii=False) if detail else None,
    )
    key = chain_key()
    connection = session.connection()
    _take_append_lock(connection)
    head, stored_seal = connection.execute(_HEAD_AND_SEAL).one()
    prev_hash = head or GENESIS_HASH
    row_hash = row_digest(prev_hash, **values, key=key)
    connection.execute(_APPEND, {**values, "prev_hash": prev_hash, "row_hash": row_hash})
    seal = _parse_seal(stored_seal)
    # Always advanced from the seal itself, never recounted: a log cut short stays short of it.
    rows = seal.rows + 1 if seal is not None else _count_rows(session)
    _write_seal(session, Seal(rows=rows, head=row_hash, mac=seal_mac(rows, row_hash, key=key)),
                exists=seal is not None)


@dataclass(frozen=True)
class Seal:
    """How many rows the audit log had and its newest row's hash, as of the last append."""

    rows: int
    head: str
    mac: str

    @property
    def authentic(self) -> bool:
        return hmac.compare_digest(self.mac, seal_mac(self.rows, self.head))


def seal_mac(rows: int, head: str, *, key: bytes | None = None) -> str:
    return hmac.new(key or chain_key(), f"seal:{rows}:{head}".encode(), hashlib.sha256).hexdigest()


def read_seal(session: Session) -> Seal | None:
    """The seal as stored; None before the first append (or if the row was removed)."""
    return _parse_seal(session.connection().execute(_SEAL_VALUE).scalar())


def _parse_seal(stored: str | None) -> Seal | None:
    if stored is None:
        return None
    try:
        content = json.loads(stored)
        return Seal(rows=int(content["rows"]), head=str(content["head"]), mac=str(content["mac"]))
    except (ValueError, KeyError, TypeError):
        return Seal(rows=-1, head="", mac="")  # unreadable: never authentic


def ensure_seal(session: Session) -> int | None:
    """Seal a log that has none yet (an installation upgraded from before seals): `init` calls it.
    Returns the number of rows sealed, or None when the log had its seal already."""
    head = chain_head(session)  # takes the append lock on PostgreSQL
    if read_seal(session) is not None:
        return None
    rows = _count_rows(session)
    _write_seal(session, Seal(rows=rows, head=head, mac=seal_mac(rows, head)), exists=False)
    return rows


def _count_rows(session: Session) -> int:
    return int(session.connection().execute(select(func.count()).select_from(table(AuditEvent))).scalar() or 0)


def _write_seal(session: Session, seal: Seal, *, exists: bool) -> None:
    value = json.dumps({"rows": seal.rows, "head": seal.head, "mac": seal.mac}, separators=(",", ":"))
    session.connection().execute(_ADVANCE_SEAL if exists else _FIRST_SEAL,
                                 {"seal_value": value, "seal_at": utc_now()})
