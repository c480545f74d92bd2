"""Every problem in a file, collected before anything is written: {"line", "column", "value", "reason"}."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from empowerment.errors import ImportFailed, UnknownValues

MAX_PROBLEMS = 10_000  # problems listed in ImportFailed.problems (the message gives the total)


class Problems:
    """Collects problems as small DataFrames. Every problem is kept (importing the valid rows
    must know every refused line); `as_list` and the message list at most MAX_PROBLEMS."""

    def __init__(self, column_order: Sequence[str]) -> None:
        self._parts: list[pd.DataFrame] = []
        self._order = {name: i for i, name in enumerate(column_order)}
        self.count = 0
        # Set by the value-mapping step (vocabulary_step): words that need mapping, by column.
        self.unknown_values: dict[str, dict[str, int]] = {}
        self.vocabulary_kinds: dict[str, str] = {}

    def __bool__(self) -> bool:
        return self.count > 0

    def add(
        self,
        lines: Any,
        column: str | None,
        values: Any,
        reason: str | Any,
    ) -> None:
        lines = np.asarray(lines, dtype=np.int64).reshape(-1)
        n = len(lines)
        if n == 0:
            return
        self.count += n
        values = [None] * n if values is None else np.asarray(values, dtype=object).reshape(-1)
        reasons = np.asarray(reason, dtype=object).reshape(-1) if not isinstance(reason, str) else reason
        part = pd.DataFrame({"line": lines, "column": column, "value": values, "reason": reasons})
        self._parts.append(part)

    def add_mask(self, frame: pd.DataFrame, mask: Any, column: str, values: Any, reason: Any) -> None:
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        vals = None if values is None else np.asarray(values, dtype=object)[mask]
        if not isinstance(reason, str):
            reason = np.asarray(reason, dtype=object)[mask]
        self.add(frame["line"].to_numpy()[mask], column, vals, reason)

    def extend(self, other: Problems) -> None:
        self._parts.extend(other._parts)
        self.count += other.count

    def frame(self) -> pd.DataFrame:
        """Every problem (line, column, value, reason), by line and then column order."""
        if not self._parts:
            return pd.DataFrame(columns=["line", "column", "value", "reason"])
        df = pd.concat(self._parts, ignore_index=True)
        df["_order"] = df["column"].map(self._order).fillna(-1)
        return df.sort_values(["line", "_order"], kind="stable").drop(columns="_order")

    def lines(self) -> np.ndarray:
        """The distinct lines with a problem."""
        if not self._parts:
            return np.empty(0, dtype=np.int64)
        return np.unique(np.concatenate([part["line"].to_numpy(dtype=np.int64) for part in self._parts]))

    def as_list(self, limit: int | None = None) -> list[dict[str, object]]:
        if not self._parts:
            return []
        df = self.frame().head(MAX_PROBLEMS if limit is None else limit)
        out = []
        for line, column, value, reason in zip(
            df["line"].tolist(),
            df["column"].tolist(),
            df["value"].tolist(),
            df["reason"].tolist(),
            strict=True,
        ):
            out.append(
                {
                    "line": int(line),
                    "column": column,
                    "value": _shorten(value),
                    "reason": str(reason),
                }
            )
        return out

    def raise_if_any(self, filename: str) -> None:
        if not self.count:
            return
        n = self.count
        message = f"{n:,} problem{'' if n == 1 else 's'} in {filename}; nothing was imported."
        if n > MAX_PROBLEMS:
            message += f" The first {MAX_PROBLEMS:,} are listed."
        if self.unknown_values:
            raise UnknownValues(message, self.as_list(), self.unknown_values, self.vocabulary_kinds)
        raise ImportFailed(message, self.as_list())


def _shorten(value: object, limit: int = 120) -> object:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value)
    if len(text) > limit:
        return f"{text[:100]}… ({len(text):,} characters)"
    return text
