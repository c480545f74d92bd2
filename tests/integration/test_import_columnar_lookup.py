"""The import's lookups read a big table as Arrow columns (`bulk.read_arrow`): the values, once
`plan._normal` has them, are exactly those of SQLAlchemy's tuples, tricky text included, and a
repeated import still tells unchanged rows from changed ones."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Enum,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
)

from empowerment.db import Database
from empowerment.services import bulk, importing
from empowerment.services.importing import lookup
from empowerment.services.importing.plan import _normal
from tests.integration.importing_support import fresh_db, run, seed

TRICKY = ["", 'a "quoted", comma', "line\nbreak", "cr\r\nlf", "ünïcødé € 😀", "back\\slash", "tab\there", "NULL", "'", "50% off %s"]


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path, _sqlite_template: str) -> Iterator[Database]:
    yield from fresh_db(request, tmp_path, _sqlite_template)


def _scratch(db: Database) -> Table:
    table = Table(
        "scratch_lookup", MetaData(),
        Column("id", Integer, primary_key=True),
        Column("code", String(64), nullable=False),
        Column("label", Text),
        Column("kind", Enum("one", "two", name="scratch_kind", native_enum=False)),
        Column("amount", BigInteger),
        Column("small", Integer),
        Column("at", DateTime),
    )
    table.drop(db.engine, checkfirst=True)
    table.create(db.engine)
    return table


def _rows() -> list[dict[str, object]]:
    times = [datetime(2024, 3, 31, 14, 5), datetime(2024, 3, 31, 14, 5, 0, 123456), None,
             datetime(1999, 12, 31, 23, 59, 59, 999999), datetime(2024, 2, 29)]
    rows: list[dict[str, object]] = []
    for i, text in enumerate([*TRICKY, None]):
        rows.append({"code": f"K{i}{text or ''}" if i % 2 else f"K{i}", "label": text,
                     "kind": None if i % 3 == 0 else ("one" if i % 2 else "two"),
                     "amount": None if i == 4 else (-1) ** i * (2**40 + i), "small": i if i % 4 else None,
                     "at": times[i % len(times)]})
    return rows


def _normalised(frame: pd.DataFrame, kinds: dict[str, str]) -> dict[str, list[object]]:
    """Each column as `plan._same` compares it (missing as one marker: NaN is not NaN)."""
    frame = frame.sort_values("id")
    out = {}
    for name, kind in kinds.items():
        values = _normal(frame[name].reset_index(drop=True), kind)
        out[name] = [("missing" if pd.isna(v) else v) for v in values.astype(object)]
    return out


KINDS = {"code": "str", "id": "int", "label": "str", "kind": "str", "amount": "int", "small": "int", "at": "time"}


def test_columns_read_as_arrow_are_the_values_of_the_tuples(db: Database) -> None:
    table = _scratch(db)
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(table), _rows())
        names = list(KINDS)
        with db.read() as session:
            columns = lookup._read_columns(session, table, names)
            assert columns is not None
            tuples = lookup._frame(
                session.connection().execute(select(*[lookup._select_raw(session, table.c[n]) for n in names])).all(),
                names)
        assert len(columns) == len(_rows())
        assert _normalised(columns, KINDS) == _normalised(tuples, KINDS)
        assert columns["id"].dtype == "int64" and str(columns["at"].dtype) == "datetime64[us]"
        by_code = columns.set_index("code")
        assert by_code.loc["K1" + TRICKY[1], "label"] == 'a "quoted", comma'
        assert by_code.loc["K0", "label"] == ""  # empty text is not NULL ...
        assert pd.isna(by_code.loc[f"K{len(TRICKY)}", "label"])  # ... and NULL is not empty text
        assert by_code.loc["K8", "label"] == "'" and by_code.loc["K7" + "NULL", "label"] == "NULL"
    finally:
        table.drop(db.engine)


def test_an_empty_result_has_the_columns_and_types(db: Database) -> None:
    schema = pa.schema([("code", pa.string()), ("n", pa.int64()), ("at", pa.timestamp("us"))])
    with db.read() as session:
        frame = bulk.read_frame(session.connection(), "SELECT code, id AS n, occurred_at AS at FROM transactions",
                                schema)
    assert list(frame.columns) == ["code", "n", "at"] and len(frame) == 0


def test_a_stored_time_that_is_not_iso_is_read_as_before(sqlite_db: Database) -> None:
    """SQLite keeps whatever text was written: such a table is read as tuples, as before."""
    table = _scratch(sqlite_db)
    with sqlite_db.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO scratch_lookup (code, at) VALUES ('A', '31/03/2024 14:05'), "
                             "('B', '2024-03-31 14:05:00.000000')")
    with sqlite_db.read() as session:
        assert lookup._read_columns(session, table, ["code", "at"]) is None
        found = lookup.fetch_by_codes(session, table, ["A", "B"], ["at"])
    assert found.sort_values("code")["at"].tolist() == ["31/03/2024 14:05", "2024-03-31 14:05:00.000000"]


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The tables read as columns (not as tuples)."""
    read: list[str] = []
    real = lookup._read_columns

    def spy(session: object, table: Table, names: list[str], **kwargs: bool) -> pd.DataFrame | None:
        found = real(session, table, names, **kwargs)  # type: ignore[arg-type]
        if found is not None:
            read.append(table.name)
        return found

    monkeypatch.setattr(lookup, "_read_columns", spy)
    return read


