"""Reads for proactive care (issue 13): the care list of a location, recoveries awaiting a
follow-up, the time open incidents have waited, what values staff live, the recognition feed.

The care list is computed by `analytics.care.build_care_list` on the payoff's frames
(`queries.frames.load_analytics_frames`) plus the "touches" that take a customer off it:
follow-ups and gestures logged from the list (source "care"). A location's list holds the
customers with an incident there in the window; the model is fitted on the whole organisation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session, aliased

from empowerment import access
from empowerment.actor import Actor
from empowerment.analytics.care import DEFAULT_RULES, CareRules, build_care_list
from empowerment.clock import utc_now
from empowerment.db import Database
from empowerment.errors import NotFound, PermissionDenied
from empowerment.models import (
    Customer,
    Employee,
    EvidenceRow,
    FollowUp,
    Gesture,
    GestureStatus,
    GestureValue,
    Incident,
    Location,
    Recognition,
    Team,
)
from empowerment.models import EvidenceState as StoredEvidenceState
from empowerment.models.vocabulary import GESTURE_TYPE, INCIDENT_CATEGORY, SERVICE_VALUE, load_vocabulary
from empowerment.queries.frames import load_analytics_frames

CARE_SOURCE = "care"  # Gesture.source / FollowUp.source of an action taken from the care list
TRAINING_DAYS = 730  # incidents the model learns from: the two years before as-of
FOLLOW_UP_DAYS = 14  # recoveries awaiting a follow-up: logged in the last two weeks
EVIDENCE_HORIZON_DAYS = 90  # "came back within 90 days": the horizon the tablet's evidence speaks of


@dataclass(frozen=True)
class CareList:
    entries: pd.DataFrame  # rank, customer_code, customer, incident_code, category, reason, ...
    as_of: pd.Timestamp
    rules: CareRules
    location: str | None
    model: str  # "model" | "base rate" | "" (empty list)

    @property
    def explanation(self) -> str:
        return self.rules.describe()


def locations_in_reach(db: Database, actor: Actor, action: str = "care.read") -> list[tuple[int, str]]:
    """(id, name) of the locations the actor may read the care list (or `action`) for."""
    with db.read() as session:
        ids = access.location_ids(session, actor, action)
        query = select(Location.id, Location.name).order_by(Location.name)
        if ids is not None:
            query = query.where(Location.id.in_(ids))
        return [(int(i), str(n)) for i, n in session.execute(query)]


def _location_name(session: Session, actor: Actor, location: str | None) -> str | None:
    """The location's name (a code or a name may be given), once the actor may read it."""
    ids = access.location_ids(session, actor, "care.read")
    if location is None:
        if ids is None:
            return None
        if len(ids) == 1:
            return session.scalar(select(Location.name).where(Location.id == ids[0]))
        if not ids:
            raise PermissionDenied("You belong to no location yet; ask an admin to put your team at one.")
        raise PermissionDenied("Pick one of your locations.")
    found = session.execute(select(Location.id, Location.name).where(
        (Location.code == location) | (Location.name == location))).first()
    if found is None:
        raise NotFound(f"No location '{location}'.")
    if ids is not None and found[0] not in ids:
        raise PermissionDenied("You may only see the care list of your own location.")
    return str(found[1])


def _touches(session: Session) -> pd.DataFrame:
    """When each customer was last followed up or cared for from the list."""
    follow = select(FollowUp.customer_id.label("customer_id"), FollowUp.occurred_at.label("occurred_at"))
    cared = select(Gesture.customer_id.label("customer_id"), Gesture.occurred_at.label("occurred_at")).where(
        Gesture.source == CARE_SOURCE, Gesture.status.in_(GestureStatus.against_budget()))
    both = union_all(follow, cared).subquery()
    rows = session.execute(select(both.c.customer_id, func.max(both.c.occurred_at)).group_by(both.c.customer_id)).all()
    return pd.DataFrame({"customer_id": np.array([r[0] for r in rows], dtype=np.int64),
                         "occurred_at": pd.to_datetime([r[1] for r in rows])})


