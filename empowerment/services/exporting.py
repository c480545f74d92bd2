"""CSV export in the canonical import format, streamed in chunks.

    rows = export_csv(db, "transactions", "transactions.csv", actor=admin)
    buffer = io.BytesIO(); export_csv(db, "gestures", buffer, actor=admin)  # for st.download_button

Columns are those of `csvschema.KINDS[kind]`: ids as the organisation's codes, amounts as decimal
strings in the row's currency (a transaction's customer's location's, a gesture's or ledger entry's
giver's; else the installation's) with its decimals ("-12.50", yen "1250"), times as ISO 8601 ("2024-03-31T14:05:00", microseconds only
when present), dates as "2024-03-31", empty cells for NULL. Files are UTF-8 without a byte-order
mark, written by the one CSV writer (`csvformat.csv_text`): lines end in CRLF and a cell holding a
comma, a quote, a CR or a LF is quoted, so a carriage return inside a name stays inside its cell. Exporting a kind and importing the file again changes nothing (every row "unchanged").

Safe to open in a spreadsheet: a text cell (id, name, note, description, category...) starting with
`=`, `+`, `-`, `@`, a tab or a carriage return is written with a leading `'`, so it is shown and
never run (OWASP "CSV injection"; `csvformat.escape_formulas`). The importer removes that quote
again. Amounts are numbers, not text: "-12.50" is written as it is.

`ledger` (export only): entry_id, employee_id (the budget's employee), period_start (the budget's
period), entry_type, amount (signed), gesture_id, reason, created_at, created_by (employee code).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pandas as pd
from sqlalchemy import Date, DateTime, Enum, Select, String, select, type_coerce
from sqlalchemy.orm import Session, aliased

from empowerment import access, settings
from empowerment.actor import Actor
from empowerment.csvformat import ESCAPED_TYPES, EXPORT_KINDS, KINDS, LINE_END, CsvKind, csv_text
from empowerment.db import Database
from empowerment.errors import InvalidInput
from empowerment.models import (
    Budget,
    Customer,
    Employee,
    ExchangeRate,
    Gesture,
    Incident,
    LedgerEntry,
    Location,
    Team,
    Transaction,
)
from empowerment.money import minor_digits

__all__ = ["export_csv"]

CHUNK_ROWS = 50_000
CURRENCY = "_currency"  # the row's currency, selected beside the kind's columns and not written


def export_csv(db: Database, kind: str, out: str | Path | IO[str] | IO[bytes], *, actor: Actor) -> int:
    """Write all rows of `kind` as CSV to `out` (a path, a text file or a binary file).
    Returns the number of data rows written (the header is always written)."""
    access.require(actor, "data.export")
    if kind not in KINDS:
        raise InvalidInput(f"Unknown export '{kind}'. Choose one of: {', '.join(EXPORT_KINDS)}.")
    spec = KINDS[kind]
    if isinstance(out, (str, Path)):
        with open(out, "w", encoding="utf-8", newline="") as handle:
            return _export(db, spec, handle.write)
    binary = isinstance(out, (io.RawIOBase, io.BufferedIOBase)) or "b" in str(getattr(out, "mode", ""))
    if binary and not isinstance(out, io.TextIOBase):
        return _export(db, spec, lambda text: out.write(text.encode("utf-8")))  # type: ignore[arg-type]
    return _export(db, spec, out.write)  # type: ignore[arg-type]


def _export(db: Database, spec: CsvKind, write: Callable[[str], Any]) -> int:
    write(",".join(spec.names) + LINE_END)
    escaped = [c.name for c in spec.columns if c.type in ESCAPED_TYPES]
    rows = 0
    with db.read() as session:
        stmt = _QUERIES[spec.name](session)
        result = session.connection().execution_options(yield_per=CHUNK_ROWS).execute(stmt)
        for part in result.partitions():
            frame = _format(spec, pd.DataFrame([tuple(r) for r in part], columns=list(result.keys())))
            write(csv_text(frame, header=False, escaped_columns=escaped))
            rows += len(frame)
    return rows


def _format(spec: CsvKind, frame: pd.DataFrame) -> pd.DataFrame:
    currencies = frame.pop(CURRENCY) if CURRENCY in frame else None
    for col in spec.columns:
        values = frame[col.name]
        if col.type in ("money", "signed_money"):
            frame[col.name] = _money(values, currencies)
        elif col.type == "time":
            frame[col.name] = _time(values)
        elif col.type == "date":
            dates = pd.to_datetime(values, errors="coerce", format="ISO8601")
            frame[col.name] = dates.dt.strftime("%Y-%m-%d").astype(object).where(dates.notna(), None)
    return frame


def _money(minor: pd.Series, currencies: pd.Series | None = None) -> pd.Series:
    """Minor units as decimal strings of each row's currency: 1250 USD -> "12.50", 1250 JPY ->
    "1250", 1250 BHD -> "1.250" (no currency: the installation's)."""
    c = pd.to_numeric(minor).astype("Int64")
    a = c.abs()
    codes = (currencies.fillna(settings.currency()) if currencies is not None
             else pd.Series(settings.currency(), index=c.index)).astype(str)
    text = pd.Series("", index=c.index, dtype=object)
    for code in pd.unique(codes):
        rows = (codes == code).to_numpy(dtype=bool)
        digits = minor_digits(code)
        part = a[rows]
        if digits:
            step = 10**digits
            text[rows] = ((part // step).astype(str) + "." + (part % step).astype(str).str.zfill(digits)).to_numpy()
        else:
            text[rows] = part.astype(str).to_numpy()
    text = ("-" + text).where(c < 0, text)
    return text.astype(object).where(c.notna(), None)


def _time(values: pd.Series) -> pd.Series:
    times = pd.to_datetime(values, errors="coerce", format="ISO8601")
    text = times.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str.replace(r"\.000000$", "", regex=True)
    return text.astype(object).where(times.notna(), None)


def _raw(session: Session, column: Any, label: str) -> Any:
    """Enum values as their strings; on SQLite dates and times as stored text (pandas parses)."""
    if isinstance(column.type, Enum) or (
        isinstance(column.type, (Date, DateTime)) and session.get_bind().dialect.name == "sqlite"
    ):
        return type_coerce(column, String).label(label)
    return column.label(label)


def _employees(session: Session) -> Select:
    e, t, loc = Employee.__table__, Team.__table__, Location.__table__
    return (
        select(
            e.c.code.label("employee_id"),
            e.c.name.label("name"),
            _raw(session, e.c.role, "role"),
            t.c.code.label("team"),
            loc.c.code.label("location"),
        )
        .select_from(e.outerjoin(t, e.c.team_id == t.c.id).outerjoin(loc, t.c.location_id == loc.c.id))
        .order_by(e.c.id)
    )


def _customers(session: Session) -> Select:
    c = Customer.__table__
    return select(
        c.c.code.label("customer_id"), c.c.name, c.c.segment, c.c.email, c.c.phone
    ).order_by(c.c.id)


def _transactions(session: Session) -> Select:
    t, c, loc = Transaction.__table__, Customer.__table__, Location.__table__
    return (
        select(
            t.c.code.label("transaction_id"),
            c.c.code.label("customer_id"),
            _raw(session, t.c.occurred_at, "occurred_at"),
            t.c.amount_cents.label("amount"),
            loc.c.currency.label(CURRENCY),
        )
        .select_from(t.join(c, t.c.customer_id == c.c.id).outerjoin(loc, c.c.location_id == loc.c.id))
        .order_by(t.c.id)
    )


def _incidents(session: Session) -> Select:
    i, c, loc, e = Incident.__table__, Customer.__table__, Location.__table__, Employee.__table__
    return (
        select(
            i.c.code.label("incident_id"),
            c.c.code.label("customer_id"),
            _raw(session, i.c.occurred_at, "occurred_at"),
            i.c.category.label("category"),
            loc.c.code.label("location"),
            i.c.description.label("description"),
            e.c.code.label("employee_id"),
        )
        .select_from(
            i.join(c, i.c.customer_id == c.c.id)
            .outerjoin(loc, i.c.location_id == loc.c.id)
            .outerjoin(e, i.c.employee_id == e.c.id)
        )
        .order_by(i.c.id)
    )


def _gestures(session: Session) -> Select:
    g, i, e = Gesture.__table__, Incident.__table__, Employee.__table__
    team, loc = Team.__table__, Location.__table__
    return (
        select(
            g.c.code.label("gesture_id"),
            i.c.code.label("incident_id"),
            e.c.code.label("employee_id"),
            _raw(session, g.c.occurred_at, "occurred_at"),
            _raw(session, g.c.type, "type"),
            g.c.cost_cents.label("cost"),
            g.c.note.label("note"),
            loc.c.currency.label(CURRENCY),
        )
        .select_from(g.join(i, g.c.incident_id == i.c.id).join(e, g.c.employee_id == e.c.id)
                     .outerjoin(team, e.c.team_id == team.c.id).outerjoin(loc, team.c.location_id == loc.c.id))
        .order_by(g.c.id)
    )


def _ledger(session: Session) -> Select:
    le, b, g = LedgerEntry.__table__, Budget.__table__, Gesture.__table__
    team, loc = Team.__table__, Location.__table__
    owner = aliased(Employee.__table__, name="owner")
    creator = aliased(Employee.__table__, name="creator")
    return (
        select(
            le.c.id.label("entry_id"),
            owner.c.code.label("employee_id"),
            _raw(session, b.c.period_start, "period_start"),
            _raw(session, le.c.entry_type, "entry_type"),
            le.c.amount_cents.label("amount"),
            g.c.code.label("gesture_id"),
            le.c.reason.label("reason"),
            _raw(session, le.c.created_at, "created_at"),
            creator.c.code.label("created_by"),
            loc.c.currency.label(CURRENCY),
        )
        .select_from(
            le.join(b, le.c.budget_id == b.c.id)
            .join(owner, b.c.employee_id == owner.c.id)
            .outerjoin(team, owner.c.team_id == team.c.id)
            .outerjoin(loc, team.c.location_id == loc.c.id)
            .outerjoin(g, le.c.gesture_id == g.c.id)
            .outerjoin(creator, le.c.created_by_id == creator.c.id)
        )
        .order_by(le.c.id)
    )


def _exchange_rates(session: Session) -> Select:
    r = ExchangeRate.__table__
    return select(_raw(session, r.c.day, "date"), r.c.currency, r.c.quote.label("to_currency"),
                  r.c.rate).order_by(r.c.day, r.c.currency, r.c.quote)


_QUERIES: dict[str, Callable[[Session], Select]] = {
    "employees": _employees,
    "customers": _customers,
    "transactions": _transactions,
    "incidents": _incidents,
    "gestures": _gestures,
    "ledger": _ledger,
    "exchange_rates": _exchange_rates,
}
