"""The transactional outbox: an event row written inside the caller's write unit."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from empowerment.clock import utc_now
from empowerment.models import EventKind, OutboxEvent, table


def record_event(session: Session, kind: EventKind, payload: dict[str, Any], *, at: datetime | None = None,
                 dedupe_key: str | None = None) -> None:
    """One Core insert in the caller's unit (it runs inside the gesture's critical section). With a
    `dedupe_key`, a second event with the same key is dropped (a digest is sent once a week even
    with two workers)."""
    values = dict(kind=kind.value, payload=json.dumps(payload, default=str, ensure_ascii=False),
                  dedupe_key=dedupe_key, created_at=at or utc_now())
    events = table(OutboxEvent)
    if dedupe_key is None:
        session.connection().execute(insert(events).values(**values))
        return
    insert_fn = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.connection().execute(
        insert_fn(events).values(**values).on_conflict_do_nothing(index_elements=["dedupe_key"]))
