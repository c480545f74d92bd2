"""The import's fast paths (issue 15) read exactly what the general paths read, and hand anything
else to them: Arrow's CSV reader against pandas', the plain amount and time readers against the
general rules, and a big load that drops the unique index on transaction ids still refuses a
duplicate, whole."""

from __future__ import annotations

import pandas as pd
import pytest

from empowerment.db import Database
from empowerment.errors import ImportFailed
from empowerment.services import importing
from empowerment.services.importing import reading, values
from tests.integration.importing_support import TRANSACTIONS, run, snapshot

READ_AS_PANDAS_DOES = [
    b"a,b\n1,2\n3,4\n",
    b'a,b\n"x\ny",2\n3,4\n',  # a quoted cell spanning lines
    b"a,b\r\n1,2\r\n",
    b'a;b\n"1;x";2\n',
    b"a,b\n1,\n,\n",  # empty cells, a row of empty cells
    b'a,b\n1,"2""3"\n',
    b"a,b\n1,2",  # no newline at the end
    "a,b\nNaïve 🙏,名前\n".encode(),
    b"a,b\n' =1,NULL\nNA,n/a\n",  # nothing is read as missing
    b"a,b\n 1 , 2 \n",  # spaces kept, as pandas keeps them
]
LEFT_TO_PANDAS = [
    b"a,b\n1,2\n\n3,4\n",  # a blank line: pandas keeps it as a row, and the lines after count it
    b"a,b\n1,2,3\n",  # too many cells
    b"a,b\n1\n",  # too few
]


def _separator(data: bytes) -> str:
    return ";" if b";" in data else ","


@pytest.mark.parametrize("data", READ_AS_PANDAS_DOES)
def test_arrow_reads_an_ordinary_file_cell_for_cell_as_pandas_does(
    data: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reading, "ARROW_READ_FROM_BYTES", 0)
    fast = reading._read_cells_with_arrow(data, _separator(data))
    slow, skipped = reading._read_cells_with_pandas(data, "t.csv", _separator(data))
    assert fast is not None and skipped == []
    assert fast.values.tolist() == slow.values.tolist()
    assert list(fast.columns) == list(slow.columns) and list(fast.dtypes) == list(slow.dtypes)


@pytest.mark.parametrize("data", LEFT_TO_PANDAS)
def test_anything_else_is_left_to_pandas(data: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reading, "ARROW_READ_FROM_BYTES", 0)
    assert reading._read_cells_with_arrow(data, ",") is None


PLAIN = ["0", "12", "12.5", "12.50", "-3", "-0.01", "007", "9999999.99", "10000000.00", "0.29"]  # up to the limit
NOT_PLAIN = ["12.500", "$4", "1,234.56", "+4", ".5", "5.", "1e3", "abc", "١٢", "100000000.00"]


@pytest.mark.parametrize("digits", [2, values.SCALE])  # the import reads at SCALE (amounts.in_minor_units)
@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("odd", [None, *NOT_PLAIN])
def test_plain_amounts_read_as_the_general_rules_read_them(signed: bool, odd: str | None, digits: int,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    cells = pd.Series([*PLAIN, "", *([odd] if odd else [])], dtype="str")
    filled = (cells != "").to_numpy()
    limit = values.MAX_AMOUNT_CENTS * 10 ** (digits - 2)
    fast = values.parse_money(cells, filled, signed=signed, digits=digits, limit=limit)
    took_fast = values._plain_money(cells, filled, signed=signed, digits=digits, limit=limit) is not None
    monkeypatch.setattr(values, "_plain_money", lambda *args, **kwargs: None)
    general = values.parse_money(cells, filled, signed=signed, digits=digits, limit=limit)
    assert fast[0].tolist() == general[0].tolist()
    assert fast[1].tolist() == general[1].tolist()
    assert fast[2].tolist() == general[2].tolist()
    # a negative amount, or an odd one, takes the general path; the plain file the fast one
    # ("12.500" is plain when four decimals are read)
    assert took_fast == (signed and (odd is None or (odd == "12.500" and digits >= 3)))


TIMES = ["2024-03-31", "2024-03-31T14:05", "2024-03-31 14:05:09", "2024-03-31T14:05:09.25",
         "2024-03-31T02:30:00", "2024-10-27T02:30:00", "1899-12-31", "2101-01-01", None]
ODD_TIMES = ["2024-02-30", "2024-03-31T14:05:00Z", "2024-03-31T14:05:00+02:00", "31/03/2024", "now",
             "2024-03-31T24:00", " 2024-03-31", "2024-03-31T14:05:00.1234567"]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris"])
@pytest.mark.parametrize("odd", [None, *ODD_TIMES])
def test_plain_times_read_as_the_general_rules_read_them(zone: str, odd: str | None,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    cells = pd.Series([*TIMES, *([odd] if odd else [])], dtype="str")
    fast, fast_converted = values.parse_times(cells, "iso", zone)
    monkeypatch.setattr(values, "_plain_times", lambda *args: None)
    general, converted = values.parse_times(cells, "iso", zone)
    assert fast.astype(str).tolist() == general.astype(str).tolist()  # NaT where the general rules refuse
    assert str(fast.dtype) == str(general.dtype) == "datetime64[us]" and fast_converted == converted


def test_a_duplicate_id_that_reaches_a_big_load_is_refused_when_the_unique_index_is_built_again(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unique index on transaction ids is dropped for a big load and built again in the same
    transaction: a duplicate (here one the id lookup is made to miss, as a concurrent writer's
    could be) refuses the import and leaves the data and the indexes as they were."""
    monkeypatch.setattr(importing.writing, "REBUILD_INDEXES_FROM_ROWS", 1)
    run(db, "transactions", TRANSACTIONS)
    before = snapshot(db)
    with db.read() as session:
        indexes = sorted(_indexes(db, session))
    from empowerment.services.importing import plan

    real = plan.fetch_by_codes
    monkeypatch.setattr(plan, "fetch_by_codes", lambda session, table, *a, **k: real(session, table, [], *a[1:], **k))
    with pytest.raises(ImportFailed) as refused:
        run(db, "transactions", TRANSACTIONS.replace("T3,", "T9,") + "T10,C2,2024-06-01,1\nT11,C2,2024-06-02,1\n")
    assert "could not be saved because the database refused a row" in str(refused.value)
    assert "nothing was imported" in str(refused.value)
    assert snapshot(db) == before
    with db.read() as session:
        assert sorted(_indexes(db, session)) == indexes


def _indexes(db: Database, session: object) -> list[str]:
    from sqlalchemy import inspect

    return [str(ix["name"]) for ix in inspect(db.engine).get_indexes("transactions")]
