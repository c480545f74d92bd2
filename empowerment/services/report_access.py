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


def record_handover_read(db: Database, actor: Actor, purpose: str, locations: list[str],
                         open_incidents: int, recoveries: int) -> None:
    """A reader from outside the front line (HR, CX) read the hand-over, its customers
    pseudonymised: who, when, how (page or digest) and how much."""
    access.require(actor, "handover.read", anywhere=True)
    with db.write() as session:
        audit.record(session, actor, "handover.read", "handover", purpose,
                     dict(purpose=purpose, locations=locations, open_incidents=open_incidents,
                          recoveries=recoveries, pseudonymised=True))
