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
class Stored:
    value: Any
    data_version: str  # the data it was worked out on
    computed_at: datetime
    seconds: float  # how long it took to work out


def stored(db: Database, actor: Actor, key: str) -> Stored | None:
    """The figure stored under `key`, whatever data it was worked out on, or None (none yet, or a
    document of an older format: it is then worked out again)."""
    access.require(actor, "payoff.read", anywhere=True)
    with db.read() as session:
        row = session.execute(select(ComputedResult.document, ComputedResult.data_version, ComputedResult.computed_at,
                                     ComputedResult.seconds).where(ComputedResult.key == key)).first()
    if row is None:
        return None
    try:
        value = codec.loads(row.document)
    except (ValueError, KeyError, TypeError):
        return None
    return Stored(value, row.data_version, row.computed_at, row.seconds)
