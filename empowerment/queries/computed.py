"""Reading a figure stored by `services.computed` (see `reports.computed`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from empowerment import access
from empowerment.actor import Actor
from empowerment.analytics import codec
from empowerment.db import Database
from empowerment.models import ComputedResult


@dataclass(frozen=True)
class StoredState:
    data_version: str  # the data it was worked out on
    computed_at: datetime
    seconds: float  # how long it took to work out
    read_at: datetime | None = None  # the last read (None: never read)


@dataclass(frozen=True)
class ReadLately:
    """A stored figure a reader used lately, with what is needed to work it out again."""

    key: str
    kind: str
    parameters: str  # the request as JSON text
    read_at: datetime


def stored_state(db: Database, actor: Actor, key: str) -> StoredState | None:
    """When and on which data the figure under `key` was worked out (None: not stored), without
    reading the figure itself."""
    access.require(actor, "payoff.read", anywhere=True)
    with db.read() as session:
        row = session.execute(select(ComputedResult.data_version, ComputedResult.computed_at, ComputedResult.seconds,
                                     ComputedResult.read_at).where(ComputedResult.key == key)).first()
    return None if row is None else StoredState(row.data_version, row.computed_at, row.seconds, row.read_at)


def stored(db: Database, actor: Actor, key: str) -> Any | None:
    """The figure stored under `key`, or None (none, or a document of an older format: it is then
    worked out again)."""
    access.require(actor, "payoff.read", anywhere=True)
    with db.read() as session:
        document = session.scalar(select(ComputedResult.document).where(ComputedResult.key == key))
    if document is None:
        return None
    try:
        return codec.loads(document)
    except (ValueError, KeyError, TypeError):
        return None


def read_lately(db: Database, actor: Actor, since: datetime, data_version: str,
                worked_out_before: datetime) -> list[ReadLately]:
    """The figures read since `since` and worked out before `worked_out_before` on other data than
    `data_version`, last read first (rows stored before their parameters were kept are left out:
    they cannot be worked out again without their reader)."""
    access.require(actor, "payoff.read", anywhere=True)
    with db.read() as session:
        rows = session.execute(
            select(ComputedResult.key, ComputedResult.kind, ComputedResult.parameters, ComputedResult.read_at)
            .where(ComputedResult.read_at >= since, ComputedResult.data_version != data_version,
                   ComputedResult.computed_at <= worked_out_before, ComputedResult.parameters.is_not(None))
            .order_by(ComputedResult.read_at.desc(), ComputedResult.id.desc())).all()
    return [ReadLately(row.key, row.kind, row.parameters, row.read_at) for row in rows]
