"""Editing the organisation's vocabulary (admins): add or change a term, retire or restore it,
and map other words to it (the synonyms imports accept; the Data page's value mapping is saved
here, so it is remembered). One write unit each, audit-logged. Codes never change and terms are
never deleted: `models.vocabulary` explains why.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from empowerment import access, audit
from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import InvalidInput, NotFound
from empowerment.models import VocabularyTerm
from empowerment.models.vocabulary import (
    GESTURE_TYPE,
    INCIDENT_CATEGORY,
    KIND_NOUNS,
    KINDS,
    TOUCHPOINTS,
    VALUATIONS,
    Term,
    build_vocabulary,
    load_vocabulary,
    normal_key,
    now,
    term_row,
)

MAX_LABEL_CHARS = 100
MAX_DESCRIPTION_CHARS = 300
MAX_SYNONYMS = 50
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _&'\-.]{0,63}$")


@dataclass(frozen=True)
class TermRequest:
    kind: str
    code: str
    label: str
    description: str = ""
    costs_money: bool | None = None
    valuation: str = ""
    hourly_rate_cents: int | None = None
    severity: int | None = None
    touchpoint: str | None = None
    sort_order: int | None = None


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise InvalidInput(f"'{kind}' is not a kind of vocabulary; use one of: {', '.join(KINDS)}.")
    return kind


def _checked(request: TermRequest) -> TermRequest:
    _check_kind(request.kind)
    code = (request.code or "").strip()
    label = (request.label or "").strip()
    if not _CODE.match(code):
        raise InvalidInput("A code is 1-64 letters, digits, spaces or _-&'. and starts with a letter or digit.")
    if not label:
        raise InvalidInput("Give the term a label: the word people read.")
    if len(label) > MAX_LABEL_CHARS:
        raise InvalidInput(f"Keep the label under {MAX_LABEL_CHARS} characters.")
    description = (request.description or "").strip()
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise InvalidInput(f"Keep the description to one line (under {MAX_DESCRIPTION_CHARS} characters).")
    if request.valuation and request.valuation not in VALUATIONS:
        raise InvalidInput(f"'{request.valuation}' is not a valuation rule; use one of: {', '.join(VALUATIONS)}.")
    if request.hourly_rate_cents is not None and request.hourly_rate_cents < 0:
        raise InvalidInput("An hourly rate cannot be negative.")
    if request.kind == INCIDENT_CATEGORY:
        if request.severity is not None and request.severity not in (1, 2, 3):
            raise InvalidInput("Severity is 1 (minor), 2 (serious) or 3 (severe).")
        if request.touchpoint and request.touchpoint not in TOUCHPOINTS:
            raise InvalidInput(f"'{request.touchpoint}' is not a touchpoint; use one of: {', '.join(TOUCHPOINTS)}.")
    return TermRequest(request.kind, code, label, description, request.costs_money, request.valuation or "",
                       request.hourly_rate_cents, request.severity, request.touchpoint or None, request.sort_order)


def _row_for(session: object, kind: str, code: str, default: Term | None) -> VocabularyTerm:
    row = term_row(session, kind, code)  # type: ignore[arg-type]
    if row is None:
        row = VocabularyTerm(kind=kind, code=code, label=default.label if default else code,
                             description=default.description if default else None,
                             costs_money=default.costs_money if default else None,
                             valuation=default.valuation or None if default else None,
                             hourly_rate_cents=default.hourly_rate_cents if default else None,
                             severity=default.severity if default else None,
                             touchpoint=default.touchpoint if default else None,
                             sort_order=default.sort_order if default else 0, updated_at=now())
        session.add(row)  # type: ignore[attr-defined]
    return row


def save_term(db: Database, actor: Actor, request: TermRequest) -> Term:
    """Add a term or change one (its code stays). Labels must stay distinct within a kind."""
    access.require(actor, "vocabulary.edit")
    valid = _checked(request)
    with db.write() as session:
        vocab = load_vocabulary(session)
        clash = vocab.match(valid.kind, valid.label)
        if clash is not None and clash != valid.code:
            raise InvalidInput(f"'{valid.label}' already means the {KIND_NOUNS[valid.kind]} "
                               f"'{vocab.label(valid.kind, clash)}'; choose another label.")
        existing = vocab.term(valid.kind, valid.code)
        if existing is None and vocab.match(valid.kind, valid.code) is not None:
            raise InvalidInput(f"The code '{valid.code}' reads like an existing term; choose another code.")
        row = _row_for(session, valid.kind, valid.code, existing)
        row.label, row.description = valid.label, valid.description or None
        if valid.kind == GESTURE_TYPE:
            row.costs_money = True if valid.costs_money is None else valid.costs_money
            row.valuation = valid.valuation or None
            row.hourly_rate_cents = valid.hourly_rate_cents
        if valid.kind == INCIDENT_CATEGORY:
            row.severity, row.touchpoint = valid.severity, valid.touchpoint
        if valid.sort_order is not None:
            row.sort_order = valid.sort_order
        row.updated_at, row.updated_by_id = now(), actor.employee_id
        audit.record(session, actor, "vocabulary.saved", valid.kind, valid.code,
                     dict(label=valid.label, new=existing is None))
        session.flush()
        term = build_vocabulary([row]).term(valid.kind, valid.code)
        assert term is not None
        return term


def set_retired(db: Database, actor: Actor, kind: str, code: str, retired: bool = True) -> None:
    """Retire a term (old records keep reading with its label; it is no longer offered) or bring it
    back. Never deletes."""
    access.require(actor, "vocabulary.edit")
    _check_kind(kind)
    with db.write() as session:
        vocab = load_vocabulary(session)
        term = vocab.term(kind, code)
        if term is None:
            raise NotFound(f"No {KIND_NOUNS[kind]} with code '{code}'.")
        if retired and len(vocab.of(kind)) <= 1 and term.active:
            raise InvalidInput(f"Keep at least one {KIND_NOUNS[kind]} in use.")
        row = _row_for(session, kind, code, term)
        row.retired_at = now() if retired else None
        row.updated_at, row.updated_by_id = now(), actor.employee_id
        audit.record(session, actor, "vocabulary.retired" if retired else "vocabulary.restored", kind, code)


def map_values(db: Database, actor: Actor, kind: str, mapping: Mapping[str, str]) -> dict[str, str]:
    """Remember other words for terms ({word as written: code}): each word becomes a synonym of
    its term, so later files and forms match it. Words that already mean that term are skipped; a
    word that means another term is refused. Returns what was added."""
    access.require(actor, "vocabulary.edit")
    _check_kind(kind)
    added: dict[str, str] = {}
    with db.write() as session:
        vocab = load_vocabulary(session)
        for word, code in mapping.items():
            word = str(word).strip()
            if not word or not normal_key(word):
                continue
            term = vocab.term(kind, code)
            if term is None:
                raise NotFound(f"No {KIND_NOUNS[kind]} with code '{code}'.")
            current = vocab.match(kind, word)
            if current == code:
                continue
            if current is not None:
                raise InvalidInput(f"'{word}' already means '{vocab.label(kind, current)}'.")
            row = _row_for(session, kind, code, term)
            synonyms = list(json.loads(row.synonyms)) if row.synonyms else list(term.synonyms)
            if len(synonyms) >= MAX_SYNONYMS:
                raise InvalidInput(f"'{term.label}' already has {MAX_SYNONYMS} other words.")
            synonyms.append(word)
            row.synonyms = json.dumps(synonyms, ensure_ascii=False)
            row.updated_at, row.updated_by_id = now(), actor.employee_id
            added[word] = code
        if added:
            audit.record(session, actor, "vocabulary.mapped", kind, None, dict(words=added))
    return added


def remove_synonym(db: Database, actor: Actor, kind: str, code: str, word: str) -> None:
    access.require(actor, "vocabulary.edit")
    with db.write() as session:
        row = term_row(session, _check_kind(kind), code)
        synonyms = list(json.loads(row.synonyms)) if row is not None and row.synonyms else []
        kept = [s for s in synonyms if normal_key(s) != normal_key(word)]
        if row is None or kept == synonyms:
            raise NotFound(f"'{word}' is not another word for '{code}'.")
        row.synonyms = json.dumps(kept, ensure_ascii=False) if kept else None
        row.updated_at, row.updated_by_id = now(), actor.employee_id
        audit.record(session, actor, "vocabulary.unmapped", kind, code, dict(word=word))


def import_terms(db: Database, actor: Actor, rows: Sequence[Mapping[str, str]]) -> int:
    """Save many terms (CSV rows of `exporting.vocabulary_rows`' shape); all or nothing is not
    needed here as each row is checked first. Returns how many were saved."""
    requests = [_request_from_row(row, line) for line, row in enumerate(rows, start=2)]
    for request in requests:
        save_term(db, actor, request)
    for request, row in zip(requests, rows, strict=True):
        words = [w for w in str(row.get("synonyms") or "").split("|") if w.strip()]
        if words:
            map_values(db, actor, request.kind, {w: request.code for w in words})
        if str(row.get("retired") or "").strip().lower() in ("yes", "true", "1"):
            set_retired(db, actor, request.kind, request.code, True)
    return len(requests)


def _request_from_row(row: Mapping[str, str], line: int) -> TermRequest:
    def cell(name: str) -> str:
        return str(row.get(name) or "").strip()

    try:
        rate = cell("hourly_rate")
        return _checked(TermRequest(
            kind=cell("kind"), code=cell("code"), label=cell("label"), description=cell("description"),
            costs_money=None if not cell("costs_money") else cell("costs_money").lower() in ("yes", "true", "1"),
            valuation=cell("valuation"),
            hourly_rate_cents=int(round(float(rate) * 100)) if rate else None,
            severity=int(cell("severity")) if cell("severity") else None,
            touchpoint=cell("touchpoint") or None,
        ))
    except (InvalidInput, ValueError) as exc:
        raise InvalidInput(f"Line {line}: {exc}") from None