def care_list(db: Database, actor: Actor, location: str | None = None, *, as_of: Any = None,
              rules: CareRules = DEFAULT_RULES) -> CareList:
    """The care list of one location (None: every location, for those who may see them all)."""
    with db.read() as session:
        name = _location_name(session, actor, location)
        touches = _touches(session)
        vocab = load_vocabulary(session)
    stamp = pd.Timestamp(as_of) if as_of is not None else pd.Timestamp(utc_now())
    frames = load_analytics_frames(db, date_from=(stamp - pd.Timedelta(days=TRAINING_DAYS)).date(),
                                   date_to=stamp.date(), as_of=stamp)
    incidents = frames.incidents.loc[pd.to_datetime(frames.incidents["occurred_at"]) <= stamp]
    candidates = None
    if name is not None:
        at_location = incidents["location"].astype(object) == name
        candidates = np.unique(incidents.loc[at_location, "customer_id"].to_numpy(dtype=np.int64))
    gestures = frames.gestures.loc[pd.to_datetime(frames.gestures["occurred_at"]) <= stamp]
    touches = touches.loc[touches["occurred_at"] <= stamp]
    listed = build_care_list(incidents, gestures, frames.transactions, frames.customers, touches, stamp,
                             rules=rules, category_labels=vocab.labels(INCIDENT_CATEGORY), candidates=candidates)
    entries = _with_names(db, listed, vocab.labels(INCIDENT_CATEGORY))
    model = str(listed["model"].iloc[0]) if len(listed) else ""
    return CareList(entries, stamp, rules, name, model)


def _with_names(db: Database, listed: pd.DataFrame, category_labels: dict[str, str]) -> pd.DataFrame:
    columns = ["rank", "customer_code", "customer", "incident_code", "category", "occurred_at", "reason",
               "reason_code", "incidents_in_window", "chance_not_returning", "typical_revenue_cents",
               "value_at_risk_cents"]
    if listed.empty:
        return pd.DataFrame(columns=columns)
    with db.read() as session:
        customers = dict((i, (c, n)) for i, c, n in session.execute(
            select(Customer.id, Customer.code, Customer.name).where(Customer.id.in_(listed["customer_id"].tolist()))))
        incidents = dict(session.execute(select(Incident.id, Incident.code).where(
            Incident.id.in_(listed["incident_id"].tolist()))).all())
    out = listed.copy()
    out["customer_code"] = out["customer_id"].map(lambda i: customers[i][0])
    out["customer"] = out["customer_id"].map(lambda i: customers[i][1])
    out["incident_code"] = out["incident_id"].map(incidents)
    out["category"] = out["category"].map(lambda c: category_labels.get(str(c), str(c)))
    return out[columns]


# --- follow-ups and waiting ------------------------------------------------------------------------

def awaiting_follow_up(db: Database, actor: Actor, location_ids: list[int] | None = None,
                       now: datetime | None = None, days: int = FOLLOW_UP_DAYS) -> pd.DataFrame:
    """Incidents recovered in the last `days` (a logged gesture) that nobody has followed up yet,
    at the locations in the actor's hand-over reach (oldest first)."""
    now = now or utc_now()
    with db.read() as session:
        reach = access.location_ids(session, actor, "handover.read")
        wanted = reach if location_ids is None else [i for i in location_ids if reach is None or i in reach]
        giver = aliased(Employee)
        first_gesture = (select(Gesture.incident_id, func.min(Gesture.occurred_at).label("recovered_at"))
                         .where(Gesture.status == GestureStatus.LOGGED,
                                Gesture.occurred_at >= now - timedelta(days=days))
                         .group_by(Gesture.incident_id).subquery())
        query = (select(Incident.code, Customer.code, Customer.name, Incident.category, first_gesture.c.recovered_at,
                        giver.name)
                 .join(first_gesture, first_gesture.c.incident_id == Incident.id)
                 .join(Customer, Customer.id == Incident.customer_id)
                 .outerjoin(giver, giver.id == Incident.employee_id)
                 .where(~select(FollowUp.id).where(FollowUp.incident_id == Incident.id).exists())
                 .order_by(first_gesture.c.recovered_at).limit(200))
        if wanted is not None:
            query = query.where(Incident.location_id.in_(wanted))
        rows = session.execute(query).all()
        labels = load_vocabulary(session).labels(INCIDENT_CATEGORY)
    frame = pd.DataFrame(rows, columns=["incident_code", "customer_code", "customer", "category", "recovered_at",
                                        "recorded_by"])
    frame["category"] = frame["category"].map(lambda c: labels.get(c, c))
    return frame


