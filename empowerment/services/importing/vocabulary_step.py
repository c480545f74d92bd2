"""The value-mapping step (issue 13): cells that name a vocabulary term (a gesture's type, an
incident's category) are read as the organisation's words before the cells are checked.

A cell matches a term's code, label or a synonym an admin mapped, ignoring case, spaces and
punctuation (`models.vocabulary.normal_key`), and is replaced by the term's code. `value_mapping`
({column: {word: code}}) maps the words of this one file. Words that still mean nothing refuse the
file with ONE problem per distinct word (`errors.UnknownValues`, with the file's other problems),
not one per line, so the Data page can offer a mapping. Retired terms still match: old files keep importing.

Incident categories are open: an unknown category is kept as written, and named in a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import numpy as np
import pandas as pd

from empowerment.csvformat import CsvKind
from empowerment.db import Database
from empowerment.models.vocabulary import (
    GESTURE_TYPE,
    INCIDENT_CATEGORY,
    KIND_NOUNS,
    Vocabulary,
    load_vocabulary,
)
from empowerment.services.importing.problems import Problems

# kind of file -> {column: (vocabulary kind, strict)}
VOCABULARY_COLUMNS: dict[str, dict[str, tuple[str, bool]]] = {
    "gestures": {"type": (GESTURE_TYPE, True)},
    "incidents": {"category": (INCIDENT_CATEGORY, False)},
}
MAX_LISTED = 8


def apply_vocabulary(db: Database, spec: CsvKind, raw: pd.DataFrame, lines: np.ndarray,
                     value_mapping: Mapping[str, Mapping[str, str]] | None, problems: Problems,
                     warnings: list[str]) -> CsvKind:
    """Translate the vocabulary columns of `raw` in place; the spec to check the cells with.
    Unknown words join `problems` (once per word, at its first line) and mark it, so the file's
    refusal is an `UnknownValues` listing every other problem too."""
    columns = {c: k for c, k in VOCABULARY_COLUMNS.get(spec.name, {}).items() if c in raw.columns}
    if not columns:
        return spec
    with db.read() as session:
        vocab = load_vocabulary(session)
    unknown: dict[str, dict[str, int]] = {}
    for column, (kind, strict) in columns.items():
        missing = _translate(vocab, kind, raw, column, (value_mapping or {}).get(column, {}))
        if missing.empty:
            continue
        counts = missing.value_counts(sort=False)
        if not strict:
            listed = ", ".join(f"'{w}'" for w in list(counts.index)[:MAX_LISTED])
            warnings.append(f"{len(counts):,} {column} value{'s are' if len(counts) > 1 else ' is'} not in the "
                            f"organisation's list ({listed}); kept as written. Map them on the Vocabulary page.")
            continue
        unknown[column] = {str(word): int(n) for word, n in counts.items()}
        first_line = pd.Series(lines[missing.index.to_numpy()], index=missing.index).groupby(missing).min()
        words = list(counts.index)
        choices = ", ".join(f"{label} ({code})" for code, label in vocab.labels(kind, active_only=True).items())
        problems.add([int(first_line[w]) for w in words], column, words,
                     [f"is not a known {KIND_NOUNS[kind]} ({int(n):,} row{'s' if n != 1 else ''}); "
                      f"map it to one of: {choices}"
                      for n in counts.to_numpy()])
    if unknown:
        problems.unknown_values = unknown
        problems.vocabulary_kinds = {c: k for c, (k, _) in columns.items()}
    # The cells now hold codes; they were checked against the vocabulary here.
    return replace(spec, columns=tuple(
        replace(c, type="text", max_len=64, choices=()) if c.name in columns and c.type == "choice" else c
        for c in spec.columns))


def _translate(vocab: Vocabulary, kind: str, raw: pd.DataFrame, column: str,
               file_mapping: Mapping[str, str]) -> pd.Series:
    """Replace matched cells by codes; the cells (as written) that matched nothing."""
    cells = raw[column]
    written = cells.str.strip()
    distinct = pd.unique(written[written != ""])
    lookup: dict[str, str] = {}
    for word in distinct:
        code = file_mapping.get(word) or vocab.match(kind, word)
        if code is not None and vocab.term(kind, code) is not None:
            lookup[word] = code
    mapped = written.map(lookup)
    missing_mask = mapped.isna() & (written != "")
    raw[column] = mapped.where(~missing_mask & (written != ""), cells)
    return written[missing_mask]
