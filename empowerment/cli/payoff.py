"""`payoff`: did recovery keep customers, and did it pay? (the Payoff page's figures)

    python -m empowerment payoff --horizon 90 --from 2024-01-01 --to 2024-03-31 --format json

JSON is exactly `analytics.compute_payoff`'s dict; the table is a readable summary of it.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from empowerment.analytics import compute_payoff
from empowerment.cli.common import (
    add_command,
    day_or_time,
    fits,
    known_location,
    open_db,
    print_json,
    print_table,
)
from empowerment.errors import InvalidInput
from empowerment.money import format_money
from empowerment.queries.frames import DEFAULT_LOOKBACK_DAYS, load_analytics_frames

GROUPS = (("recovered", "Recovered"), ("comparison", "Not recovered"), ("overall", "All incidents"))
MAX_HORIZON_DAYS = 3650  # ten years of follow-up: longer is no longer "what happened next"
MAX_BOOTSTRAP = 10_000


def money(cents: Any) -> str:
    """Cents in the installation's currency (EMPOWERMENT_CURRENCY); '—' when unknown."""
    return format_money(None if cents is None else int(round(cents)))


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = add_command(
        subparsers, "payoff", handler,
        help="Did recovery keep customers, and did it pay? (return rates, adjusted uplift, money)",
        description="Compare incidents that got a recovery gesture with those that did not: "
        "H-day return rates, time to return, the covariate-adjusted uplift (an observational "
        "estimate, not a randomised trial), spend, incremental revenue and the cost of inaction.",
    )
    parser.add_argument("--horizon", type=int, default=90,
                        metavar="DAYS", help=f"follow-up window in days (default 90, at most {MAX_HORIZON_DAYS:,})")
    parser.add_argument("--as-of", dest="as_of", metavar="T",
                        help="analyse the data as it was at T (default: the latest transaction)")
    parser.add_argument("--from", dest="date_from", metavar="D", help="first incident day")
    parser.add_argument("--to", dest="date_to", metavar="D", help="last incident day (inclusive)")
    parser.add_argument("--location", help="only incidents at this location (its name)",
                        type=fits(200, "--location"))
    parser.add_argument("--team", help="only incidents of this team (its name)", type=fits(200, "--team"))
    parser.add_argument("--bootstrap", type=int, default=200, metavar="N",
                        help="bootstrap draws for the confidence intervals (default 200; 0 = none)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--format", choices=("table", "json"), default="table",
                        help="table (default) or json (compute_payoff's dict)")


def handler(args: argparse.Namespace) -> int:
    options = _checked(args)
    db = open_db(args)
    try:
        if args.location:
            args.location = known_location(db, args.location)
        frames = load_analytics_frames(
            db, date_from=options["date_from"], date_to=options["date_to"],
            location=args.location, team=args.team, as_of=options["as_of"],
            lookback_days=max(DEFAULT_LOOKBACK_DAYS, args.horizon + 1),
        )
    finally:
        db.dispose()
    report = compute_payoff(
        frames.incidents, frames.gestures, frames.transactions, frames.customers,
        horizon_days=args.horizon, as_of=frames.as_of, date_from=options["date_from"],
        date_to=options["date_to"], location=args.location, team=args.team,
        bootstrap=args.bootstrap, seed=args.seed,
    )
    if args.format == "json":
        print_json(report)
    else:
        print_report(report, _scope_text(args))
    return 0


def _checked(args: argparse.Namespace) -> dict[str, Any]:
    if args.horizon <= 0:
        raise InvalidInput("--horizon must be a positive number of days, for example 90.")
    if args.horizon > MAX_HORIZON_DAYS:
        raise InvalidInput(f"--horizon is {args.horizon:,} days; the most is {MAX_HORIZON_DAYS:,} (ten years).")
    if args.bootstrap < 0:
        raise InvalidInput("--bootstrap must be 0 or more draws.")
    if args.bootstrap > MAX_BOOTSTRAP:
        raise InvalidInput(f"--bootstrap is {args.bootstrap:,} draws; the most is {MAX_BOOTSTRAP:,}.")
    return {name: _timestamp(getattr(args, name), flag)
            for name, flag in (("date_from", "--from"), ("date_to", "--to"), ("as_of", "--as-of"))}


