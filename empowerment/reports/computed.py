"""Payoff figures worked out once per data version and read by every process (`computed_results`).

Why: at a chain's size (1M incidents) the Payoff page's view takes tens of seconds of CPU and
hundreds of MB to work out, and every app process (every replica) worked it out again after each
restart and each change of data. Now the first process that needs a view (or the notification
worker, ahead of time, for the view a leader opens first) stores it (`services.computed`); any
process then reads one row (`queries.computed`), and loads no incident at all.

A stored view is keyed by what was asked (the kind, its parameters, the analytics' own code) and
is used for the data version it was worked out on (`queries.frames.data_version`), so a gesture,
an import or a merge makes the next reader work it out afresh; only a view that was slow to work
out (a chain's) may be shown on older data for a few minutes, and the page then says when it was
worked out. Figures are the same as computed (`analytics.codec` is lossless), so the page and the
command line never disagree with a fresh run.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from empowerment import settings
from empowerment.actor import Actor
from empowerment.analytics import PayoffRequest, what_works
from empowerment.analytics.payoff import PayoffView, payoff_view
from empowerment.analytics.result import DEFAULT_MARGIN, DEFAULT_RECOVERY_WINDOW_HOURS
from empowerment.clock import utc_now
from empowerment.db import Database
from empowerment.queries import computed as computed_queries
from empowerment.queries import frames as frame_queries
from empowerment.services import computed as computed_service

T = TypeVar("T")
log = logging.getLogger("empowerment.computed")
Frames = Callable[[], frame_queries.AnalyticsFrames]
BOOTSTRAP = 200  # the page's intervals
DEFAULT_HORIZON_DAYS = 90  # the page opens on it
DEFAULT_BREAKDOWN = "first_gesture_type"  # "What works?" opens on it
STALE_SECONDS = 900  # a page may show figures worked out this recently on older data, and says so,
SLOW_SECONDS = 3.0  # when they took this long or longer to work out
REFRESH_SECONDS = 300  # the worker works the opening view out again at most this often


@cache
def code_fingerprint() -> str:
    """The source of the analytics and of the frames they read: a release that changes how a
    figure is worked out never reads a figure stored by the one before."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    sources = [*(package / "analytics").glob("*.py"), *(package / "queries" / "frames").glob("*.py")]
    for path in sorted(sources) + [Path(__file__).resolve()]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def key_of(kind: str, parameters: dict[str, Any]) -> str:
    text = json.dumps({"kind": kind, "parameters": parameters, "code": code_fingerprint()},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def stored_or_computed(db: Database, actor: Actor, kind: str, parameters: dict[str, Any], version: str,
                       compute: Callable[[], T], stale_seconds: float = 0) -> tuple[T, datetime | None]:
    """The value stored for `kind` with `parameters` on data `version`, or `compute()`'s, stored.
    A value worked out on older data is used instead when it was worked out less than
    `stale_seconds` ago and took over `SLOW_SECONDS` to work out (a chain's figures; a small
    installation's are always worked out again: it is quick). -> the value, and when it was
    worked out if that was on older data (None: on the data as it is now)."""
    key = key_of(kind, parameters)
    state = computed_queries.stored_state(db, actor, key)  # the figure itself is read only if usable
    if state is not None:
        current = state.data_version == version
        if current or (stale_seconds and state.seconds >= SLOW_SECONDS
                       and utc_now() - state.computed_at < timedelta(seconds=stale_seconds)):
            value = computed_queries.stored(db, actor, key)
            if value is not None:
                return value, None if current else state.computed_at
    started = time.perf_counter()
    value = compute()
    try:
        computed_service.store(db, actor, key, kind, version, value, time.perf_counter() - started)
    except Exception as exc:  # noqa: BLE001 - keeping a copy for others must never cost this reader the figures
        log.warning("%s not stored for other readers (%s: %s)", kind, type(exc).__name__, exc)
    return value, None


@dataclass(frozen=True)
class PayoffScope:
    """What the Payoff page asks: which incidents, which follow-up, at which settings."""

    date_from: date | None = None
    date_to: date | None = None
    location: str | None = None
    team: str | tuple[str, ...] | None = None
    horizon_days: int = DEFAULT_HORIZON_DAYS
    recovery_window_hours: int = DEFAULT_RECOVERY_WINDOW_HOURS
    margin: float = DEFAULT_MARGIN

    @classmethod
    def default(cls) -> PayoffScope:
        """The page as it opens for a leader: every incident, 90 days, today's settings."""
        current = settings.current()
        return cls(recovery_window_hours=current.recovery_window_hours, margin=current.contribution_margin)

    def request(self, as_of: Any, bootstrap: int) -> PayoffRequest:
        team = list(self.team) if isinstance(self.team, tuple) else self.team
        return PayoffRequest(horizon_days=self.horizon_days, as_of=as_of, date_from=self.date_from,
                             date_to=self.date_to, location=self.location, team=team, bootstrap=bootstrap,
                             seed=0, recovery_window_hours=self.recovery_window_hours, margin=self.margin)

    def parameters(self) -> dict[str, Any]:
        return {name: list(value) if isinstance(value, tuple) else value for name, value in asdict(self).items()}


def page_view(db: Database, actor: Actor, version: str, scope: PayoffScope, frames: Frames,
              stale_seconds: float = STALE_SECONDS) -> tuple[PayoffView, str, datetime | None]:
    """The Payoff page's view of `scope`, the note on converted currencies ("" if none), and when
    it was worked out if that was on older data (None: on the data as it is now). `frames` loads
    the analytics frames of `version`, only when the view must be worked out."""
    def compute() -> tuple[PayoffView, str]:
        loaded = frames()
        view = payoff_view(loaded.incidents, loaded.gestures, loaded.transactions, loaded.customers,
                           scope.request(loaded.as_of, BOOTSTRAP))
        return view, loaded.conversion.note if loaded.conversion is not None else ""

    (view, note), worked_out_at = stored_or_computed(db, actor, "payoff view", scope.parameters(), version,
                                                     compute, stale_seconds)
    return view, note, worked_out_at


def what_works_view(db: Database, actor: Actor, version: str, scope: PayoffScope, column: str,
                    within: tuple[str, str] | None, frames: Frames,
                    stale_seconds: float = STALE_SECONDS) -> pd.DataFrame:
    """"What works?" by `column` (optionally within one category) for `scope`."""
    def compute() -> pd.DataFrame:
        loaded = frames()
        return what_works.payoff_breakdown(loaded.incidents, loaded.gestures, loaded.transactions,
                                           loaded.customers, scope.request(loaded.as_of, what_works.WHAT_WORKS_BOOTSTRAP),
                                           column, within)

    parameters = {**scope.parameters(), "column": column, "within": list(within) if within else None}
    return stored_or_computed(db, actor, "what works", parameters, version, compute, stale_seconds)[0]


def categories(db: Database, actor: Actor, version: str, frames: Frames,
               stale_seconds: float = STALE_SECONDS) -> list[str]:
    """The incident categories "What works?" offers to look within."""
    return stored_or_computed(db, actor, "categories", {}, version,
                              lambda: what_works.levels(frames().incidents, "category"), stale_seconds)[0]


def due(db: Database, every_seconds: float = REFRESH_SECONDS) -> bool:
    """True when the opening view is not stored yet, or was worked out on other data more than
    `every_seconds` ago (a busy chain's data changes every minute: the view follows every few)."""
    found = computed_queries.stored_state(db, Actor.system("payoff"),
                                          key_of("payoff view", PayoffScope.default().parameters()))
    if found is None:
        return True
    if found.data_version == frame_queries.data_version(db):
        return False
    return utc_now() - found.computed_at >= timedelta(seconds=every_seconds)


def refresh_default(db: Database, actor: Actor | None = None) -> bool:
    """Work out what a leader's Payoff page opens on (every incident, 90 days, "What works?" by
    first gesture) for the data as it is now, unless it is stored for it: -> whether it was worked
    out. The notification worker calls it when `due`, so the first page of the day is read."""
    actor = actor or Actor.system("payoff")
    version = frame_queries.data_version(db)
    scope = PayoffScope.default()
    loaded: list[frame_queries.AnalyticsFrames] = []

    def frames() -> frame_queries.AnalyticsFrames:
        if not loaded:
            loaded.append(frame_queries.load_analytics_frames(db, outcomes=True))
        return loaded[0]

    page_view(db, actor, version, scope, frames, stale_seconds=0)
    what_works_view(db, actor, version, scope, DEFAULT_BREAKDOWN, None, frames, stale_seconds=0)
    categories(db, actor, version, frames, stale_seconds=0)
    return bool(loaded)
