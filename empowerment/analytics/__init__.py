"""Recovery analytics: did gestures keep customers, and did they pay? Pure numpy/pandas over
DataFrames: they never touch the database or import the rest of the package (import-linter checks)."""

from empowerment.analytics.adjust import EffectEstimate, adjusted_effect, adjusted_effects
from empowerment.analytics.breakdowns import (
    km_curves_frame,
    return_rate_by_cost_band,
    return_rates_by,
    spend_vs_revenue_over_time,
    wilson_interval,
)
from empowerment.analytics.linking import link_incidents
from empowerment.analytics.payoff import compute_payoff, json_safe
from empowerment.analytics.result import Figure, GroupSummary, PayoffRequest, PayoffResult
from empowerment.analytics.survival import KMResult, LogRankResult, kaplan_meier, logrank
from empowerment.analytics.synthetic import make_synthetic

__all__ = [
    "EffectEstimate",
    "Figure",
    "GroupSummary",
    "KMResult",
    "LogRankResult",
    "PayoffRequest",
    "PayoffResult",
    "adjusted_effect",
    "adjusted_effects",
    "compute_payoff",
    "json_safe",
    "kaplan_meier",
    "km_curves_frame",
    "link_incidents",
    "logrank",
    "make_synthetic",
    "return_rate_by_cost_band",
    "return_rates_by",
    "spend_vs_revenue_over_time",
    "wilson_interval",
]