def waiting_incidents(db: Database, actor: Actor, now: datetime | None = None, days: int = 7) -> pd.DataFrame:
    """Open incidents (no gesture yet) of the last `days` in the actor's hand-over reach, with how
    long each has waited (hours), longest first."""
    now = now or utc_now()
    with db.read() as session:
        reach = access.location_ids(session, actor, "handover.read")
        query = (select(Incident.code, Customer.name, Incident.category, Incident.occurred_at)
                 .join(Customer, Customer.id == Incident.customer_id)
                 .where(Incident.occurred_at >= now - timedelta(days=days), Incident.occurred_at <= now,
                        ~select(Gesture.id).where(Gesture.incident_id == Incident.id,
                                                  Gesture.status.in_(GestureStatus.against_budget())).exists())
                 .order_by(Incident.occurred_at).limit(200))
        if reach is not None:
            query = query.where(Incident.location_id.in_(reach))
        rows = session.execute(query).all()
        labels = load_vocabulary(session).labels(INCIDENT_CATEGORY)
    frame = pd.DataFrame(rows, columns=["incident_code", "customer", "category", "occurred_at"])
    frame["category"] = frame["category"].map(lambda c: labels.get(c, c))
    frame["waited_hours"] = [(now - t).total_seconds() / 3600 for t in frame["occurred_at"]]
    return frame


def time_to_gesture(db: Database, actor: Actor, team_ids: list[int] | None, since: datetime) -> pd.DataFrame:
    """Per team: median and 90th percentile hours from incident to its first gesture (since `since`)."""
    with db.read() as session:
        ids = access.team_ids(session, actor, "team.read", team_ids)
        first = (select(Gesture.incident_id, func.min(Gesture.occurred_at).label("at"))
                 .where(Gesture.status.in_(GestureStatus.against_budget())).group_by(Gesture.incident_id).subquery())
        rows = session.execute(
            select(Team.name, Incident.occurred_at, first.c.at)
            .join(first, first.c.incident_id == Incident.id)
            .join(Employee, Employee.id == Incident.employee_id)
            .join(Team, Team.id == Employee.team_id)
            .where(Team.id.in_(ids), Incident.occurred_at >= since)).all()
    frame = pd.DataFrame(rows, columns=["team", "incident_at", "gesture_at"])
    if frame.empty:
        return pd.DataFrame(columns=["team", "incidents", "median_hours", "p90_hours"])
    hours = (pd.to_datetime(frame["gesture_at"]) - pd.to_datetime(frame["incident_at"])).dt.total_seconds() / 3600
    frame["hours"] = hours.clip(lower=0)
    return (frame.groupby("team")["hours"]
            .agg(incidents="size", median_hours="median", p90_hours=lambda h: h.quantile(0.9))
            .reset_index())


# --- values and recognition ------------------------------------------------------------------------

