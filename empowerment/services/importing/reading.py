"""Reading a file: bytes -> UTF-8 text -> raw string cells with their physical line numbers."""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from empowerment.csvformat import DELIMITERS, CsvKind, FileFormat, template
from empowerment.errors import ImportFailed
from empowerment.services.importing.header import check_header
from empowerment.services.importing.problems import Problems

Source = str | Path | bytes | bytearray | IO[bytes] | IO[str]
Skipped = list[tuple[int, int, int]]  # (record number, cells expected, cells seen)

_SAVE_AS_UTF8 = (
    "Save the file as UTF-8 (in Excel: Save As > 'CSV UTF-8 (Comma delimited)') and import it "
    "again; nothing was imported."
)


def read_source(source: Source, kind: str) -> tuple[str, bytes]:
    """-> (file name for messages, the file's bytes)."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        return path.name, path.read_bytes()
    if isinstance(source, (bytes, bytearray, memoryview)):
        return f"{kind}.csv", bytes(source)
    if hasattr(source, "read"):
        name = getattr(source, "name", None)
        filename = Path(name).name if isinstance(name, str) and name else f"{kind}.csv"
        # getvalue() (BytesIO, Streamlit's UploadedFile) gives the whole file wherever the
        # position is; otherwise read from the current position.
        data = source.getvalue() if hasattr(source, "getvalue") else source.read()
        if isinstance(data, str):
            data = data.encode("utf-8", errors="surrogatepass")
        return filename, bytes(data)
    raise TypeError(f"Cannot read a CSV from {type(source).__name__}; pass a path, bytes or a file.")


def decode(data: bytes, filename: str) -> tuple[bytes, str]:
    """-> (the bytes without a byte-order mark, the text). Refuses files that are not UTF-8."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        if not _looks_like_utf16(data):
            return data, text
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) or _looks_like_utf16(data):
        raise ImportFailed(
            f"{filename} is saved as UTF-16 ('Unicode text'). {_SAVE_AS_UTF8}",
            [{"line": 1, "column": None, "value": None, "reason": "UTF-16 file, not UTF-8"}],
        )
    problems = _undecodable_lines(data)
    listed = problems.as_list()
    first = listed[0]["line"] if listed else "?"
    n = problems.count
    raise ImportFailed(
        f"{filename} is not saved as UTF-8: {n:,} line{'' if n == 1 else 's'} contain{'s' if n == 1 else ''} "
        f"characters in another encoding (first on line {first}). {_SAVE_AS_UTF8}",
        listed,
    )


def _looks_like_utf16(data: bytes) -> bool:
    """UTF-16 without a byte-order mark decodes as "UTF-8" full of NUL bytes: every other byte of
    its Latin text is 0."""
    head = data[:400]
    return len(head) >= 4 and head.count(0) >= len(head) // 3


def _undecodable_lines(data: bytes) -> Problems:
    problems = Problems([])
    for number, raw_line in enumerate(data.split(b"\n"), start=1):
        try:
            raw_line.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad = raw_line[exc.start : exc.end]
            shown = raw_line[max(0, exc.start - 30) : exc.end + 30].decode("utf-8", "replace")
            problems.add(
                [number],
                None,
                [shown],
                f"byte {' '.join(f'0x{b:02X}' for b in bad)} at byte {exc.start + 1} of the line "
                "is not UTF-8",
            )
    return problems


def detect_delimiter(text: str, spec: CsvKind, mapping: Mapping[str, str] | None) -> str:
    """The separator of the header line: the one that splits it into the most known column names
    (the kind's, or the mapping's), then into the most cells; a comma when nothing splits it."""
    first = text[: text.find("\n")] if "\n" in text[:1_000_000] else text[:1_000_000]
    known = {*spec.names, *(str(v).strip() for v in (mapping or {}).values())}
    best, best_score = ",", (0, 1)
    for delimiter in DELIMITERS:
        cells = next(csv.reader(io.StringIO(first, newline=""), delimiter=delimiter), [])
        score = (sum(c.strip() in known for c in cells), len(cells))
        if score > best_score:
            best, best_score = delimiter, score
    return best


