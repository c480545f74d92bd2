"""The shift hand-over's printable digest: plain text, and self-contained HTML in which every value
from the database is escaped (names and notes are typed by people: they are data, never markup).

`read_handover` is how pages and the digest route read the hand-over: readers who see customers
by pseudonym (HR and CX leads, across every location) leave an audit row for each read."""

from __future__ import annotations

import html
import re

import pandas as pd

from empowerment import labels
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.money import format_money
from empowerment.queries.handover import Handover, build_handover
from empowerment.services.report_access import record_handover_read

PSEUDONYM_NOTE = "Customers are shown by pseudonym; rooms are left out."


def read_handover(db: Database, actor: Actor, purpose: str = "page") -> Handover:
    """The hand-over for `actor`; a pseudonymised read is audited (purpose: page, digest)."""
    handover = build_handover(db, actor)
    if handover.pseudonymised:
        record_handover_read(db, actor, purpose, handover.locations, len(handover.open_incidents),
                             len(handover.recoveries))
    return handover

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


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
    return format_money(int(cents))  # type: ignore[call-overload]


def _recovery_line(row: pd.Series) -> str:
    text = (f"{_when(row['occurred_at'])} · {_clean(row['by'])} · "
            f"{labels.gesture_type(row['type'])} {_money(row['cost_cents'])} for "
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
    if handover.pseudonymised:
        lines[1:1] = [PSEUDONYM_NOTE]
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
    if handover.pseudonymised:
        parts.append(f'<p class="none">{e(PSEUDONYM_NOTE)}</p>')
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
