"""Small aggregated frames for the page's charts (rates with Wilson CIs, curves, trends)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

from empowerment.analytics.linking import label_or_unknown
from empowerment.analytics.survival import Z_95, kaplan_meier

DEFAULT_COST_BANDS = (0, 1, 2500, 10000, 50000, math.inf)
NO_GESTURE_LABEL = "(no gesture)"
MAX_CURVE_POINTS = 500


def wilson_interval(
    successes: np.ndarray, trials: np.ndarray, z: float = Z_95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval: sane at rates near 0/1 and small n (NaN when n == 0)."""
    successes = np.asarray(successes, dtype=float)
    trials = np.asarray(trials, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = successes / trials
        denominator = 1 + z**2 / trials
        centre = (rate + z**2 / (2 * trials)) / denominator
        half = z * np.sqrt(rate * (1 - rate) / trials + z**2 / (4 * trials**2)) / denominator
    return centre - half, centre + half


def _rates(frame: pd.DataFrame, labels: pd.Series, name: str) -> pd.DataFrame:
    grouped = frame.assign(**{name: labels}).groupby(name, sort=True, observed=False)
    summary = grouped["returned_within"].agg(n="size", returned="sum").reset_index()
    summary["returned"] = summary["returned"].astype("int64")
    summary["rate"] = summary["returned"] / summary["n"]
    summary["ci_low"], summary["ci_high"] = wilson_interval(summary["returned"], summary["n"])
    return summary


def return_rates_by(linked: pd.DataFrame, column: str) -> pd.DataFrame:
    """H-day return rate per level of ``column`` among eligible incidents.

    Columns: <column>, n, returned, rate, ci_low, ci_high. For gesture type the
    comparison group appears as "(no gesture)"; missing labels as "(unknown)".
    """
    eligible = linked.loc[linked["eligible"].to_numpy(dtype=bool)]
    labels = label_or_unknown(eligible[column])
    if column in ("first_gesture_type", "gesture_speed"):
        labels = labels.where(eligible["recovered"].to_numpy(dtype=bool), NO_GESTURE_LABEL)
    return _rates(eligible, labels, column)


def _money_label(cents: float) -> str:
    if cents % 100 == 0:
        return f"${cents / 100:,.0f}"
    return f"${cents / 100:,.2f}"


def _band_labels(bands: Sequence[float]) -> list[str]:
    labels = []
    for low, high in zip(bands[:-1], bands[1:], strict=True):
        if low == 0 and high <= 1:
            labels.append("$0 (no-cost gesture)")
        elif math.isinf(high):
            labels.append(f"{_money_label(low)}+")
        else:
            labels.append(f"{_money_label(low)}–{_money_label(high - 1)}")
    return labels


def return_rate_by_cost_band(
    linked: pd.DataFrame, bands: Sequence[float] = DEFAULT_COST_BANDS
) -> pd.DataFrame:
    """Return rate by recovery spend per incident ("how much is enough").

    Bands are [low, high) in cents, so [0, 1) is the zero-cost band; the first
    row is the comparison group (no gesture) for reference. Not adjusted for
    who got which gesture.
    """
    eligible = linked.loc[linked["eligible"].to_numpy(dtype=bool)]
    recovered = eligible["recovered"].to_numpy(dtype=bool)
    labels = _band_labels(bands)
    order = [NO_GESTURE_LABEL, *labels]
    spend = eligible["spend_cents"].to_numpy(dtype=float)
    band_index = np.clip(
        np.searchsorted(np.asarray(bands, float), spend, side="right") - 1, 0, len(labels) - 1
    )
    band = np.where(recovered, np.asarray(labels, dtype=object)[band_index], NO_GESTURE_LABEL)
    summary = _rates(
        eligible, pd.Series(pd.Categorical(band, categories=order), index=eligible.index), "band"
    )
    spend_by_band = eligible.groupby(pd.Categorical(band, categories=order), observed=False)[
        "spend_cents"
    ].mean()
    summary["mean_spend_cents"] = summary["band"].map(spend_by_band).astype(float)
    summary["band"] = summary["band"].astype(str)
    return summary


def spend_vs_revenue_over_time(linked: pd.DataFrame, freq: str = "M") -> pd.DataFrame:
    """Per incident period: incidents, recovered, spend, and revenue after H for recovered.

    Revenue only counts eligible recovered incidents (full follow-up), so the last
    periods show spend before their revenue is known.
    """
    period = pd.to_datetime(linked["occurred_at"]).dt.to_period(freq).dt.start_time
    recovered = linked["recovered"].to_numpy(dtype=bool)
    eligible_recovered = recovered & linked["eligible"].to_numpy(dtype=bool)
    frame = pd.DataFrame(
        {
            "period": period,
            "incidents": 1,
            "recovered_incidents": recovered.astype(np.int64),
            "spend_cents": np.where(recovered, linked["spend_cents"].to_numpy(), 0),
            "eligible_recovered": eligible_recovered.astype(np.int64),
            "revenue_after_cents": np.where(
                eligible_recovered, linked["revenue_after_cents"].fillna(0).to_numpy(), 0
            ),
        }
    )
    summary = frame.groupby("period", sort=True).sum().reset_index()
    summary["revenue_after_cents"] = summary["revenue_after_cents"].round().astype("int64")
    # A period still running at as-of is partial: charts leave it out rather than show a dip.
    as_of = linked.attrs.get("as_of")
    ends = (pd.PeriodIndex(summary["period"], freq=freq).end_time if len(summary)
            else pd.DatetimeIndex([]))
    summary["complete"] = np.asarray(ends <= pd.Timestamp(as_of)) if as_of is not None else True
    return summary


def _downsample(size: int, max_points: int) -> np.ndarray:
    if size <= max_points:
        return np.arange(size)
    return np.unique(np.linspace(0, size - 1, max_points).round().astype(np.int64))


def km_curves_frame(linked: pd.DataFrame, max_points: int = MAX_CURVE_POINTS) -> pd.DataFrame:
    """Tidy KM curves (group, time, survival, lower, upper), at most max_points per group."""
    pieces = []
    recovered = linked["recovered"].to_numpy(dtype=bool)
    for group, rows in (("recovered", recovered), ("comparison", ~recovered)):
        curve = kaplan_meier(linked["duration_days"].to_numpy()[rows], linked["event"].to_numpy()[rows])
        keep = _downsample(curve.timeline.size, max_points)
        pieces.append(
            pd.DataFrame(
                {
                    "group": group,
                    "time": curve.timeline[keep],
                    "survival": curve.survival[keep],
                    "lower": curve.ci_lower[keep],
                    "upper": curve.ci_upper[keep],
                }
            )
        )
    return pd.concat(pieces, ignore_index=True)


GESTURE_DELAY_BINS = ((0.0, 1.0, "Within the hour"), (1.0, 4.0, "1–4 hours"), (4.0, 12.0, "4–12 hours"),
                      (12.0, 24.0, "12–24 hours"), (24.0, 48.0, "1–2 days"), (48.0, math.inf, "2 days or more"))


def time_to_gesture_frame(linked: pd.DataFrame) -> pd.DataFrame:
    """How long after the incident the first counted gesture came: (delay, recovered) per bin."""
    hours = linked.loc[linked["recovered"].to_numpy(dtype=bool), "hours_to_gesture"].to_numpy(dtype=float)
    labels = [label for _, _, label in GESTURE_DELAY_BINS]
    edges = [low for low, _, _ in GESTURE_DELAY_BINS] + [math.inf]
    index = np.clip(np.searchsorted(np.asarray(edges), hours, side="right") - 1, 0, len(labels) - 1)
    counts = np.bincount(index, minlength=len(labels)) if hours.size else np.zeros(len(labels), dtype=int)
    return pd.DataFrame({"delay": labels, "recovered": counts.astype("int64")})
