"""What the payoff analysis is asked (`PayoffRequest`) and what it answers (`PayoffResult`).

Every figure a leader reads is a `Figure`: the estimate, its 95% interval, and its own verdict
(`reliable`, with the reasons when it is not). A figure that is not reliable is never shown as a
number anywhere: `Figure.shown` is the one test every screen, command and report uses, and
`to_json` writes no number for it, only the reasons.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

DEFAULT_HORIZON_DAYS = 90
DEFAULT_RECOVERY_WINDOW_HOURS = 72
DEFAULT_MARGIN = 0.30  # contribution margin: the share of revenue left after the cost of serving it
DEFAULT_BOOTSTRAP = 200


@dataclass(frozen=True)
class PayoffRequest:
    """Which payoff: the follow-up horizon, the data's cut-off, the incidents in scope, the recovery
    window (a gesture counts only within it), the contribution margin and the bootstrap."""

    horizon_days: int = DEFAULT_HORIZON_DAYS
    as_of: Any = None  # the data as known at this time; None = the latest transaction
    date_from: Any = None
    date_to: Any = None  # inclusive; a bare date means the whole day
    location: str | Sequence[str] | None = None
    team: str | Sequence[str] | None = None
    bootstrap: int = DEFAULT_BOOTSTRAP
    seed: int = 0
    recovery_window_hours: int = DEFAULT_RECOVERY_WINDOW_HOURS
    margin: float = DEFAULT_MARGIN


def _finite(value: float | None) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Figure:
    """An estimate with its 95% interval and its own verdict."""

    estimate: float | None
    low: float | None
    high: float | None
    reliable: bool
    reasons: tuple[str, ...] = ()

    @classmethod
    def withheld(cls, *reasons: str) -> Figure:
        return cls(None, None, None, False, tuple(reasons))

    @property
    def shown(self) -> bool:
        """May this figure be printed as a number? Only when reliable, with a known interval."""
        return self.reliable and self.estimate is not None and self.low is not None and self.high is not None

    @property
    def could_be_zero(self) -> bool:
        return self.shown and self.low is not None and self.high is not None and self.low <= 0 <= self.high

    @property
    def reason(self) -> str:
        """One sentence for where the number would have been."""
        return self.reasons[0] if self.reasons else "Not enough data for a reliable figure."

    def scaled(self, factor: float) -> Figure:
        def times(value: float | None) -> float | None:
            return None if value is None else value * factor

        low, high = times(self.low), times(self.high)
        if factor < 0 and low is not None and high is not None:
            low, high = high, low
        return Figure(times(self.estimate), low, high, self.reliable, self.reasons)

    def with_reasons(self, *reasons: str) -> Figure:
        """The same figure, unreliable for these extra reasons (none: unchanged)."""
        extra = tuple(r for r in reasons if r and r not in self.reasons)
        if not extra:
            return self
        return Figure(self.estimate, self.low, self.high, False, self.reasons + extra)

    def to_json(self) -> dict[str, Any]:
        if self.shown:
            return {"estimate": _finite(self.estimate), "low": _finite(self.low), "high": _finite(self.high),
                    "reliable": True, "reasons": list(self.reasons)}
        return {"estimate": None, "low": None, "high": None, "reliable": False,
                "reasons": list(self.reasons) or [self.reason]}


@dataclass(frozen=True)
class GroupSummary:
    """One group (recovered, comparison, everyone): counts, the H-day return rate among those
    followed up for the whole horizon, Kaplan-Meier median days to return, revenue after."""

    incidents: int  # analysis units (episodes: incidents of one customer within H days)
    raw_incidents: int  # incidents as recorded
    customers: int
    eligible: int
    returned: int
    return_rate: float | None
    km_median_days: float | None  # None when the curve never reaches one half
    km_median_ci: tuple[float | None, float | None]
    revenue_after_cents: int

    def to_json(self) -> dict[str, Any]:
        return {"episodes": self.incidents, "incidents": self.raw_incidents, "customers": self.customers,
                "eligible": self.eligible, "returned": self.returned, "return_rate": _finite(self.return_rate),
                "km_median_days": _finite(self.km_median_days),
                "km_median_ci": [_finite(v) for v in self.km_median_ci],
                "revenue_after_cents": self.revenue_after_cents}


@dataclass(frozen=True)
class PayoffResult:
    """Did recovery keep customers, and did it pay? Every figure with its verdict."""

    horizon_days: int
    recovery_window_hours: int
    margin: float
    as_of: str  # ISO time
    overall: GroupSummary
    recovered: GroupSummary
    comparison: GroupSummary
    naive_uplift: float | None  # as observed, not adjusted (labelled raw wherever shown)
    return_uplift: Figure  # adjusted difference in H-day return rate, recovered episodes (ATT)
    revenue_uplift_cents: Figure  # adjusted revenue difference per recovered episode (ATT)
    incremental_revenue_cents: Figure  # revenue_uplift x recovered episodes (gross)
    incremental_margin_cents: Figure  # at the contribution margin
    customers_kept: Figure  # return uplift x distinct recovered customers
    return_on_spend: Figure  # (incremental margin - spend) / spend
    cost_of_inaction_cents: Figure  # margin lost where nobody acted, net of what recovering would cost
    spend_cents: int  # gestures within the recovery window
    method: str  # the technical description
    assumptions: str  # the same in plain words
    incremental_revenue_winsorised_cents: Figure = Figure.withheld()  # revenue clipped at the percentile
    winsor_percentile: float = 99.0
    negative_control_cents: Figure = Figure.withheld()  # per episode, revenue in the H days before
    balance: pd.DataFrame = field(default_factory=pd.DataFrame)  # diagnostics.balance_table
    overlap: pd.DataFrame = field(default_factory=pd.DataFrame)  # diagnostics.overlap_frame
    e_value: float | None = None  # analytics.sensitivity
    e_value_limit: float | None = None
    roi_tipping_share: float | None = None
    warnings: tuple[str, ...] = field(default_factory=tuple)
    late_gestures: int = 0  # live gestures after the recovery window: not counted as recoveries
    early_gestures: int = 0  # dated before their incident: never counted
    # restricted mean time without return up to H days (analytics.time_to_return), as observed
    rmst_recovered_days: Figure = Figure.withheld()
    rmst_comparison_days: Figure = Figure.withheld()
    rmst_difference_days: Figure = Figure.withheld()  # recovered minus comparison (negative: back sooner)

    @property
    def figures(self) -> dict[str, Figure]:
        return {"return_uplift": self.return_uplift, "revenue_uplift_cents": self.revenue_uplift_cents,
                "incremental_revenue_cents": self.incremental_revenue_cents,
                "incremental_margin_cents": self.incremental_margin_cents,
                "incremental_revenue_winsorised_cents": self.incremental_revenue_winsorised_cents,
                "customers_kept": self.customers_kept, "return_on_spend": self.return_on_spend,
                "cost_of_inaction_cents": self.cost_of_inaction_cents,
                "rmst_recovered_days": self.rmst_recovered_days, "rmst_comparison_days": self.rmst_comparison_days,
                "rmst_difference_days": self.rmst_difference_days}

    @property
    def margin_label(self) -> str:
        return f"at a {self.margin:.0%} contribution margin"

    def to_json(self) -> dict[str, Any]:
        """Plain JSON types; an unreliable figure carries no number, only its reasons."""
        return {
            "horizon_days": self.horizon_days,
            "recovery_window_hours": self.recovery_window_hours,
            "contribution_margin": self.margin,
            "as_of": self.as_of,
            "overall": self.overall.to_json(),
            "recovered": self.recovered.to_json(),
            "comparison": self.comparison.to_json(),
            "naive_uplift": _finite(self.naive_uplift),
            **{name: figure.to_json() for name, figure in self.figures.items()},
            "winsor_percentile": self.winsor_percentile,
            "negative_control_cents": self.negative_control_cents.to_json(),
            "balance": [{"feature": row.feature, "smd_before": _finite(row.smd_before),
                         "smd_after_att": _finite(row.smd_after_att), "smd_after_atc": _finite(row.smd_after_atc)}
                        for row in self.balance.itertuples()],
            "e_value": _finite(self.e_value),
            "e_value_limit": _finite(self.e_value_limit),
            "roi_tipping_share": _finite(self.roi_tipping_share),
            "spend_cents": self.spend_cents,
            "late_gestures": self.late_gestures,
            "early_gestures": self.early_gestures,
            "method": self.method,
            "assumptions": self.assumptions,
            "warnings": list(self.warnings),
        }
