"""Organisation settings an admin edits: the empowerment guideline shown beside the tablet form,
and remembered CSV column mappings (a POS export's headers -> the canonical import columns).

Both live in `AppSetting` rows: the guideline under "guideline" (a sensible default until an admin
writes one), each kind's mapping under `column_mapping.<kind>` as JSON {canonical column: header in
the file}, the shape `importing.import_csv(column_mapping=...)` takes. Admins only; every change is
audit-logged (for mappings the column names, never file contents).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from empowerment import access, audit
from empowerment.actor import Actor
from empowerment.clock import utc_now
from empowerment.csvformat import KINDS, import_kind
from empowerment.db import Database
from empowerment.errors import InvalidInput, InvalidState
from empowerment.models import (
    AppSetting,
    Location,
)
from empowerment.models.lookups import MoneyHere, location_money, money_recorded_at
from empowerment.money import currency_name, known_currency, known_locale

# --- the guideline ---------------------------------------------------------------------------------

MAX_GUIDELINE_CHARS = 10_000

def set_guideline(db: Database, actor: Actor, text: str) -> str:
    """Replace the guideline (admins only). Returns the stored text."""
    access.require(actor, "settings.edit")
    clean = (text or "").strip()
    if not clean:
        raise InvalidInput("The guideline cannot be empty; write at least one sentence.")
    if len(clean) > MAX_GUIDELINE_CHARS:
        raise InvalidInput(
            f"The guideline is {len(clean):,} characters long; keep it under {MAX_GUIDELINE_CHARS:,}."
        )
    with db.write() as session:
        setting = session.get(AppSetting, AppSetting.GUIDELINE)
        previous = len(setting.value) if setting else 0
        if setting is None:
            setting = AppSetting(key=AppSetting.GUIDELINE, value=clean)
            session.add(setting)
        setting.value = clean
        setting.updated_at = utc_now()
        setting.updated_by_id = actor.employee_id
        audit.record(session, actor, "guideline.set", "app_setting", AppSetting.GUIDELINE,
                     dict(chars=len(clean), previous_chars=previous))
    return clean


# --- column mappings -------------------------------------------------------------------------------

MAX_HEADER_CHARS = 200


def set_mapping(db: Database, actor: Actor, kind: str, mapping: Mapping[str, str]) -> dict[str, str]:
    """Remember `mapping` for `kind` (entries mapping a column to its own name are dropped: they
    need no mapping). An empty mapping forgets the kind's mapping. Returns what was stored."""
    access.require(actor, "settings.edit")
    cleaned = _cleaned(kind, mapping)
    key = AppSetting.COLUMN_MAPPING + import_kind(kind).name
    with db.write() as session:
        row = session.get(AppSetting, key)
        before = row.value if row is not None else None
        after = json.dumps(cleaned, ensure_ascii=False, sort_keys=True)
        if (before or "{}") == after:
            return cleaned
        if row is None:
            session.add(AppSetting(key=key, value=after, updated_by_id=actor.employee_id))
        else:
            row.value, row.updated_at, row.updated_by_id = after, utc_now(), actor.employee_id
        audit.record(session, actor, "settings.column_mapping", "app_setting", key,
                     {"kind": kind, "mapping": cleaned})
    return cleaned


def _cleaned(kind: str, mapping: Mapping[str, str]) -> dict[str, str]:
    import_kind(kind)
    columns = KINDS[kind].names
    cleaned: dict[str, str] = {}
    for canonical, header in mapping.items():
        if canonical not in columns:
            raise InvalidInput(f"'{canonical}' is not a column of {kind} files; they have "
                               f"{', '.join(columns)}.")
        header = (header or "").strip()
        if len(header) > MAX_HEADER_CHARS:
            raise InvalidInput(f"The header for {canonical} is longer than {MAX_HEADER_CHARS} characters.")
        if header and header != canonical:
            cleaned[canonical] = header
    used = [h for h in cleaned.values()]
    twice = sorted({h for h in used if used.count(h) > 1})
    if twice:
        raise InvalidInput(f"The file column '{twice[0]}' is mapped to more than one column.")
    return dict(sorted(cleaned.items()))


def _normal(text: str) -> str:
    return re.sub(r"[\s_\-.]+", "", text).lower()