def _timestamp(text: str | None, flag: str) -> pd.Timestamp | None:
    moment = day_or_time(text, flag)  # "now" and "today" are refused
    return None if moment is None else pd.Timestamp(moment)


def _scope_text(args: argparse.Namespace) -> str:
    parts = []
    if args.date_from or args.date_to:
        parts.append(f"incidents {args.date_from or 'start'} to {args.date_to or 'now'}")
    parts.extend(f"{name} {value}" for name, value in (("location", args.location),
                                                       ("team", args.team)) if value)
    return ", ".join(parts) or "all incidents"


# --------------------------------------------------------------------------------------------
# The table


def points(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:+.1f} points"


def percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def days(value: float | None) -> str:
    if value is None:
        return "—"
    return "not reached" if math.isinf(value) else f"{value:.0f}"


def ci(low: Any, high: Any, fmt: Any) -> str:
    if low is None or high is None:
        return ""
    return f" (95% CI {fmt(low)} to {fmt(high)})"


def print_report(report: dict[str, Any], scope: str = "all incidents") -> None:
    horizon = report["horizon_days"]
    print(f"Recovery payoff: {horizon}-day horizon, data as of {str(report['as_of'])[:16]}; {scope}")
    print()
    print_table(_group_rows(report, horizon))
    print()
    for label, value in summary_lines(report):
        print(f"{label + ':':<28}{value}")
    if report.get("warnings"):
        print()
        for warning in report["warnings"]:
            print(f"note: {warning}")


def _group_rows(report: dict[str, Any], horizon: int) -> list[dict[str, Any]]:
    rows = []
    for key, label in GROUPS:
        group = report[key]
        rows.append({
            "group": label,
            "incidents": f"{group['incidents']:,}",
            "followed up": f"{group['eligible']:,}",
            f"back within {horizon}d": f"{group['returned']:,}",
            "return rate": percent(group["return_rate"]),
            "median days to return": days(group["km_median_days"]),
            f"revenue in {horizon}d": money(group["revenue_after_cents"]),
        })
    return rows


def summary_lines(report: dict[str, Any]) -> Sequence[tuple[str, str]]:
    uplift = report["adjusted_uplift"]
    if uplift["reliable"] and uplift["estimate"] is not None:
        adjusted = points(uplift["estimate"])
        if uplift["ci_low"] is not None and uplift["ci_high"] is not None:
            adjusted += f" (95% CI {uplift['ci_low'] * 100:+.1f} to {uplift['ci_high'] * 100:+.1f} points)"
    else:
        adjusted = "not estimated: the groups do not overlap enough to compare them fairly"
    return (
        ("Return uplift (naive)", points(report["naive_uplift"])),
        ("Return uplift (adjusted)", adjusted),
        ("Spend on gestures", money(report["spend_cents"])),
        ("Incremental revenue", _money_with_ci(report, "incremental_revenue_cents")),
        ("Customers kept", _count(report["customers_kept"])
         + ci(report["customers_kept_ci_low"], report["customers_kept_ci_high"], _count)),
        ("Return on spend", _ratio(report["return_on_spend"])
         + ci(report["return_on_spend_ci_low"], report["return_on_spend_ci_high"], _ratio)),
        ("Cost of inaction", _money_with_ci(report, "cost_of_inaction_cents")),
    )


def _money_with_ci(report: dict[str, Any], key: str) -> str:
    return money(report[key]) + ci(report[f"{key}_ci_low"], report[f"{key}_ci_high"], money)


def _count(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:+.0f}%"