def values_lived(db: Database, actor: Actor, team_ids: list[int] | None, since: datetime,
                 employee_code: str | None = None) -> pd.DataFrame:
    """Gestures tagged with each service value, by team (or for one person): team, value, gestures."""
    with db.read() as session:
        if employee_code is not None:
            person = access.employee(session, actor, "budget.read", employee_code, active_only=False)
            condition = Gesture.employee_id == person.id
        else:
            condition = Employee.team_id.in_(access.team_ids(session, actor, "team.read", team_ids))
        rows = session.execute(
            select(Team.name, GestureValue.value_code, func.count())
            .join(Gesture, Gesture.id == GestureValue.gesture_id)
            .join(Employee, Employee.id == Gesture.employee_id)
            .outerjoin(Team, Team.id == Employee.team_id)
            .where(condition, Gesture.status == GestureStatus.LOGGED, Gesture.occurred_at >= since)
            .group_by(Team.name, GestureValue.value_code)).all()
        labels = load_vocabulary(session).labels(SERVICE_VALUE)
    frame = pd.DataFrame(rows, columns=["team", "value_code", "gestures"])
    frame["value"] = frame["value_code"].map(lambda c: labels.get(c, c))
    frame["team"] = frame["team"].fillna("(no team)")
    return frame.sort_values(["team", "gestures"], ascending=[True, False], ignore_index=True)


def recognition_feed(db: Database, actor: Actor, location: str | None = None, limit: int = 30,
                     employee_code: str | None = None) -> pd.DataFrame:
    """Featured stories at the location (or one person's recognitions), newest first, with their
    values and the manager's thanks."""
    with db.read() as session:
        if employee_code is not None:
            person = access.employee(session, actor, "budget.read", employee_code, active_only=False)
            condition = Gesture.employee_id == person.id
        else:
            name = _location_name(session, actor, location)
            condition = Location.name == name if name is not None else Gesture.id.is_not(None)
        thanker = aliased(Employee)
        giver = aliased(Employee)
        rows = session.execute(
            select(Gesture.id, Gesture.code, Gesture.occurred_at, giver.name, Customer.name, Incident.category,
                   Gesture.type, Gesture.note, Recognition.message, thanker.name, Location.name)
            .join(Incident, Incident.id == Gesture.incident_id)
            .join(Customer, Customer.id == Gesture.customer_id)
            .join(giver, giver.id == Gesture.employee_id)
            .outerjoin(Location, Location.id == Incident.location_id)
            .outerjoin(Recognition, Recognition.gesture_id == Gesture.id)
            .outerjoin(thanker, thanker.id == Recognition.thanked_by_id)
            .where(condition, Gesture.featured.is_(True) | Recognition.id.is_not(None))
            .order_by(Gesture.occurred_at.desc()).limit(limit)).all()
        ids = [r[0] for r in rows]
        tags: dict[int, list[str]] = {}
        for gesture_id, code in session.execute(select(GestureValue.gesture_id, GestureValue.value_code)
                                                .where(GestureValue.gesture_id.in_(ids))):
            tags.setdefault(gesture_id, []).append(code)
        vocab = load_vocabulary(session)
    return pd.DataFrame([{
        "gesture_code": r[1], "occurred_at": r[2], "by": r[3], "customer": r[4],
        "category": vocab.label(INCIDENT_CATEGORY, r[5]), "type": vocab.label(GESTURE_TYPE, r[6]), "story": r[7] or "",
        "values": ", ".join(vocab.label(SERVICE_VALUE, c) for c in tags.get(r[0], [])),
        "thanks": r[8] or "", "thanked_by": r[9] or "", "location": r[10] or ""} for r in rows],
        columns=["gesture_code", "occurred_at", "by", "customer", "category", "type", "story", "values", "thanks",
                 "thanked_by", "location"])


