"""Storing a figure worked out once for every process to read (`reports.computed`).

Not audited on purpose: a stored figure is a copy of what the analytics say about the data, not a
change anyone made to it (and an audit row would itself change the data version it is keyed on)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from empowerment import access
from empowerment.actor import Actor
from empowerment.analytics import codec
from empowerment.clock import utc_now
from empowerment.db import Database
from empowerment.models import ComputedResult

KEPT = 200  # stored figures at most: the oldest go (every filter a leader tries is one)


def store(db: Database, actor: Actor, key: str, kind: str, data_version: str, value: Any, seconds: float) -> None:
    """Keep `value` as the figure `key` on data `data_version`, replacing the one stored before."""
    access.require(actor, "payoff.read", anywhere=True)
    document = codec.dumps(value)
    try:
        with db.write() as session:
            session.execute(delete(ComputedResult).where(ComputedResult.key == key))
            session.execute(insert(ComputedResult).values(
                key=key, kind=kind, data_version=data_version, computed_at=utc_now(), seconds=seconds,
                document=document))
            oldest_kept = session.scalar(select(ComputedResult.id).order_by(ComputedResult.id.desc())
                                         .offset(KEPT - 1).limit(1))
            if oldest_kept is not None:
                session.execute(delete(ComputedResult).where(ComputedResult.id < oldest_kept))
    except IntegrityError:
        pass  # another process stored the same figure at the same moment: theirs is as good