def test_a_repeated_import_with_tricky_ids_is_unchanged_and_a_changed_amount_is_an_update(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(db, "customers")
    read = _spy(monkeypatch)
    text = ("transaction_id,customer_id,occurred_at,amount\n"
            '"T,1",C1,2024-04-01T10:00:00,120.00\n'
            '"T""2",c1,2024-04-03T18:30:00.250000,-20.00\n'
            "Tü3 €,C2,2024-05-01,1234.56\n"
            "t4,C2,2024-05-01,0.01\n"
            "T4,Cnew,2024-05-02,7.00\n")
    first = run(db, "transactions", text)
    assert (first.inserted, first.updated, first.unchanged) == (5, 0, 0)
    again = run(db, "transactions", text)
    assert (again.inserted, again.updated, again.unchanged, again.customers_created) == (0, 0, 5, 0)
    assert {"customers", "transactions"} <= set(read)
    changed = run(db, "transactions", text.replace("-20.00", "-20.01") + "T5,C1,2024-06-01,1\n")
    assert (changed.inserted, changed.updated, changed.unchanged) == (1, 1, 4)


def test_a_repeated_customers_import_matches_ignoring_case(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    read = _spy(monkeypatch)
    text = ("customer_id,name,segment,email,phone\n"
            'C1,"Ann ""the"" Ü, Jr.",,ann@example.com,\n'
            "C2,Bob,vip,,+1 555\n")
    assert run(db, "customers", text).inserted == 2
    again = run(db, "customers", text.replace("C1,", "c1,"))
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    assert "customers" in read
    changed = run(db, "customers", text.replace("Bob", "Bobby"))
    assert (changed.inserted, changed.updated, changed.unchanged) == (0, 1, 1)


def test_the_chunked_lookup_for_a_small_file_finds_the_same_rows(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    seed(db, "customers", "transactions")
    text = "transaction_id,customer_id,occurred_at,amount\nT1,C1,2024-04-01T10:00:00,120.00\nT9,C1,2024-04-01,1\n"
    whole = run(db, "transactions", text, dry_run=True)
    monkeypatch.setattr(importing.lookup, "FETCH_ALL_BELOW", 0)
    monkeypatch.setattr(importing.lookup, "FETCH_ALL_FACTOR", 0)
    chunked = run(db, "transactions", text, dry_run=True)
    assert (whole.inserted, whole.updated, whole.unchanged) == (chunked.inserted, chunked.updated, chunked.unchanged) \
        == (1, 0, 1)


@pytest.mark.parametrize("ids", [[1, 2, 3], [5, 40_000, 40_001], [7, 10**9]], ids=["dense", "gaps", "sparse"])
def test_reading_in_ranges_of_ids_gives_the_same_rows(db: Database, ids: list[int],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    table = _scratch(db)
    monkeypatch.setattr(bulk, "READ_RANGE", 2)
    schema = pa.schema([("id", pa.int64()), ("code", pa.string()), ("at", pa.timestamp("us"))])
    sql = "SELECT id, code, at FROM scratch_lookup"
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(table), [{"id": i, "code": f"C{i}", "at": datetime(2024, 1, 1, 0, 0, i % 60)}
                                         for i in ids])
            whole = bulk.read_arrow(conn, sql, schema)
            in_ranges = bulk.read_arrow(conn, sql, schema, ranges_of="id")
        assert in_ranges.sort_by("id").equals(whole.sort_by("id")) and whole.num_rows == len(ids)
    finally:
        table.drop(db.engine)


def test_a_single_integer_column_keeps_its_null_rows(db: Database) -> None:
    """One NULL integer is an empty CSV line: a row, not a blank line to skip."""
    table = _scratch(db)
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(table), [{"code": "A", "small": None}, {"code": "B", "small": 2},
                                         {"code": "C", "small": None}])
            schema = pa.schema([("small", pa.int64())])
            for ranges_of in (None, "id"):
                sql = "SELECT small, id FROM scratch_lookup" if ranges_of else "SELECT small FROM scratch_lookup"
                read = bulk.read_arrow(conn, sql, schema, ranges_of=ranges_of)
                assert sorted(read.column("small").to_pylist(), key=str) == [2, None, None]
    finally:
        table.drop(db.engine)


@pytest.mark.parametrize("codes", [["a", "b", "c"], ["c", "a", "b"], ["b", "x"], []])
def test_positions_and_isin_agree_with_a_pandas_index(codes: list[str]) -> None:
    """The Arrow lookups (the same list compared once, or hashed) give what a pandas Index does,
    for Arrow strings and Python objects alike."""
    values = pd.Series(["a", "b", "c"], dtype="str")
    expected = pd.Index(codes, dtype=object).get_indexer(values.astype(object))
    for among in (pd.Series(codes, dtype="str"), pd.Series(codes, dtype=object), pd.Series(codes, dtype=object).to_numpy()):
        assert lookup.positions(values, among).tolist() == expected.tolist()
        assert lookup.isin(values, among).tolist() == (expected >= 0).tolist()
    assert lookup.positions(pd.Series([1, 2]), pd.Series([2, 3])).tolist() == [-1, 0]  # not strings: as objects
