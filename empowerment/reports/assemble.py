"""Build the joint report: one `JointReport` from the database, for HR and CX leads together.

Read side only (`empowerment.queries` for the analysis frames, `metrics` for the empowerment
SQL, `empowerment.analytics` for the payoff, stored once per data version by `reports.computed`);
the only write is the audit record made when someone chooses to include customer names (and the
stored figures' copy and read mark, which change no data). Every output (page, PDF, XLSX, CSV, HTML) is drawn
from the object this returns, so the figures are identical everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from empowerment import access, settings
from empowerment.actor import Actor
from empowerment.analytics import PayoffResult, wilson_interval
from empowerment.charts import payoff as payoff_charts
from empowerment.charts import report as report_charts
from empowerment.clock import utc_now
from empowerment.db import Database
from empowerment.queries import report_metrics
from empowerment.reports import computed
from empowerment.reports.care_section import care_tables
from empowerment.reports.model import (
    JointReport,
    ReportChart,
    ReportWindow,
    resolve_window,
)
from empowerment.reports.privacy import Pseudonymiser
from empowerment.reports.summary import summarise
from empowerment.reports.tables import MIN_TEAM_FOLLOWED_UP, build_tables, incident_rows
from empowerment.services.report_access import record_identity_access


def check_access(actor: Actor, include_identities: bool = False) -> None:
    """HR, CX leads and admins read the joint report; customer names only when asked for."""
    access.require(actor, "report.read")
    if include_identities:
        access.require(actor, "report.identities")


@dataclass(frozen=True)
class ReportRequest:
    """Which joint report: a period ("2026-Q3", "2026-07", "2026") or dates (both inclusive), a
    location, and whether customer names are shown beside the pseudonyms."""

    period: str | None = None
    date_from: Any = None
    date_to: Any = None
    location: str | None = None
    include_identities: bool = False
    record_access: bool = True  # the page records the names' use itself, once per view
    horizon_days: int = 90
    bootstrap: int = 200
    secret: str | None = None  # keys the pseudonyms; the installation's secret by default


def build_joint_report(db: Database, actor: Actor, request: ReportRequest) -> JointReport:
    """The joint report. `include_identities` is refused for other roles and recorded in the
    audit log."""
    period, date_from, date_to, location = request.period, request.date_from, request.date_to, request.location
    include_identities, record_access = request.include_identities, request.record_access
    horizon_days, bootstrap, secret = request.horizon_days, request.bootstrap, request.secret
    check_access(actor, include_identities)
    window = resolve_window(period, date_from, date_to)
    report_charts.warm_up()  # the PDF and HTML draw charts: start their engine while the data loads
    with db.read() as session:
        location = report_metrics.location_name(session, location)
    if include_identities and record_access:
        record_identity_access(db, actor, window, location)
    payoff, linked, conversion = _outcomes(db, actor, window, location, horizon_days, bootstrap)
    scope = report_metrics.Scope(window.start, window.end, location)
    with db.read() as session:
        staff = report_metrics.staff_activity(session, scope)
        turnaround = report_metrics.turnaround_rows(session, scope)
        stories = report_metrics.story_rows(session, scope)
        customers = report_metrics.customer_labels(session, sorted(set(linked["customer_id"].astype(int))),
                                            with_names=include_identities)
    pseudonyms = Pseudonymiser(secret)
    tables = build_tables(staff, turnaround, stories, linked, payoff, pseudonyms, include_identities)
    tables.update(care_tables(db, actor, window, location))  # issue 13: values lived, friction
    report = JointReport(
        window=window,
        location=location,
        include_identities=include_identities,
        generated_at=utc_now(),
        as_of=payoff.as_of,
        horizon_days=horizon_days,
        summary=[],
        tables=tables,
        charts={},
        rows=incident_rows(linked, customers, pseudonyms, include_identities),
        payoff=payoff,
        warnings=[*([conversion] if conversion else []), *payoff.warnings],
    )
    report.charts.update(_charts(report))
    report.summary.extend(summarise(report))
    return report

# --- customer outcomes and charts -------------------------------------------------------------


def _outcomes(db: Database, actor: Actor, window: ReportWindow, location: str | None, horizon_days: int,
              bootstrap: int) -> tuple[PayoffResult, pd.DataFrame, str]:
    """The payoff and its linked rows, and the sentence saying what was converted into the
    reporting currency ("" when nothing was): stored once per data version for every process
    (`reports.computed`), and kept fresh by the worker while people read it."""
    from empowerment.queries.frames import data_version

    current = settings.current()
    scope = computed.ReportScope(window.start, window.last_day, location, horizon_days, bootstrap,
                                 current.recovery_window_hours, current.contribution_margin)
    return computed.report_outcomes(db, actor, data_version(db), scope)


def _charts(report: JointReport) -> dict[str, ReportChart]:
    bands = report.tables["budget_bands"].frame.iloc[:-1]
    groups = _rate_intervals(report.payoff)
    teams = report.tables["teams"].frame.iloc[:-1]
    teams = teams[teams["Followed up"] >= MIN_TEAM_FOLLOWED_UP]
    scatter = pd.DataFrame({"number": teams["#"].astype(int).astype(str), "team": teams["Team"],
                            "share_recovered": teams["Share recovered"],
                            "return_rate": teams["Return rate"], "followed_up": teams["Followed up"],
                            "budget_used": teams["Budget used"]})
    built = [
        ReportChart("budget_bands", "How much of their budget people used", "Empowerment",
                    "People by the share of their budget they spent in the period.",
                    report_charts.budget_bands_chart(pd.DataFrame({"band": bands["Budget used"], "staff": bands["People"]}))),
        ReportChart("outcome_groups", "Recovered customers vs the rest", "Customer outcomes",
                    f"Share who came back within {report.horizon_days} days, with 95 % intervals (as observed, "
                    "not adjusted).", report_charts.return_rates_chart(groups, report.horizon_days)),
        ReportChart("balance", "Were the groups alike before the incident?", "Customer outcomes",
                    "How likely a gesture was for each episode, from what was known before it (recovered above, "
                    "not recovered below). Where one group has no counterpart, no fair comparison is possible.",
                    payoff_charts.overlap_chart(report.payoff.overlap)),
        ReportChart("teams", "Do the teams that act more keep more customers?", "Teams side by side",
                    f"One dot per team with at least {MIN_TEAM_FOLLOWED_UP} incidents followed up, numbered "
                    "as in the table below; dot size is the number followed up.", report_charts.teams_scatter(scatter)),
    ]
    return {chart.key: chart for chart in built}


def _rate_intervals(payoff: PayoffResult) -> pd.DataFrame:
    rows = [(label, group.returned, group.eligible)
            for group, label in ((payoff.recovered, "Recovered"), (payoff.comparison, "Not recovered"))]
    returned = np.array([r[1] for r in rows], dtype=float)
    eligible = np.array([r[2] for r in rows], dtype=float)
    low, high = wilson_interval(returned, eligible)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = returned / eligible
    frame = pd.DataFrame({"group": [r[0] for r in rows], "rate": rate, "ci_low": low, "ci_high": high,
                          "n": eligible.astype("int64")})
    return frame.replace({np.nan: None})


