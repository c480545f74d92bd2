"""Shift hand-over: what the next shift must know, per location, for the last 24 hours.

- Open incidents: something went wrong and nobody has made a gesture that still counts.
- Notable recoveries: gestures that carry a story (a note), were featured or were big enough to
  need a manager's review.
Plus a printable digest, as plain text and as self-contained HTML in which every value from the
database is escaped (names and notes are typed by people: they are data, never markup).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import exists, or_, select, true
from sqlalchemy.orm import aliased

from empowerment import settings
from empowerment.access import location_scope
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.models import Customer, Employee, Gesture, GestureStatus, Incident, Location
from empowerment.money import format_cents

WINDOW_HOURS = 24
NO_LOCATION = "No location"
OPEN_COLUMNS = ["location", "occurred_at", "incident", "category", "customer", "room",
                "reported_by", "description"]
RECOVERY_COLUMNS = ["location", "occurred_at", "gesture", "customer", "room", "by", "type",
                    "cost_cents", "note", "featured", "needs_review"]
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class Handover:
    since: datetime
    until: datetime
    open_incidents: pd.DataFrame
    recoveries: pd.DataFrame

    @property
    def locations(self) -> list[str]:
        names = set(self.open_incidents["location"]) | set(self.recoveries["location"])
        return sorted(names, key=lambda n: (n == NO_LOCATION, n))


def build_handover(db: Database, actor: Actor, now: datetime | None = None,
                   hours: int = WINDOW_HOURS, location_id: int | None = None) -> Handover:
    """The hand-over for the locations the actor works at (every location for hr, cx, admin)."""
    until = (now or datetime.now()).replace(microsecond=0)
    since = until - timedelta(hours=hours)
    with db.read() as session:
        scope = location_scope(session, actor)
        if location_id is not None:
            scope = [location_id] if scope is None or location_id in scope else []
        open_rows = session.execute(_open_query(since, until, scope)).all()
        recovery_rows = session.execute(_recovery_query(since, until, scope)).all()
    open_frame = pd.DataFrame([list(r) for r in open_rows], columns=OPEN_COLUMNS)
    recoveries = pd.DataFrame([[*r[:6], r[6].value, *r[7:]] for r in recovery_rows],
                              columns=RECOVERY_COLUMNS)
    for frame in (open_frame, recoveries):
        frame["location"] = frame["location"].fillna(NO_LOCATION)
    return Handover(since, until, open_frame, recoveries)


def _in_scope(column: object, scope: list[int] | None) -> object:
    if scope is None:
        return true()
    return column.in_(scope)  # type: ignore[attr-defined]


def _open_query(since: datetime, until: datetime, scope: list[int] | None):  # type: ignore[no-untyped-def]
    reporter = aliased(Employee)
    active = exists().where(Gesture.incident_id == Incident.id,
                            Gesture.status.in_((GestureStatus.LOGGED, GestureStatus.PENDING_APPROVAL)))
    return (
        select(Location.name, Incident.occurred_at, Incident.code, Incident.category, Customer.name,
               Customer.room, reporter.name, Incident.description)
        .join(Customer, Customer.id == Incident.customer_id)
        .outerjoin(Location, Location.id == Incident.location_id)
        .outerjoin(reporter, reporter.id == Incident.employee_id)
        .where(Incident.occurred_at >= since, Incident.occurred_at <= until, ~active,
               _in_scope(Incident.location_id, scope))  # type: ignore[arg-type]
        .order_by(Location.name, Incident.occurred_at.desc())
    )


def _recovery_query(since: datetime, until: datetime, scope: list[int] | None):  # type: ignore[no-untyped-def]
    return (
        select(Location.name, Gesture.occurred_at, Gesture.code, Customer.name, Customer.room,
               Employee.name, Gesture.type, Gesture.cost_cents, Gesture.note, Gesture.featured,
               Gesture.needs_review)
        .join(Incident, Incident.id == Gesture.incident_id)
        .join(Customer, Customer.id == Gesture.customer_id)
        .join(Employee, Employee.id == Gesture.employee_id)
        .outerjoin(Location, Location.id == Incident.location_id)
        .where(Gesture.occurred_at >= since, Gesture.occurred_at <= until,
               Gesture.status == GestureStatus.LOGGED,
               or_(Gesture.note.is_not(None) & (Gesture.note != ""), Gesture.featured.is_(True),
                   Gesture.needs_review.is_(True)),
               _in_scope(Incident.location_id, scope))  # type: ignore[arg-type]
        .order_by(Location.name, Gesture.cost_cents.desc(), Gesture.occurred_at.desc())
    )


# --- the printable digest -------------------------------------------------------------------------

def _clean(value: object) -> str:
    """One printable line: no control characters, no line breaks, None as a dash."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    return " ".join(_CONTROL.sub(" ", str(value)).split())


