"""`payoff`: did recovery keep customers, and did it pay? (the Payoff page's figures)

    python -m empowerment payoff --horizon 90 --from 2024-01-01 --to 2024-03-31 --format json

JSON is `analytics.compute_payoff`'s result (`PayoffResult.to_json`: a figure that is not reliable
carries no number, only its reasons); the table is a readable summary of it, in the same words as
the page (`reports.wording`).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from empowerment import settings
from empowerment.actor import Actor
from empowerment.analytics import PayoffRequest, PayoffResult, compute_payoff, what_works
from empowerment.analytics.linking import OUTCOME_HORIZONS
from empowerment.analytics.result import Figure, GroupSummary
from empowerment.cli.common import (
    add_command,
    day_or_time,
    fits,
    known_location,
    opened_db,
    print_json,
    print_table,
)
from empowerment.errors import InvalidInput
from empowerment.models.vocabulary import GESTURE_TYPE, INCIDENT_CATEGORY
from empowerment.money import format_money
from empowerment.queries.frames import DEFAULT_LOOKBACK_DAYS, load_analytics_frames
from empowerment.queries.vocabulary import vocabulary

GROUPS = (("recovered", "Recovered"), ("comparison", "Not recovered"), ("overall", "All incidents"))
MAX_HORIZON_DAYS = 3650  # ten years of follow-up: longer is no longer "what happened next"
MAX_BOOTSTRAP = 10_000
SYSTEM = Actor.system("cli")
BY = {"gesture-type": "first_gesture_type", "category": "category", "team": "team", "cost-band": "cost_band",
      "follow-up": "follow_up"}


def money(cents: Any) -> str:
    """Minor units of the reporting currency (the payoff crosses locations); '—' when unknown."""
    return format_money(None if cents is None else int(round(cents)), settings.reporting_currency())


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
    parser.add_argument("--fresh", action="store_true",
                        help="work the figures out afresh instead of reading those stored for the data as "
                        "it is now (the same figures; for checking)")
    parser.add_argument("--by", choices=tuple(BY), action="append", metavar="GROUPS",
                        help="also break the return uplift down, adjusted, by one of: " + ", ".join(BY)
                        + " (repeat for several); in JSON under 'what_works'")


def handler(args: argparse.Namespace) -> int:
    options = _checked(args)
    if _stored_figures_apply(args, options):
        return _from_stored(args, options)
    with opened_db(args) as db:
        if args.location:
            args.location = known_location(db, args.location)
        frames = load_analytics_frames(
            db, date_from=options["date_from"], date_to=options["date_to"],
            location=args.location, team=args.team, as_of=options["as_of"],
            lookback_days=max(DEFAULT_LOOKBACK_DAYS, args.horizon + 1),
            outcomes=(args.horizon,) if args.horizon in OUTCOME_HORIZONS else False,
        )
        vocab = vocabulary(db) if args.by else None
    current = settings.current()
    request = PayoffRequest(
        horizon_days=args.horizon, as_of=frames.as_of, date_from=options["date_from"],
        date_to=options["date_to"], location=args.location, team=args.team,
        bootstrap=args.bootstrap, seed=args.seed,
        recovery_window_hours=current.recovery_window_hours, margin=current.contribution_margin,
    )
    report = compute_payoff(frames.incidents, frames.gestures, frames.transactions, frames.customers, request)
    bootstrap = min(args.bootstrap, what_works.WHAT_WORKS_BOOTSTRAP) if args.bootstrap else 0
    breakdowns = {name: what_works.payoff_breakdown(frames.incidents, frames.gestures, frames.transactions,
                                                    frames.customers, request, BY[name], bootstrap=bootstrap)
                  for name in dict.fromkeys(args.by or ())}
    if args.format == "json":
        document = report.to_json()
        if breakdowns:
            document["what_works"] = {name: what_works.records(frame) for name, frame in breakdowns.items()}
        print_json(document)
    else:
        print_report(report, _scope_text(args), frames.conversion.note if frames.conversion else "")
        for name, frame in breakdowns.items():
            print_breakdown(frame, BY[name], report.horizon_days, vocab)
    return 0


def _stored_figures_apply(args: argparse.Namespace, options: dict[str, Any]) -> bool:
    """The Payoff page's figures answer this request exactly: its bootstrap and seed, the data as
    it is now, no breakdown asked."""
    from empowerment.reports import computed

    return (not args.fresh and not args.by and options["as_of"] is None and args.seed == 0
            and args.bootstrap == computed.BOOTSTRAP)


def _from_stored(args: argparse.Namespace, options: dict[str, Any]) -> int:
    """The figures stored for this scope on the data as it is now (`reports.computed`: by the
    worker, the page or an earlier run), or worked out and stored for the next reader."""
    from empowerment.queries.frames import data_version
    from empowerment.reports import computed

    current = settings.current()
    with opened_db(args) as db:
        if args.location:
            args.location = known_location(db, args.location)
        scope = computed.PayoffScope(options["date_from"], options["date_to"], args.location, args.team,
                                     args.horizon, current.recovery_window_hours, current.contribution_margin)
        view, note, _ = computed.page_view(db, SYSTEM, data_version(db), scope,
                                           lambda: load_analytics_frames(db, outcomes=True), stale_seconds=0)
    if args.format == "json":
        print_json(view.result.to_json())
    else:
        print_report(view.result, _scope_text(args), note)
    return 0


def print_breakdown(frame: pd.DataFrame, column: str, horizon: int, vocab: Any) -> None:
    """One adjusted breakdown in words: a group without enough cases or a reliable estimate gives
    its reason, never a number."""
    from empowerment.reports import wording  # the reports package pulls in Altair: only for the table

    kind = {"first_gesture_type": GESTURE_TYPE, "category": INCIDENT_CATEGORY}.get(column)
    print()
    print(f"What works, by {what_works.BREAKDOWN_LABELS[column].lower()} (adjusted; each group of recovered "
          "episodes against comparable ones given no gesture):")
    if frame.empty:
        print("  no recovered episodes with full follow-up yet")
    for row in frame.itertuples():
        label = vocab.label(kind, row.level) if kind and vocab is not None else str(row.level)
        print(f"  {label}: {wording.breakdown_text(row, horizon, what_works.MIN_CASES)}")
    print(f"  {what_works.MULTIPLICITY}")


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


def print_report(report: PayoffResult, scope: str = "all incidents", conversion: str = "") -> None:
    from empowerment.reports import wording  # the reports package pulls in Altair: only for the table

    horizon = report.horizon_days
    print(f"Recovery payoff: {horizon}-day horizon, data as of {report.as_of[:16]}; {scope}")
    if conversion:
        print(conversion)
    print(f"Observational estimate (not a randomised trial); money {report.margin_label}; a gesture "
          f"counts within {report.recovery_window_hours} hours of the incident.")
    print()
    print_table(_group_rows(report, horizon))
    print()
    for label, value in summary_lines(report):
        print(f"{label + ':':<28}{value}")
    if not report.balance.empty:
        worst = report.balance.loc[report.balance["smd_after_att"].abs().idxmax()]
        print(f"{'Largest imbalance after':<28}{worst['feature']}: {worst['smd_after_att']:+.2f} SMD "
              f"(before weighting {worst['smd_before']:+.2f}; above 0.1 withholds the adjusted figures)")
    for sentence in wording.sensitivity_sentences(report):
        print(f"{'Hidden bias':<28}{sentence}")
    print()
    print(f"how: {report.assumptions}")
    for warning in report.warnings:
        print(f"note: {warning}")


def _group_rows(report: PayoffResult, horizon: int) -> list[dict[str, Any]]:
    rows = []
    groups: tuple[tuple[GroupSummary, str, Figure | None], ...] = (
        (report.recovered, "Recovered", report.rmst_recovered_days),
        (report.comparison, "Not recovered", report.rmst_comparison_days), (report.overall, "All incidents", None))
    for group, label, waiting in groups:
        rows.append({
            "group": label,
            "incidents": f"{group.raw_incidents:,}",
            "episodes": f"{group.incidents:,}",
            "customers": f"{group.customers:,}",
            "followed up": f"{group.eligible:,}",
            f"back within {horizon}d": f"{group.returned:,}",
            "return rate": percent(group.return_rate),
            "median days to return": days(group.km_median_days),
            f"avg days not back (of {horizon})": "—" if waiting is None else
            (f"{waiting.estimate:.1f}" if waiting.shown and waiting.estimate is not None else "not shown"),
            f"revenue in {horizon}d": money(group.revenue_after_cents),
        })
    return rows


def summary_lines(report: PayoffResult) -> Sequence[tuple[str, str]]:
    """Each figure in words; a figure that is not reliable shows its reason, never a number."""
    from empowerment.reports import wording

    raw = points(report.naive_uplift)
    return (
        ("Return difference (raw)", raw + ("" if report.naive_uplift is None else ", as observed, not adjusted")),
        ("Return uplift (adjusted)", wording.figure_text(report.return_uplift, "points")),
        ("Spend on gestures", money(report.spend_cents)),
        ("Incremental revenue", wording.figure_text(report.incremental_revenue_cents, "money")),
        ("Incremental revenue, capped", wording.figure_text(report.incremental_revenue_winsorised_cents, "money")
         + f" (customer revenue capped at the {report.winsor_percentile:.0f}th percentile)"),
        ("Incremental margin", wording.figure_text(report.incremental_margin_cents, "money")),
        ("Customers kept", wording.figure_text(report.customers_kept, "count")),
        ("Return on spend", wording.figure_text(report.return_on_spend, "percent")),
        ("Cost of inaction", wording.figure_text(report.cost_of_inaction_cents, "money")),
        ("Days not back, recovered", wording.figure_text(report.rmst_recovered_days, "days")
         + f" (average of the first {report.horizon_days} days, as observed)"),
        ("Days not back, others", wording.figure_text(report.rmst_comparison_days, "days")),
        ("Days not back, difference", wording.figure_text(report.rmst_difference_days, "day_difference")
         + ("" if not report.rmst_difference_days.shown else " (raw, not adjusted)")),
    )
