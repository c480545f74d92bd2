"""Formula injection: every exported text cell that a spreadsheet could run is made inert."""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook, load_workbook

from empowerment.reports.render_csv import frame_to_csv
from empowerment.reports.render_xlsx import make_cell
from empowerment.reports.safety import neutralise, neutralise_frame

EVIL = '=HYPERLINK("http://x","y")'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (EVIL, "'" + EVIL),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("＝1+1", "'＝1+1"),  # full-width equals sign
        ("Grace Hopper", "Grace Hopper"),
        ("a=b", "a=b"),
        ("", ""),
        ("'=already quoted", "'=already quoted"),
    ],
)
def test_dangerous_text_gains_a_leading_quote_and_safe_text_is_unchanged(value: str, expected: str) -> None:
    assert neutralise(value) == expected


@pytest.mark.parametrize("value", [-5, -12.5, 0, 3, np.int64(-7), np.float64(-1.25), None, True])
def test_numbers_and_empty_cells_stay_as_they_are(value: object) -> None:
    assert neutralise(value) is value


def test_a_frame_keeps_its_number_columns_and_neutralises_text_and_headers() -> None:
    frame = pd.DataFrame({"=name": [EVIL, "Ana"], "Spent": [-12.5, 3.0], "Count": [-1, 2]})
    safe = neutralise_frame(frame)
    assert list(safe.columns) == ["'=name", "Spent", "Count"]
    assert list(safe["'=name"]) == ["'" + EVIL, "Ana"]
    assert safe["Spent"].tolist() == [-12.5, 3.0] and safe["Spent"].dtype == frame["Spent"].dtype
    assert safe["Count"].dtype == frame["Count"].dtype
    assert frame.iloc[0, 0] == EVIL  # the original is not changed


def test_a_csv_cell_comes_out_prefixed_and_negative_numbers_stay_numbers() -> None:
    data = frame_to_csv(pd.DataFrame({"Customer": [EVIL, "-minus"], "Amount": [-5.25, 1.0]}))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[1] == ["'" + EVIL, "-5.25"]
    assert rows[2] == ["'-minus", "1.0"]


def test_an_xlsx_cell_is_never_a_formula() -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("T")
    sheet.append([make_cell(sheet, EVIL), make_cell(sheet, "=1+1"), make_cell(sheet, -3.5, "0.00")])
    buffer = io.BytesIO()
    workbook.save(buffer)
    cells = next(load_workbook(io.BytesIO(buffer.getvalue()))["T"].iter_rows())
    assert [c.data_type for c in cells] == ["s", "s", "n"]
    assert cells[0].value == "'" + EVIL and cells[1].value == "'=1+1" and cells[2].value == -3.5
