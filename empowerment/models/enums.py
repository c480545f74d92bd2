"""The app's fixed vocabularies, stored by value, and the rules that are properties of them: which
gesture statuses count against a budget or as a recovery, which way each kind of ledger entry moves
money, which roles sign in with a PIN. Tested without a database (tests/unit/test_rules.py).
"""

from __future__ import annotations

import enum


class Role(str, enum.Enum):
    STAFF = "staff"
    MANAGER = "manager"
    HR = "hr"
    CX_LEAD = "cx_lead"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        """The role as a person reads it inside a sentence: "staff", "CX lead"."""
        return _ROLE_LABELS[self]

    @property
    def plural(self) -> str:
        """Everyone with the role, in a sentence: "managers", "CX leads"."""
        return _ROLE_PLURALS[self]

    @property
    def heading(self) -> str:
        """The role as a heading or a choice: "Staff", "CX lead"."""
        return self.label[0].upper() + self.label[1:]

    @property
    def signs_in_with_pin(self) -> bool:
        """Who appears on the shared tablet's roster and may sign in there with a PIN."""
        return self in (Role.STAFF, Role.MANAGER)

    @property
    def signs_in_with_company_account(self) -> bool:
        """Who may sign in with the organisation's OpenID Connect provider (staff use the tablet)."""
        return self in (Role.MANAGER, Role.HR, Role.CX_LEAD, Role.ADMIN)

    @classmethod
    def pin_roles(cls) -> list[Role]:
        return [role for role in cls if role.signs_in_with_pin]


_ROLE_PLURALS = {Role.STAFF: "staff", Role.MANAGER: "managers", Role.HR: "HR", Role.CX_LEAD: "CX leads",
                 Role.ADMIN: "admins"}
_ROLE_LABELS = {Role.STAFF: "staff", Role.MANAGER: "manager", Role.HR: "HR", Role.CX_LEAD: "CX lead",
                Role.ADMIN: "admin"}


class Period(str, enum.Enum):
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

    @property
    def label(self) -> str:
        """As a choice or a table cell: "Month"."""
        return self.value.capitalize()


class Rollover(str, enum.Enum):
    NONE = "none"
    FULL = "full"

    @property
    def label(self) -> str:
        """What happens to unused money at the period's end."""
        return {"none": "Lapses", "full": "Rolls over in full"}[self.value]


class GestureType(str, enum.Enum):
    REFUND = "refund"
    COMP = "comp"
    UPGRADE = "upgrade"
    GIFT = "gift"
    VOUCHER = "voucher"
    PERSONAL_NOTE = "personal_note"
    TIME = "time"
    OTHER = "other"

    @property
    def label(self) -> str:
        """What was done, in words: "On the house", "Personal note"."""
        return _GESTURE_TYPE_LABELS[self]

    @property
    def icon(self) -> str:
        """A Streamlit Material icon for buttons and pills (never an emoji: boxes without a font)."""
        return _GESTURE_TYPE_ICONS[self]


_GESTURE_TYPE_LABELS = {GestureType.REFUND: "Refund", GestureType.COMP: "On the house",
                        GestureType.UPGRADE: "Upgrade", GestureType.GIFT: "Gift",
                        GestureType.VOUCHER: "Voucher", GestureType.PERSONAL_NOTE: "Personal note",
                        GestureType.TIME: "Time & care", GestureType.OTHER: "Something else"}
_GESTURE_TYPE_ICONS = {GestureType.REFUND: ":material/payments:", GestureType.COMP: ":material/cake:",
                       GestureType.UPGRADE: ":material/upgrade:", GestureType.GIFT: ":material/redeem:",
                       GestureType.VOUCHER: ":material/confirmation_number:",
                       GestureType.PERSONAL_NOTE: ":material/edit_note:",
                       GestureType.TIME: ":material/schedule:", GestureType.OTHER: ":material/auto_awesome:"}


class FollowUpKind(str, enum.Enum):
    """What was done after a recovery (or from the care list) to close the loop with the customer."""

    CALLED = "called"
    CHECKED_IN = "checked_in"
    WROTE = "wrote"

    @property
    def label(self) -> str:
        return {"called": "Called", "checked_in": "Checked in", "wrote": "Wrote"}[self.value]


class GestureStatus(str, enum.Enum):
    LOGGED = "logged"  # money spent (or zero-cost), counts as a recovery
    PENDING_APPROVAL = "pending_approval"  # above "approval above": money held, waiting for a manager
    REJECTED = "rejected"  # a manager said no: hold released
    VOIDED = "voided"  # undone by a reversing ledger entry

    @property
    def counts_against_budget(self) -> bool:
        """Its money is spent or held: it counts towards the budget and the customer's daily cap,
        and it can still be undone."""
        return self in (GestureStatus.LOGGED, GestureStatus.PENDING_APPROVAL)

    @property
    def counts_as_recovery(self) -> bool:
        """The incident was put right: what the payoff and the reports count (a gesture waiting
        for approval does not count yet)."""
        return self == GestureStatus.LOGGED

    @property
    def label(self) -> str:
        return _STATUS_LABELS[self]

    @classmethod
    def against_budget(cls) -> list[GestureStatus]:
        return [status for status in cls if status.counts_against_budget]

    @classmethod
    def recoveries(cls) -> list[GestureStatus]:
        return [status for status in cls if status.counts_as_recovery]


_STATUS_LABELS = {GestureStatus.LOGGED: "Logged", GestureStatus.PENDING_APPROVAL: "Waiting for approval",
                  GestureStatus.REJECTED: "Rejected", GestureStatus.VOIDED: "Undone"}


