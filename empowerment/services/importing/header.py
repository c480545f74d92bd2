"""The header line: mapped onto the kind's columns, refused whole (with one message) when wrong."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

from empowerment.csvformat import DELIMITERS as SEPARATORS
from empowerment.csvformat import CsvKind, template
from empowerment.errors import ImportFailed

HeaderProblems = list[dict[str, object]]


def check_header(
    text: str,
    spec: CsvKind,
    mapping: Mapping[str, str] | None,
    filename: str,
    notes: list[str],
    *,
    delimiter: str = ",",
    chosen: bool = False,
) -> dict[str, list[int]]:
    """-> the positions of each (stripped, mapped) column name in the header line.

    Raises `ImportFailed` for no header, a file separated otherwise than the `chosen` separator,
    a bad `mapping`, a duplicated column or missing required columns. Extra columns are named in
    `notes`."""
    # newline="": the csv module sees CR, LF and CRLF line ends itself (a lone CR ends a line).
    header_raw = next(csv.reader(io.StringIO(text[:1_000_000], newline=""), delimiter=delimiter), [])
    header = [h.strip() for h in header_raw]
    if not any(header):
        raise ImportFailed(
            f"{filename} has no header on line 1. Its first line must be the header: "
            f"{template(spec.name)}. Nothing was imported."
        )
    other = next((d for d in SEPARATORS if d != delimiter and d in header_raw[0]), None)
    if len(header) == 1 and other is not None:
        words = SEPARATORS[other]
        raise ImportFailed(
            f"{filename} looks separated by {words} ({other!r}), but {SEPARATORS[delimiter]} were "
            f"chosen{'' if chosen else ' for it'}. Choose {words} as the separator (or let the "
            "import detect it) and import it again; nothing was imported.",
            [{"line": 1, "column": None, "value": header_raw[0], "reason": f"separated by {words}"}],
        )
    problems: HeaderProblems = []
    if mapping:
        header = _apply_mapping(header, spec, mapping, problems)
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(header):
        positions.setdefault(name, []).append(i)
    _check_duplicates(spec, positions, problems)
    missing = _check_missing(spec, header, positions, problems)
    if problems:
        raise ImportFailed(_message(spec, filename, header_raw, missing, problems), problems)
    extras = [h for h in header if h and h not in spec.names]
    if extras:
        notes.append(
            f"Ignored column{'s' if len(extras) > 1 else ''} not used for {spec.name}: "
            f"{', '.join(extras)}."
        )
    return positions


def _problem(problems: HeaderProblems, column: str | None, value: object, reason: str) -> None:
    problems.append({"line": 1, "column": column, "value": value, "reason": reason})


def _apply_mapping(
    header: list[str], spec: CsvKind, mapping: Mapping[str, str], problems: HeaderProblems
) -> list[str]:
    """`column_mapping` ({canonical name: header in the file}) -> the header with canonical names."""
    rename: dict[str, str] = {}
    for canonical, in_file in mapping.items():
        in_file = str(in_file).strip()
        if canonical not in spec.names:
            _problem(
                problems,
                canonical,
                in_file,
                f"column_mapping names '{canonical}', which is not a {spec.name} column "
                f"(those are: {', '.join(spec.names)})",
            )
        elif in_file not in header:
            _problem(
                problems,
                canonical,
                in_file,
                f"column_mapping takes {canonical} from '{in_file}', but the file has no such column",
            )
        elif in_file in rename and rename[in_file] != canonical:
            _problem(problems, canonical, in_file, f"column_mapping uses '{in_file}' for two columns")
        else:
            rename[in_file] = canonical
    return [rename.get(h, h) for h in header]


def _check_duplicates(
    spec: CsvKind, positions: dict[str, list[int]], problems: HeaderProblems
) -> None:
    for name in spec.names:
        where = positions.get(name, [])
        if len(where) > 1:
            _problem(
                problems,
                name,
                name,
                f"the column appears {len(where)} times (columns {', '.join(str(i + 1) for i in where)}); "
                "keep one",
            )


def _check_missing(
    spec: CsvKind, header: list[str], positions: dict[str, list[int]], problems: HeaderProblems
) -> list[str]:
    missing = [name for name in spec.required if name not in positions]
    lowered = {h.lower(): h for h in header if h}
    for name in missing:
        near = lowered.get(name.lower())
        hint = (
            f" (the file has '{near}'; names must match exactly, or map it with column_mapping)"
            if near
            else ""
        )
        _problem(problems, name, near, f"missing required column{hint}")
    return missing


def _message(
    spec: CsvKind, filename: str, header_raw: list[str], missing: list[str], problems: HeaderProblems
) -> str:
    if missing:
        has = ", ".join(h for h in header_raw if h.strip()) or "(no names)"
        optional = f"; optional: {', '.join(spec.optional)}" if spec.optional else ""
        return (
            f"{filename} is missing the required column{'s' if len(missing) > 1 else ''} "
            f"{', '.join(missing)}. The file has: {has}. A {spec.name} file needs: "
            f"{', '.join(spec.required)}{optional}. Nothing was imported."
        )
    n = len(problems)
    return f"{n} problem{'' if n == 1 else 's'} with the header of {filename}; nothing was imported."