def normal_newlines(data: bytes, text: str) -> tuple[bytes, str]:
    """A file whose lines end in a lone CR (classic Mac OS, some exports) -> LF line ends, so the
    line numbers in messages count as an editor does."""
    if "\r" in text and "\n" not in text:
        text = text.replace("\r", "\n")
        return text.encode("utf-8"), text
    return data, text


def parse(
    data: bytes,
    text: str,
    spec: CsvKind,
    mapping: Mapping[str, str] | None,
    filename: str,
    notes: list[str],
    file_format: FileFormat | None = None,
) -> tuple[pd.DataFrame, np.ndarray, Problems, str]:
    """-> raw string cells of the spec's columns (index 0..n-1), physical lines, problems so far,
    and the separator used."""
    if not text.strip():
        wanted = f"Its first line must be the header: {template(spec.name)}. Nothing was imported."
        raise ImportFailed(f"{filename} is empty. {wanted}")
    file_format = file_format or FileFormat()
    data, text = normal_newlines(data, text)
    delimiter = file_format.delimiter or detect_delimiter(text, spec, mapping)
    positions = check_header(
        text, spec, mapping, filename, notes, delimiter=delimiter, chosen=file_format.delimiter is not None
    )
    df, skipped = _read_cells(data, filename, delimiter)
    records, before = _physical_lines(df, text, skipped)
    lines = records + before[:-1]

    problems = Problems(spec.names)
    for rec, expected, saw in skipped:
        physical = rec + int(before[np.searchsorted(records, rec)])
        problems.add(
            [physical],
            None,
            None,
            f"the line has {saw} cells but the header has {expected}; a "
            f"{_SEPARATOR_WORD[delimiter]} inside a value needs the value in double quotes (\"...\")",
        )

    # Use the (stripped, mapped) header names by position; keep the spec's columns only.
    df.columns = [f"__{i}" for i in range(df.shape[1])]
    keep = {name: f"__{positions[name][0]}" for name in spec.names if name in positions}
    blank = np.ones(len(df), dtype=bool)
    for name in df.columns:
        blank &= (df[name] == "").to_numpy()
    raw = pd.DataFrame({name: df[src] for name, src in keep.items()})
    if blank.any():
        raw = raw.loc[~blank].reset_index(drop=True)
        lines = lines[~blank]
    if len(raw) == 0 and not problems:
        raise ImportFailed(f"{filename} has a header but no data rows; nothing was imported.")
    return raw, lines, problems, delimiter


_SEPARATOR_WORD = {",": "comma", ";": "semicolon", "\t": "tab"}


def _read_cells(data: bytes, filename: str, delimiter: str = ",") -> tuple[pd.DataFrame, Skipped]:
    """Every cell as a string; records with the wrong number of cells are skipped and listed.
    Arrow's multi-threaded reader reads the ordinary file; pandas' reader (one thread) reads any
    other exactly as before: blank lines, records with the wrong number of cells, a stray quote."""
    fast = _read_cells_with_arrow(data, delimiter)
    if fast is not None:
        return fast, []
    return _read_cells_with_pandas(data, filename, delimiter)


ARROW_READ_FROM_BYTES = 1 << 20  # smaller files: pandas is as fast and starts no threads


