"""Storing a figure worked out once for every process to read (`reports.computed`).

Not audited on purpose: a stored figure is a copy of what the analytics say about the data, not a
change anyone made to it (and an audit row would itself change the data version it is keyed on)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from empowerment import access
from empowerment.actor import Actor
from empowerment.analytics import codec
from empowerment.clock import utc_now
from empowerment.db import Database
from empowerment.models import ComputedResult, table

KEPT = 200  # stored figures at most: the oldest go (every filter a leader tries is one)


def store(db: Database, actor: Actor, key: str, kind: str, data_version: str, value: Any, seconds: float) -> None:
    """Keep `value` as the figure `key` on data `data_version`, replacing the one stored before
    (one statement: two processes storing the same figure at once both succeed, the later wins)."""
    access.require(actor, "payoff.read", anywhere=True)
    values = {"key": key, "kind": kind, "data_version": data_version, "computed_at": utc_now(), "seconds": seconds,
              "document": codec.dumps(value)}
    insert_fn = pg_insert if db.dialect == "postgresql" else sqlite_insert
    upsert = insert_fn(table(ComputedResult)).values(**values)
    upsert = upsert.on_conflict_do_update(index_elements=["key"], set_={k: v for k, v in values.items() if k != "key"})
    with db.write() as session:
        session.connection().execute(upsert)
        newest = (select(ComputedResult.id).order_by(ComputedResult.computed_at.desc(), ComputedResult.id.desc())
                  .limit(KEPT).scalar_subquery())
        session.execute(delete(ComputedResult).where(ComputedResult.id.not_in(newest)))
