"""What leaders open that deserves a trace: a joint report with customer names in it."""

from __future__ import annotations

from empowerment import access, audit
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.periods import ReportWindow


def record_identity_access(db: Database, actor: Actor, window: ReportWindow, location: str | None,
                           purpose: str = "report") -> None:
    """Customer names were chosen: say who, when, for which period and place."""
    access.require(actor, "report.identities")
    with db.write() as session:
        audit.record(session, actor, "report.identities_included", "joint_report", window.label,
                     dict(period=window.label, start=window.start, end=window.last_day,
                          location=location, purpose=purpose))