def _read_cells_with_arrow(data: bytes, delimiter: str) -> pd.DataFrame | None:
    """The cells as pandas reads them (header = the first record, every cell a string, nothing
    missing), or None when the file has anything the pandas path must judge: a blank line
    (pandas keeps it as a row, so later line numbers count it), or a record whose number of cells
    differs from the header's (pandas warns, or pads a short one)."""
    if len(data) < ARROW_READ_FROM_BYTES or b"\n\n" in data or b"\n\r\n" in data:
        return None
    first_line = data[: data.find(b"\n")].decode("utf-8")
    header_cells = next(csv.reader(io.StringIO(first_line, newline=""), delimiter=delimiter), [])
    names = [f"f{i}" for i in range(len(header_cells))]
    bad: list[object] = []

    def refuse(row: object) -> str:
        bad.append(row)
        return "skip"

    try:
        table = pa_csv.read_csv(
            pa.py_buffer(data),
            read_options=pa_csv.ReadOptions(autogenerate_column_names=True, use_threads=True),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter, quote_char='"', double_quote=True, escape_char=False,
                newlines_in_values=b'"' in data, ignore_empty_lines=False, invalid_row_handler=refuse,
            ),
            convert_options=pa_csv.ConvertOptions(
                check_utf8=False,  # decoded already
                column_types={name: pa.string() for name in names},
                strings_can_be_null=False, quoted_strings_can_be_null=False, null_values=[],
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError):
        return None
    if (bad or table.num_rows == 0 or table.column_names != names
            or any(not pa.types.is_string(t) for t in table.schema.types)):
        return None
    header = [str(v) for v in table.slice(0, 1).to_pylist()[0].values()]
    frame = table.slice(1).to_pandas()
    frame.columns = header
    frame.index = pd.RangeIndex(len(frame))
    return frame


def _read_cells_with_pandas(data: bytes, filename: str, delimiter: str) -> tuple[pd.DataFrame, Skipped]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        try:
            df = pd.read_csv(
                io.BytesIO(data),
                sep=delimiter,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                skip_blank_lines=False,
                on_bad_lines="warn",
                header=0,
                index_col=False,
                encoding="utf-8",
            )
        except pd.errors.ParserError as exc:
            raise ImportFailed(
                f"{filename} could not be read as CSV ({str(exc).strip()}). Look for a stray "
                'double quote (") on or before that line; nothing was imported.'
            ) from exc
        except pd.errors.EmptyDataError as exc:  # pragma: no cover - caught by the header checks
            raise ImportFailed(f"{filename} is empty; nothing was imported.") from exc
    skipped: Skipped = []
    for warning in caught:
        for rec, expected, saw in re.findall(
            r"Skipping line (\d+): expected (\d+) fields, saw (\d+)", str(warning.message)
        ):
            skipped.append((int(rec), int(expected), int(saw)))
    skipped.sort()
    return df, skipped


def _physical_lines(df: pd.DataFrame, text: str, skipped: Skipped) -> tuple[np.ndarray, np.ndarray]:
    """-> (record number per row, newlines inside quoted cells before each record [n + 1])."""
    n = len(df)
    # pandas numbers records (header = 1). Records skipped for a wrong cell count are missing
    # from df: shift the kept rows past them.
    records = 2 + np.arange(n, dtype=np.int64)
    if skipped:
        s = np.array([r for r, _, _ in skipped], dtype=np.int64)
        records = records + np.searchsorted(s - np.arange(len(s)), records, side="right")
    # Quoted cells may span lines: a record's physical line adds the newlines of earlier records.
    extra = np.zeros(n, dtype=np.int64)
    if n and '"' in text:
        for name in df.columns:
            col = df[name]
            if col.str.contains("\n", regex=False).any():
                extra += col.str.count("\n").to_numpy(dtype=np.int64)
    before = np.concatenate([[0], np.cumsum(extra)])
    return records, before


def preview_file(
    data: bytes, kind: str, file_format: FileFormat | None = None, rows: int = 5
) -> tuple[list[str], pd.DataFrame, str]:
    """The header, the first `rows` rows as text (nothing converted) and the separator the import
    will use (the chosen one, else detected). Raises ImportFailed when the file cannot be read."""
    from empowerment.csvformat import KINDS

    data, text = decode(data, f"{kind}.csv")
    data, text = normal_newlines(data, text[:2_000_000])
    chosen = (file_format or FileFormat()).delimiter
    delimiter = chosen or detect_delimiter(text, KINDS[kind], None)
    try:
        frame = pd.read_csv(io.StringIO(text, newline=""), sep=delimiter, nrows=rows, dtype=str,
                            keep_default_na=False, skipinitialspace=True, on_bad_lines="skip")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError) as exc:
        raise ImportFailed(f"The file cannot be previewed ({exc}); checking it will say what is wrong.") from exc
    return [str(c).strip() for c in frame.columns], frame, delimiter
