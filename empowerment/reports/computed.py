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

Each row keeps its request (`parameters`) and when a reader last used it (`read_at`), so the
worker works out again, for the data as it is now, what people read in the last day (a manager's
"all my teams", a location, another horizon, the joint report's figures), not only the opening
view: `RECOMPUTE` maps each kind to the function that works it out from its parameters.
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
from empowerment.analytics import PayoffRequest, PayoffResult, what_works
from empowerment.analytics.linking import OUTCOME_HORIZONS
from empowerment.analytics.payoff import PayoffView, analyse, payoff_view
from empowerment.analytics.result import DEFAULT_MARGIN, DEFAULT_RECOVERY_WINDOW_HOURS
from empowerment.clock import utc_now
from empowerment.db import Database
from empowerment.queries import computed as computed_queries
from empowerment.queries import frames as frame_queries
from empowerment.reports.tables import LINKED_COLUMNS
from empowerment.services import computed as computed_service

T = TypeVar("T")
log = logging.getLogger("empowerment.computed")
Frames = Callable[[], frame_queries.AnalyticsFrames]
BOOTSTRAP = 200  # the page's intervals
DEFAULT_HORIZON_DAYS = 90  # the page opens on it
DEFAULT_BREAKDOWN = "first_gesture_type"  # "What works?" opens on it
STALE_SECONDS = 900  # a page may show figures worked out this recently on older data, and says so,
SLOW_SECONDS = 3.0  # when they took this long or longer to work out
REFRESH_SECONDS = 300  # the worker works a figure out again at most this often
READ_RECENTLY = timedelta(hours=24)  # the worker keeps fresh what a reader used this recently
READ_MARK_SECONDS = 300  # a read is recorded at most this often per figure: the worker needs the day
ROUND_SECONDS = 60.0  # the worker starts no new figure after this long in one round (notifications wait)


@cache
def code_fingerprint() -> str:
    """The source of the analytics and of the frames they read: a release that changes how a
    figure is worked out never reads a figure stored by the one before."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    sources = [*(package / "analytics").glob("*.py"), *(package / "queries" / "frames").glob("*.py")]
    for path in sorted(sources) + [Path(__file__).resolve()]:
        digest.update(path.read_bytes())
    digest.update(repr(LINKED_COLUMNS).encode())  # the report's stored rows carry these columns only
    return digest.hexdigest()[:16]


def key_of(kind: str, parameters: dict[str, Any]) -> str:
    # The reporting currency is in the key: figures and their conversion note are in it, and it
    # changes with a restart, not with the data version.
    text = json.dumps({"kind": kind, "parameters": parameters, "code": code_fingerprint(),
                       "currency": settings.reporting_currency()}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def parameters_text(parameters: dict[str, Any]) -> str:
    """The request as stored beside its figure (dates as ISO text, as in the key)."""
    return json.dumps(parameters, sort_keys=True, default=str)


def stored_or_computed(db: Database, actor: Actor, kind: str, parameters: dict[str, Any], version: str,
                       compute: Callable[[], T], stale_seconds: float = 0,
                       reading: bool = True) -> tuple[T, datetime | None]:
    """The value stored for `kind` with `parameters` on data `version`, or `compute()`'s, stored.
    A value worked out on older data is used instead when it was worked out less than
    `stale_seconds` ago and took over `SLOW_SECONDS` to work out (a chain's figures; a small
    installation's are always worked out again: it is quick). `reading`: a reader asked (its use
    is recorded, so the worker keeps the figure fresh); False for the worker working it out ahead.
    -> the value, and when it was worked out if that was on older data (None: on the data as it
    is now)."""
    key = key_of(kind, parameters)
    state = computed_queries.stored_state(db, actor, key)  # the figure itself is read only if usable
    if state is not None:
        current = state.data_version == version
        if current or (stale_seconds and state.seconds >= SLOW_SECONDS
                       and utc_now() - state.computed_at < timedelta(seconds=stale_seconds)):
            value = computed_queries.stored(db, actor, key)
            if value is not None:
                if reading and (state.read_at is None
                                or utc_now() - state.read_at >= timedelta(seconds=READ_MARK_SECONDS)):
                    _record_read(db, actor, key, kind)
                return value, None if current else state.computed_at
    started = time.perf_counter()
    value = compute()
    try:
        computed_service.store(db, actor, key, kind, version, value, time.perf_counter() - started,
                               parameters=parameters_text(parameters), read=reading)
    except Exception as exc:  # noqa: BLE001 - keeping a copy for others must never cost this reader the figures
        log.warning("%s not stored for other readers (%s: %s)", kind, type(exc).__name__, exc)
    return value, None


def _record_read(db: Database, actor: Actor, key: str, kind: str) -> None:
    try:
        computed_service.record_read(db, actor, key)
    except Exception as exc:  # noqa: BLE001 - the reader has the figure; the mark only helps the worker
        log.warning("a read of %s not recorded (%s: %s)", kind, type(exc).__name__, exc)


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

    @classmethod
    def from_parameters(cls, parameters: dict[str, Any]) -> PayoffScope:
        """The scope `parameters()` described, read back from its stored JSON."""
        values = dict(parameters)
        for name in ("date_from", "date_to"):
            if values.get(name) is not None:
                values[name] = date.fromisoformat(values[name])
        if isinstance(values.get("team"), list):
            values["team"] = tuple(values["team"])
        return cls(**values)


def page_view(db: Database, actor: Actor, version: str, scope: PayoffScope, frames: Frames,
              stale_seconds: float = STALE_SECONDS, reading: bool = True) -> tuple[PayoffView, str, datetime | None]:
    """The Payoff page's view of `scope`, the note on converted currencies ("" if none), and when
    it was worked out if that was on older data (None: on the data as it is now). `frames` loads
    the analytics frames of `version`, only when the view must be worked out."""
    def compute() -> tuple[PayoffView, str]:
        loaded = frames()
        view = payoff_view(loaded.incidents, loaded.gestures, loaded.transactions, loaded.customers,
                           scope.request(loaded.as_of, BOOTSTRAP))
        return view, loaded.conversion.note if loaded.conversion is not None else ""

    (view, note), worked_out_at = stored_or_computed(db, actor, "payoff view", scope.parameters(), version,
                                                     compute, stale_seconds, reading)
    return view, note, worked_out_at


def what_works_view(db: Database, actor: Actor, version: str, scope: PayoffScope, column: str,
                    within: tuple[str, str] | None, frames: Frames,
                    stale_seconds: float = STALE_SECONDS, reading: bool = True) -> pd.DataFrame:
    """"What works?" by `column` (optionally within one category) for `scope`."""
    def compute() -> pd.DataFrame:
        loaded = frames()
        return what_works.payoff_breakdown(loaded.incidents, loaded.gestures, loaded.transactions,
                                           loaded.customers, scope.request(loaded.as_of, what_works.WHAT_WORKS_BOOTSTRAP),
                                           column, within)

    parameters = {**scope.parameters(), "column": column, "within": list(within) if within else None}
    return stored_or_computed(db, actor, "what works", parameters, version, compute, stale_seconds, reading)[0]


def categories(db: Database, actor: Actor, version: str, frames: Frames,
               stale_seconds: float = STALE_SECONDS, reading: bool = True) -> list[str]:
    """The incident categories "What works?" offers to look within."""
    return stored_or_computed(db, actor, "categories", {}, version,
                              lambda: what_works.levels(frames().incidents, "category"), stale_seconds, reading)[0]


@dataclass(frozen=True)
class ReportScope:
    """What the joint report's payoff is worked out for: its window's days (both inclusive), a
    location, and the analysis settings."""

    date_from: date
    date_to: date
    location: str | None
    horizon_days: int
    bootstrap: int
    recovery_window_hours: int
    margin: float

    def parameters(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_parameters(cls, parameters: dict[str, Any]) -> ReportScope:
        values = dict(parameters)
        values["date_from"], values["date_to"] = (date.fromisoformat(values[name]) for name in ("date_from", "date_to"))
        return cls(**values)


def report_outcomes(db: Database, actor: Actor, version: str, scope: ReportScope,
                    reading: bool = True) -> tuple[PayoffResult, pd.DataFrame, str]:
    """The joint report's payoff, the linked rows it reads (`tables.LINKED_COLUMNS`) and the note
    on converted currencies ("" if none), always for the data as it is now (a report is a record:
    never older figures); read from the store when worked out on this data already."""
    def compute() -> tuple[PayoffResult, pd.DataFrame, str]:
        frames = frame_queries.load_analytics_frames(db, date_from=scope.date_from, date_to=scope.date_to,
                                                     location=scope.location, team=None,
                                                     outcomes=scope.horizon_days in OUTCOME_HORIZONS)
        # The frames are already scoped; as-of is the database's latest purchase, not the scope's.
        request = PayoffRequest(horizon_days=scope.horizon_days, as_of=frames.as_of, bootstrap=scope.bootstrap,
                                recovery_window_hours=scope.recovery_window_hours, margin=scope.margin)
        payoff, linked = analyse(frames.incidents, frames.gestures, frames.transactions, frames.customers, request)
        kept = linked.loc[:, [column for column in LINKED_COLUMNS if column in linked.columns]].copy()
        kept.attrs = {}  # the analysis' own notes; the same frame whether stored or not
        return payoff, kept, frames.conversion.note if frames.conversion else ""

    (payoff, linked, note), _ = stored_or_computed(db, actor, "report payoff", scope.parameters(), version,
                                                   compute, 0, reading)
    return payoff, linked, note


# --- the worker: working figures out ahead ---------------------------------------------------------

# A kind -> how to work its figure out again from its stored parameters, for data `version`
# (`frames` loads every incident once per round, for the kinds that start from them).
Recompute = Callable[[Database, Actor, str, dict[str, Any], Frames], object]


def _what_works_again(db: Database, actor: Actor, version: str, parameters: dict[str, Any], frames: Frames) -> object:
    values = dict(parameters)
    column, within = values.pop("column"), values.pop("within")
    return what_works_view(db, actor, version, PayoffScope.from_parameters(values), column,
                           (within[0], within[1]) if within else None, frames, 0, reading=False)


RECOMPUTE: dict[str, Recompute] = {
    "payoff view": lambda db, actor, version, parameters, frames: page_view(
        db, actor, version, PayoffScope.from_parameters(parameters), frames, 0, reading=False),
    "what works": _what_works_again,
    "categories": lambda db, actor, version, parameters, frames: categories(db, actor, version, frames, 0,
                                                                           reading=False),
    "report payoff": lambda db, actor, version, parameters, frames: report_outcomes(
        db, actor, version, ReportScope.from_parameters(parameters), reading=False),
}


def due(db: Database, every_seconds: float = REFRESH_SECONDS) -> bool:
    """True when the opening view is not stored yet, or was worked out on other data more than
    `every_seconds` ago (a busy chain's data changes every minute: the view follows every few);
    or when a figure read in the last day was, by the same rule."""
    actor = Actor.system("payoff")
    found = computed_queries.stored_state(db, actor, key_of("payoff view", PayoffScope.default().parameters()))
    if found is None:
        return True
    version = frame_queries.data_version(db)
    if found.data_version != version and utc_now() - found.computed_at >= timedelta(seconds=every_seconds):
        return True
    return bool(_read_lately(db, actor, version, every_seconds))


def _read_lately(db: Database, actor: Actor, version: str,
                 every_seconds: float = REFRESH_SECONDS) -> list[computed_queries.ReadLately]:
    now = utc_now()
    return computed_queries.read_lately(db, actor, since=now - READ_RECENTLY, data_version=version,
                                        worked_out_before=now - timedelta(seconds=every_seconds))


def _frames_once(db: Database) -> Frames:
    """Every incident's frames, loaded on first use and shared by the round's figures."""
    loaded: list[frame_queries.AnalyticsFrames] = []

    def frames() -> frame_queries.AnalyticsFrames:
        if not loaded:
            loaded.append(frame_queries.load_analytics_frames(db, outcomes=True))
        return loaded[0]

    return frames


def refresh_default(db: Database, actor: Actor | None = None, frames: Frames | None = None) -> bool:
    """Work out what a leader's Payoff page opens on (every incident, 90 days, "What works?" by
    first gesture) for the data as it is now, unless it is stored for it: -> whether it was worked
    out. The notification worker calls it when `due`, so the first page of the day is read."""
    actor = actor or Actor.system("payoff")
    version = frame_queries.data_version(db)
    scope = PayoffScope.default()
    worked_out: list[int] = []
    shared = frames or _frames_once(db)

    def counted() -> frame_queries.AnalyticsFrames:
        worked_out.append(1)
        return shared()

    page_view(db, actor, version, scope, counted, stale_seconds=0, reading=False)
    what_works_view(db, actor, version, scope, DEFAULT_BREAKDOWN, None, counted, stale_seconds=0, reading=False)
    categories(db, actor, version, counted, stale_seconds=0, reading=False)
    return bool(worked_out)


def refresh_read_lately(db: Database, actor: Actor | None = None, frames: Frames | None = None,
                        seconds: float = ROUND_SECONDS, started: float | None = None) -> int:
    """Work out again, for the data as it is now, the figures read in the last day (`READ_RECENTLY`)
    that were worked out on other data over `REFRESH_SECONDS` ago, last read first; none is
    started after `seconds` since `started` (but one always is, so a slow opening view cannot
    starve them). -> how many were worked out. A figure stored by another release (its key no
    longer matches its parameters) is forgotten and worked out under today's key."""
    actor = actor or Actor.system("payoff")
    started = time.perf_counter() if started is None else started
    version = frame_queries.data_version(db)
    frames = frames or _frames_once(db)
    done = attempted = 0
    for row in _read_lately(db, actor, version):
        if attempted and time.perf_counter() - started >= seconds:
            break
        recompute = RECOMPUTE.get(row.kind)
        if recompute is None:
            continue
        attempted += 1
        try:
            parameters = json.loads(row.parameters)
            if key_of(row.kind, parameters) != row.key:  # never readable again: a reader asks by today's key
                computed_service.discard(db, actor, row.key)
            recompute(db, actor, version, parameters, frames)
        except Exception as exc:  # noqa: BLE001 - one figure failing must not stop the others
            log.warning("%s not worked out ahead (%s: %s)", row.kind, type(exc).__name__, exc)
            continue
        done += 1
    return done


def refresh(db: Database, actor: Actor | None = None, seconds: float = ROUND_SECONDS) -> str:
    """The worker's payoff round: the opening view first, then what was read lately, within
    `seconds` (`refresh_read_lately`); one loading of the frames for both. -> what it did, in words."""
    started = time.perf_counter()
    frames = _frames_once(db)
    opening = refresh_default(db, actor, frames)
    again = refresh_read_lately(db, actor, frames, seconds, started)
    said = ["Payoff worked out ahead" if opening else "Payoff already current"]
    if again:
        said.append(f"{again} figure{'s' if again != 1 else ''} read lately worked out again")
    return "; ".join(said)
