"""The payoff's figures in words people read, one way everywhere (page, command line, every report
format): money rounded to what matters, "between $5k and $145k" instead of "95% CI", "could be
zero" when the interval includes zero, and the reason instead of a number for a figure that is not
reliable. Nothing here prints an unreliable figure: every function checks `Figure.shown`.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from empowerment import labels, money, settings
from empowerment.analytics.result import Figure, PayoffResult

OBSERVATIONAL = ("Observational estimate, adjusted for purchases and spend in the year before, tenure, "
                 "incident category and location; not a randomised trial.")
# Phrases that claim a cause the data cannot show (issue 12): tests check no output contains them.
CAUSAL_PHRASES = ("recovery itself accounts for", "the business lost", "it kept about", "due to recovery",
                  "caused by recovery", "kept by recovery")


def round_money(cents: float, symbol: str | None = None) -> str:
    """Two significant figures, with k and M: $950, $12k, $145k, $1.2M (a finance reader's rounding)."""
    symbol = money.currency_symbol(settings.reporting_currency()) if symbol is None else symbol
    units = cents / 10.0 ** money.minor_digits(settings.reporting_currency())  # yen have no cents
    sign = "-" if units < 0 else ""
    size = abs(units)
    if size == 0:
        return f"{symbol}0"
    digits = 2 - int(math.floor(math.log10(size))) - 1
    rounded = round(size, digits)
    for threshold, suffix in ((1e6, "M"), (1e3, "k")):
        if rounded >= threshold:
            value = rounded / threshold
            text = f"{value:,.1f}".rstrip("0").rstrip(".") if value < 10 else f"{value:,.0f}"
            return f"{sign}{symbol}{text}{suffix}"
    return f"{sign}{symbol}{rounded:,.0f}"


def points(value: float) -> str:
    return f"{value * 100:+.1f} points"


def percent(value: float) -> str:
    return f"{value * 100:+.0f}%"


def count(value: float) -> str:
    return f"{value:,.0f}"


def days(value: float) -> str:
    return f"{value:.1f} days"


def day_difference(value: float) -> str:
    return f"{value:+.1f} days"


FORMATS: dict[str, Callable[[float], str]] = {"money": round_money, "points": points, "percent": percent, "count": count,
                                              "days": days, "day_difference": day_difference}


def time_without_return_text(result: PayoffResult) -> str:
    """One sentence for the RMST figures (as observed): each group's average days without a
    return up to H, and the difference; the reason instead of any figure not shown."""
    horizon = result.horizon_days
    recovered, comparison, gap = result.rmst_recovered_days, result.rmst_comparison_days, result.rmst_difference_days
    if not (recovered.shown and comparison.shown):
        shown = recovered if not recovered.shown else comparison
        return f"Average time without return up to {horizon} days: not shown: {shown.reason}"
    text = (f"Of the first {horizon} days, recovered customers spent on average {figure_text(recovered, 'days')} "
            f"without coming back; unrecovered ones {figure_text(comparison, 'days')}")
    if gap.shown:
        text += f"; a difference of {figure_text(gap, 'day_difference')}"
    return text + " (as observed, not adjusted)."


def value_text(figure: Figure, unit: str) -> str:
    """The estimate alone ("$12k", "+4.1 points"), or the reason when it may not be shown."""
    if not figure.shown or figure.estimate is None:
        return f"not shown: {figure.reason}"
    return FORMATS[unit](figure.estimate)


def range_text(figure: Figure, unit: str) -> str:
    """'between $5k and $145k' (plus 'could be zero' when the range includes zero); '' if not shown."""
    if not figure.shown or figure.low is None or figure.high is None:
        return ""
    fmt = FORMATS[unit]
    text = f"between {fmt(figure.low)} and {fmt(figure.high)}"
    return text + "; could be zero" if figure.could_be_zero else text


def figure_text(figure: Figure, unit: str) -> str:
    """'$12k (between $5k and $145k)' or 'not shown: <reason>'."""
    if not figure.shown:
        return value_text(figure, unit)
    return f"{value_text(figure, unit)} ({range_text(figure, unit)})"


def sensitivity_sentences(result: PayoffResult) -> list[str]:
    """The E-value and the ROI tipping point in one plain sentence each (only for figures shown)."""
    lines = []
    if result.return_uplift.shown and result.e_value is not None:
        text = (f"A hidden factor would have to make recovery and return each about {result.e_value:.1f} times as "
                "likely to explain this association away")
        if result.e_value_limit is not None:
            text += (", and the range already includes no effect" if result.e_value_limit <= 1.0 else
                     f" ({result.e_value_limit:.1f} times to bring the range to include no effect)")
        lines.append(text + " (E-value, VanderWeele and Ding 2017).")
    if result.return_on_spend.shown and result.roi_tipping_share is not None:
        lines.append(f"The return on spend would fall to zero if hidden bias accounted for "
                     f"{result.roi_tipping_share:.0%} of the estimated extra margin.")
    return lines


# --- what works (adjusted breakdowns: the Payoff page, the command line, the tablet) -----------------

def breakdown_figure(row: object) -> Figure:
    """One row of `analytics.what_works` (estimate, low, high, reliable, reason) as a figure."""
    def number(name: str) -> float | None:
        value = getattr(row, name, None)
        return None if value is None or not math.isfinite(float(value)) else float(value)

    reason = str(getattr(row, "reason", "") or "")
    return Figure(number("estimate"), number("low"), number("high"), bool(getattr(row, "reliable", False)),
                  (reason,) if reason else ())


def _shown_breakdown(row: object, minimum: int) -> tuple[int, Figure | None]:
    """The row's cases, and its figure when it may be printed (enough cases, reliable, an interval)."""
    cases = int(getattr(row, "cases", 0) or 0)
    figure = breakdown_figure(row)
    return cases, figure if cases >= minimum and figure.shown else None


def breakdown_text(row: object, horizon_days: int, minimum: int) -> str:
    """A what-works row in plain words: 'associated with 6.0 points more customers back within 90
    days than comparable customers given no gesture (between +2.1 and +9.8 points; 412 cases)', or
    'not enough cases yet (12 so far, 30 needed)', or 'no estimate: <reason>'. Never a number for
    an unreliable row."""
    cases, figure = _shown_breakdown(row, minimum)
    if cases < minimum:
        return f"not enough cases yet ({cases:,} so far, {minimum} needed)"
    if figure is None or figure.estimate is None or figure.low is None or figure.high is None:
        return f"no estimate: {breakdown_figure(row).reason.rstrip('.')} ({labels.count(cases, 'case')})"
    direction = "more" if figure.estimate >= 0 else "fewer"
    limits = f"between {figure.low * 100:+.1f} and {figure.high * 100:+.1f} points"
    if figure.could_be_zero:
        limits += ", could be zero"
    p_holm = getattr(row, "p_holm", None)
    clear = (not figure.could_be_zero and p_holm is not None and math.isfinite(float(p_holm))
             and float(p_holm) < 0.05)
    return (f"associated with {abs(figure.estimate) * 100:.1f} points {direction} customers back within "
            f"{horizon_days} days than comparable customers given no gesture ({limits}; {labels.count(cases, 'case')})"
            + ("; clear after Holm's correction" if clear else ""))


def breakdown_short(row: object, minimum: int, plain_reason: str) -> str:
    """A what-works row in a few words, for the tablet (the sentence around it says what the
    points mean): '+13.4 points (between +5.5 and +22.2; 140 cases)', 'not enough cases yet (12
    so far)', or the plain reason for an unreliable row. Never a number for an unreliable row."""
    cases, figure = _shown_breakdown(row, minimum)
    if cases < minimum:
        return f"not enough cases yet ({cases:,} so far)"
    if figure is None or figure.estimate is None or figure.low is None or figure.high is None:
        return f"{plain_reason} ({labels.count(cases, 'case')})"
    zero = ", could be zero" if figure.could_be_zero else ""
    return (f"{figure.estimate * 100:+.1f} points (between {figure.low * 100:+.1f} and {figure.high * 100:+.1f}"
            f"{zero}; {labels.count(cases, 'case')})")
