"""The organisation's own words: gesture types, incident categories and service values.

Records store a term's stable **code** (a gesture's `type`, an incident's `category`, a gesture
value's `value_code`); people read its **label**. The app ships with defaults (`DEFAULTS`, the
codes the fixed lists used before, so existing data and files keep working); an admin's row in
`vocabulary_terms` with the same kind and code overrides a default, and new rows add words.
Terms are retired, never deleted: a retired code still reads with its label, it just cannot be
chosen for new records.

    vocab = load_vocabulary(session)
    vocab.label(GESTURE_TYPE, "personal_note")     # "Personal note"
    vocab.match(GESTURE_TYPE, "Comp'd meal")        # the code, if an admin mapped that synonym

Matching (`normal_key`) ignores case, spaces, hyphens, underscores and apostrophes, so "Personal
note", "personal-note" and "PERSONAL_NOTE" are one word. Both sides read it here (core), so the
tablet, the import and the reports agree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from empowerment.clock import utc_now
from empowerment.models.tables import VocabularyTerm

GESTURE_TYPE = "gesture_type"
INCIDENT_CATEGORY = "incident_category"
SERVICE_VALUE = "service_value"
KINDS = (GESTURE_TYPE, INCIDENT_CATEGORY, SERVICE_VALUE)
KIND_LABELS = {GESTURE_TYPE: "Gesture types", INCIDENT_CATEGORY: "Incident categories",
               SERVICE_VALUE: "Service values"}
KIND_NOUNS = {GESTURE_TYPE: "gesture type", INCIDENT_CATEGORY: "incident category",
              SERVICE_VALUE: "service value"}

TOUCHPOINTS = ("arrival", "room", "dining", "departure", "online", "anywhere")
TOUCHPOINT_LABELS = {"arrival": "Arrival", "room": "Room", "dining": "Dining", "departure": "Departure",
                     "online": "Online", "anywhere": "Anywhere"}
SEVERITY_LABELS = {1: "Minor", 2: "Serious", 3: "Severe"}

# Valuation of non-cash gestures, so their cost is counted even when no money leaves a budget.
VALUATIONS = ("rate_difference", "hourly")
DEFAULT_HOURLY_RATE_CENTS = 3_000
DEFAULT_STAFF_MINUTES = 15  # staff time a gesture of an hourly-valued type takes, when none is recorded
VALUATION_LABELS = {"": "Cost as entered", "rate_difference": "Upgrade: the rate difference, entered as its cost",
                    "hourly": "Staff time: the minutes recorded with the gesture (else "
                              f"{DEFAULT_STAFF_MINUTES}) at an hourly rate, unless a cost is entered"}

MAX_VALUES_PER_GESTURE = 2


@dataclass(frozen=True)
class Term:
    kind: str
    code: str
    label: str
    description: str = ""
    costs_money: bool = True
    valuation: str = ""  # "" | rate_difference | hourly
    hourly_rate_cents: int | None = None
    severity: int | None = None
    touchpoint: str | None = None
    synonyms: tuple[str, ...] = ()
    sort_order: int = 0
    retired: bool = False
    is_default: bool = True  # still exactly as shipped (no admin row)

    @property
    def active(self) -> bool:
        return not self.retired

    @property
    def staff_time_cents(self) -> int | None:
        """What one gesture of an hourly-valued type is worth when no cost was entered: the
        typical minutes (`DEFAULT_STAFF_MINUTES`) at the hourly rate; None for other types."""
        if self.valuation != "hourly":
            return None
        return self.counted_cost_cents(0, DEFAULT_STAFF_MINUTES)

    def counted_cost_cents(self, entered_cents: int, minutes: int | None = None) -> int:
        """What the gesture is worth for the payoff: the entered cost, or for staff time the
        minutes at the hourly rate (an upgrade is entered as the rate difference)."""
        if self.valuation == "hourly" and minutes is not None:
            rate = self.hourly_rate_cents or DEFAULT_HOURLY_RATE_CENTS
            return int(round(rate * minutes / 60))
        return int(entered_cents)


def _t(kind: str, code: str, label: str, description: str = "", order: int = 0, **extra: object) -> Term:
    return Term(kind, code, label, description, sort_order=order, **extra)  # type: ignore[arg-type]


G, C, V = GESTURE_TYPE, INCIDENT_CATEGORY, SERVICE_VALUE
DEFAULTS: tuple[Term, ...] = (
    # Gesture types: the codes of models.enums.GestureType.
    _t(G, "refund", "Refund", "Money back on the bill.", 1),
    _t(G, "comp", "On the house", "A meal, drink or service not charged.", 2),
    _t(G, "upgrade", "Upgrade", "A better room or service; counted at the rate difference.", 3,
       costs_money=False, valuation="rate_difference"),
    _t(G, "gift", "Gift", "Something to take home: flowers, a treat.", 4),
    _t(G, "voucher", "Voucher", "Credit for a later visit.", 5),
    _t(G, "personal_note", "Personal note", "A handwritten apology or thanks.", 6, costs_money=False),
    _t(G, "time", "Time & care", "Staff time spent putting it right; counted at an hourly rate.", 7,
       costs_money=False, valuation="hourly", hourly_rate_cents=DEFAULT_HOURLY_RATE_CENTS),
    _t(G, "other", "Something else", "Any other gesture.", 8),
    # Incident categories: the codes the app used before (stored on incidents as written).
    _t(C, "Room not ready", "Room not ready", "The room was not ready at check-in.", 1, severity=2,
       touchpoint="arrival"),
    _t(C, "Noise", "Noise", "Noise kept the guest from resting.", 2, severity=2, touchpoint="room"),
    _t(C, "Billing error", "Billing error", "A wrong charge on the bill.", 3, severity=2, touchpoint="departure"),
    _t(C, "Long wait", "Long wait", "The guest waited too long.", 4, severity=1, touchpoint="arrival"),
    _t(C, "Food & drink", "Food & drink", "A dish or drink was not right.", 5, severity=1, touchpoint="dining"),
    _t(C, "Cleanliness", "Cleanliness", "Something was not clean.", 6, severity=2, touchpoint="room"),
    _t(C, "Staff attitude", "Staff attitude", "The guest felt badly treated.", 7, severity=3,
       touchpoint="anywhere"),
    _t(C, "Broken promise", "Broken promise", "Something promised did not happen.", 8, severity=3,
       touchpoint="anywhere"),
    _t(C, "Lost item", "Lost item", "Something of the guest's went missing.", 9, severity=2, touchpoint="room"),
    _t(C, "Other", "Other", "Anything else.", 10, severity=1, touchpoint="anywhere"),
    # Service values: the seven traits of human companies and one example experience principle.
    _t(V, "accessible", "Accessible", "Easy to reach, quick to answer, open in how we work.", 1),
    _t(V, "consistent", "Consistent", "The same care on the last day as on the first.", 2),
    _t(V, "flexible", "Flexible", "We bend the rule to fit the person.", 3),
    _t(V, "proactive", "Proactive", "We solve the problem before it is raised.", 4),
    _t(V, "respectful", "Respectful", "Mindful of the guest's time, humble when it is called for.", 5),
    _t(V, "responsible", "Responsible", "We own the problem until it is fixed.", 6),
    _t(V, "straightforward", "Straightforward", "Plain words, no small print.", 7),
    _t(V, "acknowledged", "Every guest feels acknowledged",
       "Experience principle: no guest goes unnoticed, however busy we are.", 8),
)


def normal_key(text: object) -> str:
    """The form two words are compared in: case, spaces, hyphens, underscores, dots and
    apostrophes ignored ("Comp'd meal" == "comp d meal" == "COMPD-MEAL")."""
    return re.sub(r"[\s\-_'’`.]+", "", str(text or "")).casefold()


@dataclass(frozen=True)
class Vocabulary:
    terms: Mapping[str, tuple[Term, ...]]  # kind -> terms in display order (retired included)
    _index: dict[tuple[str, str], str] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[tuple[str, str], str] = {}
        for kind, terms in self.terms.items():
            # Codes first, then labels, then synonyms: a code always means itself.
            for attribute in ("code", "label", "synonyms"):
                for term in terms:
                    words = term.synonyms if attribute == "synonyms" else (getattr(term, attribute),)
                    for word in words:
                        index.setdefault((kind, normal_key(word)), term.code)
        object.__setattr__(self, "_index", index)

    def of(self, kind: str, *, include_retired: bool = False) -> tuple[Term, ...]:
        return tuple(t for t in self.terms.get(kind, ()) if include_retired or t.active)

    def codes(self, kind: str, *, include_retired: bool = False) -> tuple[str, ...]:
        return tuple(t.code for t in self.of(kind, include_retired=include_retired))

    def term(self, kind: str, code: str) -> Term | None:
        return next((t for t in self.terms.get(kind, ()) if t.code == code), None)

    def label(self, kind: str, code: object) -> str:
        """The word people read; an unknown code is shown tidied, never as snake_case."""
        if code is None:
            return ""
        term = self.term(kind, str(code))
        if term is not None:
            return term.label
        text = str(code)
        return text.replace("_", " ").capitalize() if "_" in text else text

    def labels(self, kind: str, *, active_only: bool = False) -> dict[str, str]:
        return {t.code: t.label for t in self.terms.get(kind, ()) if t.active or not active_only}

    def match(self, kind: str, text: object) -> str | None:
        """The code a written word means (code, label or synonym, case-insensitively), or None."""
        return self._index.get((kind, normal_key(text)))

    def staff_time_values(self) -> dict[str, int]:
        """Gesture type code -> the value of one gesture's staff time (hourly-valued types only,
        retired ones included so old gestures keep their value): for the payoff's spend."""
        return {t.code: value for t in self.terms.get(GESTURE_TYPE, ())
                if (value := t.staff_time_cents) is not None}

    def staff_hourly_rates(self) -> dict[str, int]:
        """Gesture type code -> cents an hour, for the hourly-valued types (staff time; retired
        ones included): each such gesture is valued at its recorded minutes at this rate."""
        return {t.code: t.hourly_rate_cents or DEFAULT_HOURLY_RATE_CENTS for t in self.terms.get(GESTURE_TYPE, ())
                if t.valuation == "hourly"}

    def is_active(self, kind: str, code: str) -> bool:
        term = self.term(kind, code)
        return term is not None and term.active


