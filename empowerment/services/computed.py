"""Storing a figure worked out once for every process to read (`reports.computed`).

Not audited on purpose: a stored figure is a copy of what the analytics say about the data, not a
change anyone made to it (and an audit row would itself change the data version it is keyed on)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from empowerment import access
from empowerment.actor import Actor
from empowerment.analytics import codec
from empowerment.clock import utc_now
from empowerment.db import Database
from empowerment.models import ComputedResult, table

READ_MARK_WAIT_SECONDS = 0.25  # a read mark waits this long at most for SQLite's writer turn, then is skipped
KEPT = 200  # stored figures at most: the ones used longest ago go (every filter a leader tries is one)


def store(db: Database, actor: Actor, key: str, kind: str, data_version: str, value: Any, seconds: float,
          parameters: str | None = None, read: bool = True) -> None:
    """Keep `value` as the figure `key` on data `data_version`, replacing the one stored before
    (one statement: two processes storing the same figure at once both succeed, the later wins).
    `parameters` is the request as JSON text (for working it out again without the reader);
    `read`: a reader asked for it now (the worker working it out ahead leaves `read_at` as it was)."""
    access.require(actor, "payoff.read", anywhere=True)
    now = utc_now()
    values: dict[str, Any] = {"key": key, "kind": kind, "data_version": data_version, "computed_at": now,
                              "seconds": seconds, "document": codec.dumps(value), "parameters": parameters}
    changed = {name: value for name, value in values.items() if name != "key"}
    if read:
        values["read_at"] = changed["read_at"] = now
    insert_fn = pg_insert if db.dialect == "postgresql" else sqlite_insert
    upsert = insert_fn(table(ComputedResult)).values(**values)
    upsert = upsert.on_conflict_do_update(index_elements=["key"], set_=changed)
    with db.write() as session:
        session.connection().execute(upsert)
        # Kept by last use, read or worked out (the worker works out only what was read lately
        # and the opening view): a figure someone reads every morning outlives an old one-off.
        last_used = case((ComputedResult.read_at > ComputedResult.computed_at, ComputedResult.read_at),
                         else_=ComputedResult.computed_at)
        newest = (select(ComputedResult.id).order_by(last_used.desc(), ComputedResult.id.desc())
                  .limit(KEPT).scalar_subquery())
        session.execute(delete(ComputedResult).where(ComputedResult.id.not_in(newest)))


def record_read(db: Database, actor: Actor, key: str, at: datetime | None = None) -> None:
    """Note that a reader used the figure `key` (one small UPDATE; the worker keeps fresh what was
    read lately). The caller decides how often (`reports.computed.READ_MARK_SECONDS`)."""
    access.require(actor, "payoff.read", anywhere=True)
    with db.write(wait_seconds=READ_MARK_WAIT_SECONDS) as session:  # skipped rather than waited for
        session.execute(update(ComputedResult).where(ComputedResult.key == key).values(read_at=at or utc_now()))


def discard(db: Database, actor: Actor, key: str) -> None:
    """Forget the figure `key` (one a later release can no longer read or work out again)."""
    access.require(actor, "payoff.read", anywhere=True)
    with db.write() as session:
        session.execute(delete(ComputedResult).where(ComputedResult.key == key))
