"""Computing the tablet's "what tends to work" and storing it (`services.evidence`), off the app
process: `python -m empowerment evidence-refresh`, the notification worker (`notify-worker`, when
the stored evidence is older than `REFRESH_SECONDS` or missing) and `init` (once, on a database
with none). The tablet only reads the table (`queries.care.stored_evidence`)."""

from __future__ import annotations

import time
from datetime import timedelta

from empowerment.actor import Actor
from empowerment.clock import utc_now
from empowerment.db import Database
from empowerment.queries import care as care_queries
from empowerment.queries.frames import data_version
from empowerment.services import evidence

REFRESH_SECONDS = 3600  # the evidence moves slowly: hourly is plenty
NICENESS = 10  # the refresh yields the cores to the app's reruns (it shares the machine, not the process)


def yield_to_the_app() -> None:
    """Lower this thread's CPU priority (Linux: per thread, inherited by the threads it starts),
    so the refresh running beside the app takes only the cores the tablet's reruns leave."""
    import contextlib
    import os

    with contextlib.suppress(AttributeError, OSError):  # not on this platform, or not allowed: run as is
        os.nice(NICENESS)


def refresh(db: Database, actor: Actor | None = None) -> int:
    """Compute the evidence for every category from the data as it is now and store it: -> rows."""
    started = time.perf_counter()
    version = data_version(db)
    frame = care_queries.what_tends_to_work(db)
    return evidence.store(db, actor or Actor.system("evidence"), frame, version, time.perf_counter() - started)


def due(db: Database, every_seconds: float = REFRESH_SECONDS) -> bool:
    """True when there is no stored evidence yet; or the data changed since it was computed and it
    is older than `every_seconds` or found nothing (an installation filled after `init`). A quiet
    installation is not analysed again for nothing."""
    state = care_queries.evidence_state(db)
    if state is None:
        return True
    if state.rows and utc_now() - state.computed_at < timedelta(seconds=every_seconds):
        return False
    return state.data_version != data_version(db)