def suggest_mapping(kind: str, headers: Sequence[str], remembered: Mapping[str, str] | None = None,
                    ) -> dict[str, str | None]:
    """For each canonical column: the file header to read it from, or None when none fits.

    Order of preference: the remembered header (if the file has it), the canonical name itself,
    then a header equal to it ignoring case, spaces, '_', '-' and '.' ("Customer ID")."""
    import_kind(kind)
    present = [h.strip() for h in headers]
    by_normal: dict[str, str] = {}
    for header in present:
        by_normal.setdefault(_normal(header), header)
    remembered = remembered or {}
    suggestion: dict[str, str | None] = {}
    for column in KINDS[kind].names:
        if remembered.get(column) in present:
            suggestion[column] = remembered[column]
        elif column in present:
            suggestion[column] = column
        else:
            suggestion[column] = by_normal.get(_normal(column))
    return suggestion


def set_location_time_zone(db: Database, actor: Actor, location: str, time_zone: str | None) -> str | None:
    """A property's own time zone (IANA name), or None to follow the installation's
    (EMPOWERMENT_TIME_ZONE). Its daily caps, periods and "today" follow it from the next gesture.
    `location` is its id or its name. Returns the zone now in force for it."""
    from empowerment.periods import zone

    access.require(actor, "settings.edit")
    name = (time_zone or "").strip() or None
    if name is not None:
        name = zone(name).key  # refuses an unknown zone with what to give instead
    with db.write() as session:
        place = _location(session, location)
        if place.time_zone == name:
            return zone(name).key
        audit.record(session, actor, "location.time_zone", "location", place.code,
                     dict(before=place.time_zone, after=name))
        place.time_zone = name
        return zone(name).key


def ensure_audit_seal(db: Database) -> int | None:
    """Give the audit log its seal if it has none (an installation from before seals): `init` calls
    it after upgrading the schema; later appends advance the seal themselves. Returns the number of
    rows sealed, or None when the log was sealed already."""
    with db.write() as session:
        return audit.ensure_seal(session)


def _location(session: Session, location: str) -> Location:
    wanted = (location or "").strip()
    found = session.scalars(select(Location).where(or_(Location.code == wanted, Location.name == wanted))).all()
    if len(found) != 1:
        raise InvalidInput(f"No location '{wanted}'." if not found
                           else f"More than one location is called '{wanted}'; give its id.")
    return found[0]


def set_location_money(db: Database, actor: Actor, location: str, currency: str,
                       locale: str | None = None) -> MoneyHere:
    """A property's ISO 4217 currency (budgets, caps, gestures and its customers' purchases are in
    it) and, optionally, the Babel locale its people type and read amounts in ("fr_FR": 12,50 €);
    `locale` None keeps the one set, "" follows the installation's. `location` is its id or name.
    The rule (`models.lookups.money_recorded_at`): the currency cannot change once any amount is
    stored in it there (a budget or ledger entry, a gesture, a purchase of its customers, a budget
    policy of its teams or people), because every stored amount is minor units of the currency and
    would be misread (¥1,250 would become $12.50); a location without any may change freely. The
    locale may always change: it is only how amounts are typed and shown. Returns what is now in force."""
    access.require(actor, "location.money")
    code = known_currency(currency)
    wanted_locale = None if locale is None else (locale.strip() or None)
    if wanted_locale is not None:
        wanted_locale = known_locale(wanted_locale)
    with db.write() as session:
        place = _location(session, location)
        new_locale = place.locale if locale is None else wanted_locale
        if (place.currency, place.locale) == (code, new_locale):
            return location_money(session, place.id)
        recorded = money_recorded_at(session, place.id) if place.currency != code else None
        if recorded is not None:
            raise InvalidState(
                f"{place.name} already has {recorded} in {currency_name(place.currency)} ({place.currency}); "
                f"its currency cannot become {currency_name(code)} ({code}): those amounts would be misread. "
                "Create a new location instead.")
        audit.record(session, actor, "location.money", "location", place.code,
                     dict(before=dict(currency=place.currency, locale=place.locale),
                          after=dict(currency=code, locale=new_locale)))
        place.currency, place.locale = code, new_locale
        session.flush()
        return location_money(session, place.id)