def _when(value: object) -> str:
    return f"{pd.Timestamp(value):%a %d %b %H:%M}" if value is not None else "—"


def _room(value: object) -> str:
    return f", room {_clean(value)}" if value is not None and not pd.isna(value) else ""


def _open_line(row: pd.Series) -> str:
    text = f"{_when(row['occurred_at'])} · {_clean(row['category'])} · {_clean(row['customer'])}"
    text += _room(row["room"]) + f" · reported by {_clean(row['reported_by'])}"
    if row["description"] is not None and not pd.isna(row["description"]):
        text += f" — {_clean(row['description'])}"
    return text


def _money(cents: object) -> str:
    return f"{format_cents(int(cents), '')} {settings.currency()}"  # type: ignore[call-overload]


def _recovery_line(row: pd.Series) -> str:
    text = (f"{_when(row['occurred_at'])} · {_clean(row['by'])} · "
            f"{_clean(row['type']).replace('_', ' ')} {_money(row['cost_cents'])} for "
            f"{_clean(row['customer'])}{_room(row['room'])}")
    if row["featured"]:
        text += " · featured"
    if row["note"] is not None and not pd.isna(row["note"]):
        text += f" — “{_clean(row['note'])}”"
    return text


def _sections(handover: Handover) -> list[tuple[str, list[str], list[str]]]:
    out = []
    for location in handover.locations:
        open_here = handover.open_incidents[handover.open_incidents["location"] == location]
        done_here = handover.recoveries[handover.recoveries["location"] == location]
        out.append((location, [_open_line(r) for _, r in open_here.iterrows()],
                    [_recovery_line(r) for _, r in done_here.iterrows()]))
    return out


def digest_text(handover: Handover) -> str:
    lines = [f"SHIFT HAND-OVER  {handover.since:%d %b %H:%M} – {handover.until:%d %b %H:%M}", ""]
    if not handover.locations:
        lines.append("Nothing open and no notable recoveries in the last 24 hours.")
    for location, open_lines, recovery_lines in _sections(handover):
        lines += [f"== {_clean(location)} ==", f"Open incidents ({len(open_lines)}):"]
        lines += [f"  [ ] {line}" for line in open_lines] or ["  none"]
        lines.append(f"Notable recoveries ({len(recovery_lines)}):")
        lines += [f"  * {line}" for line in recovery_lines] or ["  none"]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


_STYLE = ("body{font-family:system-ui,sans-serif;margin:2rem;color:#222}h1{font-size:1.4rem}"
          "h2{font-size:1.15rem;border-bottom:1px solid #999;margin-top:1.5rem}"
          "li{margin:.3rem 0}.none{color:#777}@media print{body{margin:1cm}}")


def digest_html(handover: Handover) -> str:
    """A self-contained printable page. Every value is HTML-escaped; the page forbids scripts."""
    e = html.escape
    title = f"Shift hand-over {handover.since:%d %b %H:%M} – {handover.until:%d %b %H:%M}"
    parts = ["<!doctype html>", '<html lang="en"><head><meta charset="utf-8">',
             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
             "style-src 'unsafe-inline'\">",
             f"<title>{e(title)}</title><style>{_STYLE}</style></head><body>", f"<h1>{e(title)}</h1>"]
    if not handover.locations:
        parts.append('<p class="none">Nothing open and no notable recoveries in the last 24 hours.</p>')
    for location, open_lines, recovery_lines in _sections(handover):
        parts.append(f"<h2>{e(location)}</h2>")
        for heading, items, mark in (("Open incidents", open_lines, "☐ "),
                                     ("Notable recoveries", recovery_lines, "")):
            parts.append(f"<h3>{heading} ({len(items)})</h3>")
            if items:
                parts.append("<ul>" + "".join(f"<li>{mark}{e(i)}</li>" for i in items) + "</ul>")
            else:
                parts.append('<p class="none">None.</p>')
    parts.append("</body></html>")
    return "\n".join(parts)