def stories_to_thank(db: Database, actor: Actor, since: datetime, limit: int = 30) -> pd.DataFrame:
    """Recent logged gestures with a note on the teams the actor may thank, not thanked yet."""
    with db.read() as session:
        ids = access.team_ids(session, actor, "team.read")
        giver = aliased(Employee)
        rows = session.execute(
            select(Gesture.code, Gesture.occurred_at, giver.name, Customer.name, Gesture.note)
            .join(giver, giver.id == Gesture.employee_id)
            .join(Customer, Customer.id == Gesture.customer_id)
            .where(giver.team_id.in_(ids), Gesture.status == GestureStatus.LOGGED, Gesture.occurred_at >= since,
                   Gesture.note.is_not(None),
                   ~select(Recognition.id).where(Recognition.gesture_id == Gesture.id).exists())
            .order_by(Gesture.occurred_at.desc()).limit(limit)).all()
    return pd.DataFrame(rows, columns=["gesture_code", "occurred_at", "by", "customer", "note"])


def evidence_request(as_of: Any, horizon_days: int = EVIDENCE_HORIZON_DAYS) -> Any:
    """The payoff request the inline evidence answers: every incident, the horizon the tablet
    speaks of, the recovery window and margin in force (the Payoff page's defaults)."""
    from empowerment import settings
    from empowerment.analytics import PayoffRequest
    from empowerment.analytics.what_works import WHAT_WORKS_BOOTSTRAP

    current = settings.current()
    return PayoffRequest(horizon_days=horizon_days, as_of=as_of, bootstrap=WHAT_WORKS_BOOTSTRAP, seed=0,
                         recovery_window_hours=current.recovery_window_hours, margin=current.contribution_margin)


def what_tends_to_work(db: Database, *, as_of: Any = None, horizon_days: int = EVIDENCE_HORIZON_DAYS) -> pd.DataFrame:
    """For every incident category and first gesture type: the payoff's ADJUSTED breakdown
    (`analytics.what_works.by_category` over the payoff's own rows, `analytics.payoff.linked_rows`):
    cases, the difference in the share back within the horizon against comparable customers
    given no gesture, its 95% interval, Holm's correction across the types of a category, and
    reliable/reason ("Not enough data" below 30 cases). Tens of seconds at 1M gestures: it runs off
    the app process (`reports.evidence.refresh` stores it) and the tablet reads `stored_evidence`."""
    from empowerment.analytics.payoff import linked_rows
    from empowerment.analytics.what_works import by_category

    frames = load_analytics_frames(db, as_of=as_of)
    request = evidence_request(frames.as_of, horizon_days)
    linked = linked_rows(frames.incidents, frames.gestures, frames.transactions, frames.customers, request)
    return by_category(linked, bootstrap=request.bootstrap, seed=request.seed)


# --- the stored evidence (what the tablet reads) ---------------------------------------------------

EVIDENCE_COLUMNS = ["category", "gesture_type", "cases", "estimate", "low", "high", "p_value", "p_holm", "reliable",
                    "reason"]


@dataclass(frozen=True)
class EvidenceState:
    computed_at: datetime
    data_version: str
    rows: int
    seconds: float


def evidence_state(db: Database) -> EvidenceState | None:
    """When the stored evidence was computed (its `computed_at` is the tablet's cache key), or None
    before the first refresh. One row by primary key."""
    with db.read() as session:
        row = session.get(StoredEvidenceState, 1)
        return None if row is None else EvidenceState(row.computed_at, row.data_version, row.rows, row.seconds)


def stored_evidence(db: Database) -> pd.DataFrame:
    """The evidence as the last refresh stored it (`reports.evidence.refresh`): the columns of
    `what_tends_to_work`, in its order (empty before the first refresh). A few dozen rows."""
    with db.read() as session:
        rows = session.execute(
            select(*[getattr(EvidenceRow, c) for c in EVIDENCE_COLUMNS]).order_by(EvidenceRow.id)).all()
    frame = pd.DataFrame(rows, columns=EVIDENCE_COLUMNS)
    for column in ("estimate", "low", "high", "p_value", "p_holm"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    frame["cases"] = frame["cases"].astype("int64")
    frame["reliable"] = frame["reliable"].astype(bool)
    return frame