class IncidentStatus(str, enum.Enum):
    """Where a bad experience stands. An incident is open until a gesture puts it right (resolved)
    or someone closes it with a note (nothing to give, the guest left, a duplicate...). Undoing or
    rejecting its only gesture opens it again."""

    OPEN = "open"
    RESOLVED = "resolved"  # a gesture that counts against a budget is attached
    CLOSED = "closed"  # closed by a person, with a note

    @property
    def label(self) -> str:
        return _INCIDENT_LABELS[self]

    @property
    def is_open(self) -> bool:
        """Still waiting for someone: offered on the log form, on the hand-over, with an owner."""
        return self == IncidentStatus.OPEN

    @property
    def can_be_closed(self) -> bool:
        """Closing with a note is for an incident nobody has resolved yet."""
        return self == IncidentStatus.OPEN

    @property
    def can_be_followed_up(self) -> bool:
        """Checking back with the guest makes sense once something was done, or while it is open."""
        return self in (IncidentStatus.OPEN, IncidentStatus.RESOLVED)

    @property
    def can_change_hands(self) -> bool:
        """Acknowledged or taken over on the hand-over: only while it still needs someone."""
        return self == IncidentStatus.OPEN

    @classmethod
    def open_statuses(cls) -> list[IncidentStatus]:
        return [status for status in cls if status.is_open]


_INCIDENT_LABELS = {IncidentStatus.OPEN: "Open", IncidentStatus.RESOLVED: "Resolved by a gesture",
                    IncidentStatus.CLOSED: "Closed with a note"}


class LedgerEntryType(str, enum.Enum):
    """What a ledger entry does. Amounts are posted positive; the type says which way the money
    goes (`direction`), so no caller ever picks a sign."""

    ALLOCATION = "allocation"  # the period's allowance, or a raise of it by a policy change (+)
    ALLOCATION_REDUCTION = "allocation_reduction"  # a policy change lowered the allowance (-)
    ROLLOVER = "rollover"  # carried from the previous period (+)
    SPEND = "spend"  # a gesture's cost (-)
    HOLD = "hold"  # money reserved for a gesture waiting for approval (-)
    RELEASE = "release"  # a hold given back: rejected, voided or converted to spend (+)
    REVERSAL = "reversal"  # a voided gesture's spend given back (+)
    ADJUSTMENT = "adjustment"  # an admin's correction adding money, with a reason (+)
    DEDUCTION = "deduction"  # an admin's correction taking money away, with a reason (-)

    @property
    def direction(self) -> int:
        """+1: money into the budget; -1: money out of it."""
        return -1 if self in _MONEY_OUT else 1

    @property
    def counts_as_allocation(self) -> bool:
        """Part of what the budget was given (allowance, rollover, corrections)."""
        return self in (LedgerEntryType.ALLOCATION, LedgerEntryType.ALLOCATION_REDUCTION,
                        LedgerEntryType.ROLLOVER, LedgerEntryType.ADJUSTMENT, LedgerEntryType.DEDUCTION)

    @property
    def counts_as_allowance(self) -> bool:
        """Part of the allowance a policy set (what an immediate policy change moves)."""
        return self in (LedgerEntryType.ALLOCATION, LedgerEntryType.ALLOCATION_REDUCTION)

    @property
    def counts_as_spend(self) -> bool:
        return self in (LedgerEntryType.SPEND, LedgerEntryType.REVERSAL)

    @property
    def counts_as_hold(self) -> bool:
        return self in (LedgerEntryType.HOLD, LedgerEntryType.RELEASE)

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


_MONEY_OUT = frozenset({LedgerEntryType.ALLOCATION_REDUCTION, LedgerEntryType.SPEND, LedgerEntryType.HOLD,
                        LedgerEntryType.DEDUCTION})


class NotificationChannel(str, enum.Enum):
    EMAIL = "email"
    SLACK = "slack"
    TEAMS = "teams"
    WEBHOOK = "webhook"

    @property
    def label(self) -> str:
        return {"email": "Email", "slack": "Slack (incoming webhook)",
                "teams": "Microsoft Teams (Workflows webhook)",
                "webhook": "Another system (signed webhook)"}[self.value]

    @property
    def needs_url(self) -> bool:
        return self != NotificationChannel.EMAIL


class EventKind(str, enum.Enum):
    """What a notification is about (an outbox event's kind)."""

    APPROVAL_REQUESTED = "approval_requested"
    APPROVAL_DECIDED = "approval_decided"
    FLAGGED_FOR_REVIEW = "flagged_for_review"
    WEEKLY_DIGEST = "weekly_digest"

    @property
    def label(self) -> str:
        return {"approval_requested": "Approval requested", "approval_decided": "Approval decided",
                "flagged_for_review": "Flagged for review", "weekly_digest": "Weekly digest"}[self.value]


class DeliveryStatus(str, enum.Enum):
    PENDING = "pending"  # waiting for its first try, or for a retry
    SENDING = "sending"  # claimed by a worker
    SENT = "sent"
    FAILED = "failed"  # will not be tried again (refused, or out of attempts)
    UNKNOWN = "unknown"  # may have arrived: never repeated automatically

    @property
    def label(self) -> str:
        return {"pending": "Waiting", "sending": "Sending", "sent": "Sent", "failed": "Failed",
                "unknown": "Outcome unknown"}[self.value]

    @property
    def can_send_again(self) -> bool:
        return self in (DeliveryStatus.FAILED, DeliveryStatus.UNKNOWN)
