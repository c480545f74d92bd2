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


def stored_state(db: Database, actor: Actor, key: str) -> StoredState | None:
    """When and on which data the figure under `key` was worked out (None: not stored), without
    reading the figure itself."""
    access.require(actor, "payoff.read", anywhere=True)
    with db.read() as session:
        row = session.execute(select(ComputedResult.data_version, ComputedResult.computed_at, ComputedResult.seconds)
                              .where(ComputedResult.key == key)).first()
    return None if row is None else StoredState(row.data_version, row.computed_at, row.seconds)


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
