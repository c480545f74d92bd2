"""Results of the analytics as text, and back, losslessly: what `reports.computed` stores so a
figure worked out once (by the worker, or by the first process that needed it) is read by every
other process and replica instead of being worked out again.

JSON, never pickle: a stored document is data, and reading one cannot run code. Frames travel as
Parquet (Arrow keeps every dtype: integers, floats with NaN, booleans, text, times); the result
types are named, and only the names in `TYPES` are rebuilt. A number that is not reliable is kept
as computed (the figures' own `shown` still decides what is printed), so a decoded result equals
the one computed, field for field.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import math
from typing import Any

import numpy as np
import pandas as pd

from empowerment.analytics.payoff import PayoffView
from empowerment.analytics.result import Figure, GroupSummary, PayoffResult

FORMAT = 1  # bump when a stored document would no longer decode into today's types
TYPES: dict[str, type] = {cls.__name__: cls for cls in (PayoffView, PayoffResult, Figure, GroupSummary)}


def _frame_text(frame: pd.DataFrame) -> str:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, engine="pyarrow", index=True)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _frame(text: str) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(base64.b64decode(text)), engine="pyarrow")


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else {"float": repr(number)}  # nan, inf, -inf
    if isinstance(value, pd.DataFrame):
        return {"frame": _frame_text(value)}
    if isinstance(value, tuple):
        return {"tuple": [_plain(item) for item in value]}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("codec: dictionary keys must be text")
        return {"dict": {key: _plain(item) for key, item in value.items()}}
    name = type(value).__name__
    if dataclasses.is_dataclass(value) and TYPES.get(name) is type(value):
        return {"type": name, "fields": {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    raise TypeError(f"codec: cannot store a {name}")


def _rebuilt(value: Any) -> Any:
    if isinstance(value, list):
        return [_rebuilt(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "float" in value:
        return float(value["float"])
    if "frame" in value:
        return _frame(value["frame"])
    if "tuple" in value:
        return tuple(_rebuilt(item) for item in value["tuple"])
    if "dict" in value:
        return {key: _rebuilt(item) for key, item in value["dict"].items()}
    cls = TYPES[value["type"]]  # a KeyError for an unknown name: the document is not ours
    return cls(**{key: _rebuilt(item) for key, item in value["fields"].items()})


def dumps(value: Any) -> str:
    """`value` (result types, frames, numbers, text, lists, tuples, dicts of them) as JSON text."""
    return json.dumps({"format": FORMAT, "value": _plain(value)}, separators=(",", ":"), allow_nan=False)


def loads(text: str) -> Any:
    """The value `dumps` wrote. Raises ValueError for a document of another format."""
    document = json.loads(text)
    if document.get("format") != FORMAT:
        raise ValueError(f"codec: a document of format {document.get('format')!r}, not {FORMAT}")
    return _rebuilt(document["value"])
