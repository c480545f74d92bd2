"""The audit log: every write records who and when. Details are JSON, never secrets."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from empowerment.actor import Actor
from empowerment.models import AuditEvent, table


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    # A Core insert on the connection: one statement, none of the ORM's bookkeeping inside hot
    # write units.
    session.connection().execute(
        insert(table(AuditEvent)).values(
            occurred_at=at or datetime.now(),
            actor_id=actor.employee_id,
            actor_label=actor.name,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            detail=json.dumps(detail, default=str, ensure_ascii=False) if detail else None,
        )
    )