def _from_row(row: VocabularyTerm, default: Term | None) -> Term:
    synonyms: tuple[str, ...] = ()
    if row.synonyms:
        try:
            synonyms = tuple(str(s) for s in json.loads(row.synonyms))
        except ValueError:
            synonyms = ()
    base = default or Term(row.kind, row.code, row.label, is_default=False)
    return replace(
        base,
        label=row.label,
        description=row.description or "",
        costs_money=base.costs_money if row.costs_money is None else bool(row.costs_money),
        valuation=row.valuation or "",
        hourly_rate_cents=row.hourly_rate_cents,
        severity=row.severity if row.severity is not None else base.severity,
        touchpoint=row.touchpoint or base.touchpoint,
        synonyms=synonyms,
        sort_order=row.sort_order if row.sort_order else base.sort_order,
        retired=row.retired_at is not None,
        is_default=False,
    )


def build_vocabulary(rows: Iterable[VocabularyTerm]) -> Vocabulary:
    """Pure: the defaults overridden and extended by the organisation's rows."""
    by_key: dict[tuple[str, str], Term] = {(t.kind, t.code): t for t in DEFAULTS}
    for row in rows:
        by_key[(row.kind, row.code)] = _from_row(row, by_key.get((row.kind, row.code)))
    grouped: dict[str, list[Term]] = {kind: [] for kind in KINDS}
    for term in by_key.values():
        grouped.setdefault(term.kind, []).append(term)
    return Vocabulary({kind: tuple(sorted(terms, key=lambda t: (t.retired, t.sort_order, t.label.casefold())))
                       for kind, terms in grouped.items()})


def load_vocabulary(session: Session) -> Vocabulary:
    """The vocabulary in force (one small read)."""
    return build_vocabulary(session.scalars(select(VocabularyTerm)).all())


def term_row(session: Session, kind: str, code: str) -> VocabularyTerm | None:
    return session.scalar(select(VocabularyTerm).where(VocabularyTerm.kind == kind, VocabularyTerm.code == code))


def now() -> datetime:
    return utc_now()
