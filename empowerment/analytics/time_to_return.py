"""Time to return: restricted mean time without return up to H days (RMST), per group and the
difference, beside the Kaplan-Meier medians. As observed (not adjusted), like the medians.

RMST is the area under the Kaplan-Meier curve of "not back yet" from the end of the recovery
window to H days: the average number of those H days a customer spent without coming back
(H = never back within H). Unlike the median it always exists, and it uses every episode,
censored ones included. Intervals: percentile bootstrap over customers (all of a customer's
episodes drawn together; the same draws for both groups, so the difference is paired).

Vectorised: durations are put on a 1/100-day grid (at most 100 x H distinct times, so the event
tables stay small at any size), one bincount per draw
builds each event table (`survival.rmst_draws` is the same area for any durations).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from empowerment.analytics.aipw import case_weights
from empowerment.analytics.result import Figure

GRID_PER_DAY = 100  # durations rounded to 1/100 day (about 15 minutes): changes RMST by < 0.01 day
MIN_EPISODES = 30  # per group, for a reliable figure
DRAWS_PER_BLOCK = 16
MAX_FAILED_DRAW_SHARE = 0.05
SEED_OFFSET = 7_919  # its own bootstrap stream, not the adjustment's draws


@dataclass(frozen=True)
class TimeToReturn:
    recovered_days: Figure
    comparison_days: Figure
    difference_days: Figure  # recovered minus comparison: negative = recovered customers back sooner


def _reasons(durations: np.ndarray, horizon: float, label: str) -> list[str]:
    if durations.size < MIN_EPISODES:
        return [f"Too few {label} episodes ({durations.size:,}; need {MIN_EPISODES}) for the average time "
                "without return."]
    if not (durations >= horizon).any():
        return [f"No {label} episode has been followed up for the full {horizon:.0f} days yet, so the average "
                f"time without return up to {horizon:.0f} days cannot be worked out."]
    return []


def _figure(point: float, draws: np.ndarray, reasons: list[str]) -> Figure:
    finite = draws[np.isfinite(draws)]
    if reasons or not np.isfinite(point):
        return Figure(None, None, None, False, tuple(reasons) or ("Not enough data for a reliable figure.",))
    if draws.size == 0:
        return Figure(float(point), None, None, False, ("No bootstrap draws were asked for, so there is no range.",))
    if finite.size < (1 - MAX_FAILED_DRAW_SHARE) * draws.size:
        return Figure(float(point), None, None, False, ("Too many bootstrap draws failed; no range reported.",))
    low, high = (float(v) for v in np.percentile(finite, [2.5, 97.5]))
    return Figure(float(point), low, high, True)


@dataclass(frozen=True)
class _Grid:
    """One group's episodes sorted by grid bin, with where each occupied bin starts."""

    order: np.ndarray  # the group's positions among all rows, by bin
    starts: np.ndarray  # first sorted position of each occupied bin
    occupied: np.ndarray  # those bins
    events: np.ndarray  # sorted: returned (before the horizon bin)
    size: int  # bins: 0..size-1, the last one the horizon

    @classmethod
    def build(cls, bins: np.ndarray, events: np.ndarray, rows: np.ndarray, size: int) -> _Grid:
        positions = np.flatnonzero(rows)
        order = positions[np.argsort(bins[positions], kind="stable")]
        ordered = bins[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if ordered.size else np.zeros(0, np.intp)
        return cls(order, starts, ordered[starts], events[order], size)

    def tables(self, block: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(removed, deaths) per draw row of `block` (case weights over all rows)."""
        ordered = np.take(block, self.order, axis=1).astype(float)
        removed = np.zeros((block.shape[0], self.size))
        deaths = np.zeros((block.shape[0], self.size))
        if self.starts.size:
            removed[:, self.occupied] = np.add.reduceat(ordered, self.starts, axis=1)
            ordered *= self.events
            deaths[:, self.occupied] = np.add.reduceat(ordered, self.starts, axis=1)
        return removed, deaths


def _binned_rmst(grid: _Grid, block: np.ndarray) -> np.ndarray:
    """RMST per row of `block` (case weights) on the grid: the Kaplan-Meier product per bin, then
    its area; S is after[:, j] on [j/GRID, (j+1)/GRID) and the area ends at the horizon bin."""
    removed, deaths = grid.tables(block)
    total = removed.sum(axis=1, keepdims=True)
    at_risk = total - np.concatenate([np.zeros((block.shape[0], 1)), np.cumsum(removed, axis=1)[:, :-1]], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        after = np.cumprod(np.where(at_risk > 0, 1.0 - deaths / at_risk, 1.0), axis=1)
    area = after[:, :-1].sum(axis=1) / GRID_PER_DAY
    return np.asarray(np.where(total[:, 0] > 0, area, np.nan))


def time_to_return(linked: pd.DataFrame, horizon_days: float, bootstrap: int, seed: int = 0,
                   weights: np.ndarray | None = None) -> TimeToReturn:
    """RMST up to `horizon_days` for recovered and comparison episodes and their difference.
    `weights`: customer-bootstrap case weights over `linked`'s rows (`aipw.case_weights`, row 0
    the point estimate), to share one set of draws with the adjustment; None draws its own."""
    durations = linked["duration_days"].to_numpy(dtype=float)
    size = int(round(horizon_days * GRID_PER_DAY)) + 1
    bins = np.minimum(np.round(durations * GRID_PER_DAY), size - 1).astype(np.intp)
    events = linked["event"].to_numpy(dtype=bool) & (bins < size - 1)  # at or after H: nothing more to learn
    recovered = linked["recovered"].to_numpy(dtype=bool)
    groups = {"recovered": recovered, "comparison": ~recovered}
    reasons = {name: _reasons(durations[rows], horizon_days, "recovered" if name == "recovered" else
                              "unrecovered") for name, rows in groups.items()}
    grids = {name: _Grid.build(bins, events, rows, size) for name, rows in groups.items()}
    points = {name: float(_binned_rmst(grids[name], np.ones((1, rows.size)))[0]) if rows.any()
              else float("nan") for name, rows in groups.items()}
    draws = {name: np.empty(0) for name in groups}
    if bootstrap > 0 and not all(reasons.values()):
        if weights is None:
            weights = case_weights(len(linked), bootstrap, seed + SEED_OFFSET, clusters=linked["customer_id"].to_numpy())
        for name in (name for name in groups if not reasons[name]):
            draws[name] = np.concatenate([
                _binned_rmst(grids[name], weights[start:start + DRAWS_PER_BLOCK])
                for start in range(1, weights.shape[0], DRAWS_PER_BLOCK)])
    both = reasons["recovered"] + reasons["comparison"]
    return TimeToReturn(
        recovered_days=_figure(points["recovered"], draws["recovered"], reasons["recovered"]),
        comparison_days=_figure(points["comparison"], draws["comparison"], reasons["comparison"]),
        difference_days=_figure(points["recovered"] - points["comparison"],
                                draws["recovered"] - draws["comparison"] if not both else np.empty(0), both),
    )
