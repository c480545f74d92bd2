"""What a notification says: a subject, a few sentences and the link to the page where the
decision is made. Names and amounts, never codes; customers are not named (messages leave the app
for mail servers and chat tools)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from empowerment import labels
from empowerment.models import EventKind
from empowerment.money import format_money

# The page each kind of event is acted on (app.py serves every page under its key).
PAGES = {EventKind.APPROVAL_REQUESTED: "team", EventKind.FLAGGED_FOR_REVIEW: "team",
         EventKind.APPROVAL_DECIDED: "my_budget", EventKind.WEEKLY_DIGEST: "team"}
BUTTONS = {EventKind.APPROVAL_REQUESTED: "Approve or reject", EventKind.FLAGGED_FOR_REVIEW: "Review it",
           EventKind.APPROVAL_DECIDED: "Open My budget", EventKind.WEEKLY_DIGEST: "Open the team page"}


@dataclass(frozen=True)
class Message:
    subject: str
    text: str  # plain text, a few lines
    link: str
    button: str


def _gesture(payload: dict[str, Any]) -> str:
    """"gesture (On the house, $35.00)": what was done in words, the money with its currency."""
    kind = labels.gesture_type(payload["type"]) if payload.get("type") else "Gesture"
    return f"gesture ({kind}, {format_money(int(payload.get('cost_cents', 0)))})"


def render(kind: EventKind, payload: dict[str, Any], public_url: str) -> Message:
    link = f"{public_url}/{PAGES[kind]}"
    who = payload.get("employee_name", "Someone")
    if kind == EventKind.APPROVAL_REQUESTED:
        text = (f"{who} logged a {_gesture(payload)} for \"{payload.get('category', 'an incident')}\" that "
                f"needs your approval. The money is held until you decide.")
        return Message(f"Approval needed: {who}, {_gesture(payload)}", text, link, BUTTONS[kind])
    if kind == EventKind.FLAGGED_FOR_REVIEW:
        text = (f"{who} logged a {_gesture(payload)} for \"{payload.get('category', 'an incident')}\", "
                "above the review amount. It is logged; please read it and mark it reviewed.")
        return Message(f"To review: {who}, {_gesture(payload)}", text, link, BUTTONS[kind])
    if kind == EventKind.APPROVAL_DECIDED:
        approved = bool(payload.get("approved"))
        by = payload.get("decided_by", "A manager")
        if approved:
            text = f"{by} approved your {_gesture(payload)}; the held money is now spent."
        else:
            reason = payload.get("reason") or "no reason given"
            text = f"{by} rejected your {_gesture(payload)} ({reason}); the held money is back in your budget."
        return Message(f"Your {_gesture(payload)} was {'approved' if approved else 'rejected'}", text, link,
                       BUTTONS[kind])
    lines = [f"Your teams this week ({payload.get('period', '')}):"]
    for person in payload.get("low_use", [])[:15]:
        lines.append(f"- {person['name']} ({person['team']}) has used {person['used_percent']}% of their budget.")
    for person in payload.get("no_gestures", [])[:15]:
        lines.append(f"- {person['name']} ({person['team']}) had {labels.count(int(person['incidents']), 'incident')} and "
                     "logged no gesture.")
    for entry in payload.get("care_list", [])[:15]:  # filled once the care list exists
        lines.append(f"- Care list: {entry}")
    if len(lines) == 1:
        lines.append("- Nobody stands out: every budget is in use.")
    lines.append("An unused budget is an empowerment gap, not a saving.")
    return Message("Weekly empowerment digest", "\n".join(lines), link, BUTTONS[kind])
