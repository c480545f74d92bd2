"""Fill a large sheet of an openpyxl-written workbook straight into its XML.

openpyxl builds an object per cell and writes about 50k cells a second (without lxml); the
per-incident sheet of a year of a large hotel group has 1.3M cells. So the workbook is written by
openpyxl with that sheet's header and ONE template row (each column's kind and number format,
which gives us the style ids openpyxl registered), and `fill` then replaces the template row
with every row, column by column: numbers as numbers, dates as Excel serials, booleans, and text as
inline strings - neutralised against formula injection, XML-escaped and stripped of characters
XML cannot hold. The other sheets stay exactly as openpyxl wrote them.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter

from empowerment.reports.safety import neutralise

TEMPLATE_VALUES: dict[str, object] = {"int": 0, "float": 0.5, "bool": True, "date": datetime(2000, 1, 1), "text": "x"}
EXCEL_EPOCH_NS = pd.Timestamp("1899-12-30").value
NS_PER_DAY = 86_400 * 10**9
_ROW_2 = re.compile(r'<row r="2"[^>]*>(.*?)</row>', re.DOTALL)
_CELL = re.compile(r'<c r="([A-Z]+)2"([^>]*)>')
_STYLE = re.compile(r's="(\d+)"')


def column_kind(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series.dtype):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return "date"
    if pd.api.types.is_integer_dtype(series.dtype):
        return "int"
    if pd.api.types.is_float_dtype(series.dtype):
        return "float"
    return "text"


def _sheet_path(archive: zipfile.ZipFile, sheet_name: str) -> str:
    workbook = archive.read("xl/workbook.xml").decode("utf-8")
    match = re.search(rf'<sheet name="{re.escape(escape(sheet_name))}"[^>]*r:id="(rId\d+)"', workbook)
    if match is None:
        raise KeyError(sheet_name)
    rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    target = re.search(rf'Target="([^"]+)" Id="{match[1]}"', rels)
    if target is None:
        raise KeyError(match[1])
    return target[1].lstrip("/")


def _text_cells(series: pd.Series, letter: str, style: str) -> list[str]:
    def cell_text(value: object) -> str:
        text = ILLEGAL_CHARACTERS_RE.sub("", str(neutralise(value)))
        return f'<is><t xml:space="preserve">{escape(text)}</t></is></c>'

    uniques = {value: cell_text(value) for value in pd.unique(series.dropna())}
    head = f'<c r="{letter}{{}}"{style} t="inlineStr">'
    return ["" if pd.isna(value) else head.format(row) + uniques[value]
            for row, value in enumerate(series.to_numpy(dtype=object), start=2)]


def _value_cells(values: np.ndarray, missing: np.ndarray, letter: str, style: str, kind: str) -> list[str]:
    cell_type = ' t="b"' if kind == "bool" else ' t="n"'
    shown = values.astype(np.int64).astype(str) if kind in ("bool", "int") else values.astype(str)
    return ["" if gap else f'<c r="{letter}{row}"{style}{cell_type}><v>{text}</v></c>'
            for row, (text, gap) in enumerate(zip(shown.tolist(), missing.tolist(), strict=True), start=2)]


def _column_cells(series: pd.Series, letter: str, style: str) -> list[str]:
    kind = column_kind(series)
    if kind == "text":
        return _text_cells(series, letter, style)
    if kind == "date":
        stamps = series.to_numpy(dtype="datetime64[ns]").view(np.int64)
        missing = pd.isna(series).to_numpy()
        return _value_cells((stamps - EXCEL_EPOCH_NS) / NS_PER_DAY, missing, letter, style, "float")
    values = series.to_numpy(dtype=float if kind == "float" else np.int64)
    missing = ~np.isfinite(values) if kind == "float" else np.zeros(len(values), dtype=bool)
    return _value_cells(values, missing, letter, style, kind)


def _rows_xml(frame: pd.DataFrame, styles: dict[str, str]) -> str:
    columns = []
    for position, name in enumerate(frame.columns, start=1):
        letter = get_column_letter(position)
        style = f' s="{styles[letter]}"' if letter in styles else ""
        columns.append(_column_cells(frame[name], letter, style))
    return "".join(f'<row r="{row}">{"".join(cells)}</row>'
                   for row, cells in enumerate(zip(*columns, strict=True), start=2))


def fill(workbook: bytes, sheet_name: str, frame: pd.DataFrame) -> bytes:
    """`workbook` with the template row of `sheet_name` replaced by every row of `frame`."""
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        path = _sheet_path(archive, sheet_name)
        sheet = archive.read(path).decode("utf-8")
        template = _ROW_2.search(sheet)
        if template is None:
            raise ValueError(f"The sheet {sheet_name} has no template row.")
        styles = {}
        for letter, attributes in _CELL.findall(template[1]):
            style = _STYLE.search(attributes)
            if style:
                styles[letter] = style[1]
        filled = sheet[: template.start()] + _rows_xml(frame, styles) + sheet[template.end():]
        output = io.BytesIO()
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED, compresslevel=3) as result:
            for item in archive.infolist():
                data = filled.encode("utf-8") if item.filename == path else archive.read(item.filename)
                result.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=3)
    return output.getvalue()
