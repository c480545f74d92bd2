"""Words for what a person reads: the one place that turns stored codes into labels.

Enums carry their own words (`GestureType.label`, `GestureStatus.label`, `Role.heading`,
`Period.label`, `Rollover.label`, `LedgerEntryType.label`); this module adds what has no enum (audit
actions and what they act on, audit details, column headings) and the helpers every page, chart,
digest and file uses: `gesture_type`, `status`, `words`, `count`. Nothing here is a rule; a code no
entry knows is turned into words rather than shown as it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from empowerment.models import GestureStatus, GestureType, LedgerEntryType, Period, Role, Rollover
from empowerment.money import format_money

_SNAKE = re.compile(r"[_.]+")


def words(code: object) -> str:
    """Any stored code in words, as a heading or a cell: "personal_note" -> "Personal note"."""
    text = _SNAKE.sub(" ", str(code)).strip()
    return text[:1].upper() + text[1:]


def gesture_type(value: object) -> str:
    """What was done: "comp" -> "On the house" (an unknown value in words)."""
    try:
        return GestureType(str(value)).label
    except ValueError:
        return words(value)


def status(value: object) -> str:
    """A gesture's status: "pending_approval" -> "Waiting for approval"."""
    try:
        return GestureStatus(str(value)).label
    except ValueError:
        return words(value)


def period(value: object) -> str:
    try:
        return Period(str(value)).label
    except ValueError:
        return words(value)


def rollover(value: object) -> str:
    try:
        return Rollover(str(value)).label
    except ValueError:
        return words(value)


def count(n: int, singular: str, plural: str | None = None) -> str:
    """"1 flagged gesture", "2 flagged gestures", "1,204 people" (plural given when not + s)."""
    return f"{n:,} {singular if n == 1 else plural or singular + 's'}"


# --- the audit log ---------------------------------------------------------------------------------

AUDIT_ACTIONS: Mapping[str, str] = {
    "api.call": "API call",
    "api_token.created": "API token created",
    "api_token.revoked": "API token revoked",
    "auth.pin_failed": "Wrong PIN",
    "auth.pin_locked": "PIN locked after wrong tries",
    "auth.pin_refused_locked": "PIN refused: locked",
    "auth.sign_in_failed": "Sign-in failed",
    "auth.sign_in_throttled": "Sign-in slowed down after failures",
    "auth.signed_in": "Signed in",
    "auth.signed_out": "Signed out",
    "budget.adjusted": "Budget adjusted",
    "customer.created": "Customer added",
    "customer.merged": "Customers merged",
    "customer.erased": "Customer's personal data erased",
    "database.backup_started": "Database backup started",
    "database.restored": "Database restored",
    "handover.read": "Shift hand-over read",
    "care.acted": "Care list acted on",
    "followup.recorded": "Follow-up recorded",
    "import.follow_ups": "Follow-ups imported",
    "import.value_tags": "Value tags imported",
    "incident.acknowledged": "Incident acknowledged",
    "incident.followed_up": "Incident followed up",
    "incident.taken_over": "Incident taken over",
    "location.time_zone": "Location time zone set",
    "location.money": "Location currency set",
    "import.exchange_rates": "Exchange rates imported",
    "recognition.given": "Recognition given",
    "vocabulary.mapped": "Vocabulary word mapped",
    "vocabulary.restored": "Vocabulary word restored",
    "vocabulary.retired": "Vocabulary word retired",
    "vocabulary.saved": "Vocabulary word saved",
    "vocabulary.unmapped": "Vocabulary mapping removed",
    "demo.generated": "Demo data generated",
    "employee.email_set": "Email address set",
    "employee.updated": "Employee details changed",
    "employee.deactivated": "Employee deactivated",
    "employee.reactivated": "Employee reactivated",
    "gesture.approved": "Gesture approved",
    "gesture.logged": "Gesture logged",
    "gesture.rejected": "Gesture rejected",
    "gesture.reviewed": "Gesture reviewed",
    "gesture.voided": "Gesture undone",
    "guideline.set": "Guideline changed",
    "import.completed": "Data imported",
    "incident.closed": "Incident closed",
    "notification.sent_again": "Notification sent again",
    "notifications.preferences_set": "Notification choices changed",
    "policy.set": "Budget policy saved",
    "report.identities_included": "Report with customer names",
    "settings.column_mapping": "Import column mapping saved",
    "story.featured": "Story featured",
    "story.unfeatured": "Story un-featured",
    "user.created": "Sign-in created",
    "user.password_set": "Password set",
    "user.pin_set": "PIN set",
    "user.pin_unlocked": "PIN unlocked",
    "webhook_source.created": "Webhook source added",
    "webhook_source.revoked": "Webhook source revoked",
}

AUDIT_ENTITIES: Mapping[str, str] = {
    "api_token": "API token", "app_setting": "Setting", "budget": "Budget",
    "budget_policy": "Budget policy", "customer": "Customer", "employee": "Employee",
    "gesture": "Gesture", "incident": "Incident", "joint_report": "Joint report",
    "notification_delivery": "Notification", "webhook_source": "Webhook source",
}

# Detail keys whose value is cents, and keys with a better heading than their words.
_CENTS_SUFFIX = "_cents"
_DETAIL_KEYS: Mapping[str, str] = {"scope": "Applies to", "customer_daily_cap": "Per customer per day",
                                   "review_above": "Review above", "approval_above": "Approval above",
                                   "effective_from": "In force from", "previous_role": "Role before",
                                   "pin": "PIN", "ip": "IP address", "oidc": "Company sign-in"}


def audit_action(code: object) -> str:
    """"auth.pin_failed" -> "Wrong PIN"; an action added later without a label reads in words."""
    text = str(code)
    return AUDIT_ACTIONS.get(text) or words(text)


def audit_entity(code: object) -> str:
    text = str(code or "")
    return AUDIT_ENTITIES.get(text) or words(text)


def _detail_value(key: str, value: Any) -> str:
    if key.endswith(_CENTS_SUFFIX) and isinstance(value, int) and not isinstance(value, bool):
        return format_money(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "—"
    if key in ("role", "previous_role"):
        try:
            return Role(str(value)).heading
        except ValueError:
            pass
    if key == "period":
        return period(value)
    if key == "rollover":
        return rollover(value)
    if key in ("type", "gesture_type"):
        return gesture_type(value)
    if key == "status":
        return status(value)
    if key == "entry_type":
        try:
            return LedgerEntryType(str(value)).label
        except ValueError:
            return words(value)
    if isinstance(value, Mapping):
        return ", ".join(f"{words(k)}: {_detail_value(str(k), v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(_detail_value(key, v) for v in value)
    return str(value)


def audit_detail(detail: object) -> str:
    """The JSON detail of an audit row as a line a person reads: "Amount: $12.00 · Reason: late"."""
    if detail is None or detail == "":
        return ""
    try:
        parsed = json.loads(str(detail))
    except ValueError:
        return str(detail)
    if not isinstance(parsed, Mapping):
        return _detail_value("", parsed)
    parts = []
    for key, value in parsed.items():
        heading_key = str(key).removesuffix(_CENTS_SUFFIX)
        heading = _DETAIL_KEYS.get(heading_key) or words(heading_key)
        parts.append(f"{heading}: {_detail_value(str(key), value)}")
    return " · ".join(parts)
