"""Build the joint report: one `JointReport` from the database, for HR and CX leads together.

Read side only (`empowerment.queries` for the analysis frames, `metrics` for the empowerment
SQL, `empowerment.analytics` for the payoff); the only write is the audit record made when
someone chooses to include customer names. Every output (page, PDF, XLSX, CSV, HTML) is drawn
from the object this returns, so the figures are identical everywhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from empowerment import audit
from empowerment.actor import Actor
from empowerment.analytics import compute_payoff, link_incidents, wilson_interval
from empowerment.analytics.payoff import filter_incidents
from empowerment.db import Database
from empowerment.models import Role
from empowerment.reports import charts, metrics
from empowerment.reports.model import (
    JointReport,
    ReportChart,
    ReportTable,
    ReportWindow,
    currency_symbol,
    format_value,
    resolve_window,
)
from empowerment.reports.privacy import Pseudonymiser

REPORT_ROLES = frozenset({Role.HR, Role.CX_LEAD, Role.ADMIN})
IDENTITY_ROLES = frozenset({Role.HR, Role.CX_LEAD, Role.ADMIN})
BANDS = ((0.0, "Not used"), (0.25, "Up to 25 %"), (0.50, "25–50 %"), (0.75, "50–75 %"), (np.inf, "75–100 %"))
MIN_TEAM_FOLLOWED_UP = 10  # a team's return rate needs this many followed-up incidents to compare
UNKNOWN_TEAM = "(no team)"


def check_access(actor: Actor, include_identities: bool = False) -> None:
    """HR, CX leads and admins read the joint report; customer names only when asked for."""
    actor.require(actor.role in REPORT_ROLES, "open the joint report")
    if include_identities:
        actor.require(actor.role in IDENTITY_ROLES, "see customer names in reports")


def record_identity_access(db: Database, actor: Actor, window: ReportWindow, location: str | None,
                           purpose: str = "report") -> None:
    """Customer names were chosen: say who, when, for which period and place."""
    check_access(actor, include_identities=True)
    with db.write() as session:
        audit.record(session, actor, "report.identities_included", "joint_report", window.label,
                     dict(period=window.label, start=window.start, end=window.last_day,
                          location=location, purpose=purpose))


def build_joint_report(
    db: Database,
    actor: Actor,
    *,
    period: str | None = None,
    date_from: Any = None,
    date_to: Any = None,
    location: str | None = None,
    include_identities: bool = False,
    record_access: bool = True,
    horizon_days: int = 90,
    bootstrap: int = 200,
    secret: str | None = None,
) -> JointReport:
    """The joint report for a period ("2026-Q3", "2026-07", "2026") or dates (both inclusive).

    `include_identities` shows real customer names beside the pseudonyms; it is refused for
    other roles and recorded in the audit log (the page records it itself once per view and
    passes `record_access=False` to its cached build)."""
    check_access(actor, include_identities)
    window = resolve_window(period, date_from, date_to)
    if include_identities and record_access:
        record_identity_access(db, actor, window, location)
    payoff, linked = _outcomes(db, window, location, horizon_days, bootstrap)
    scope = metrics.Scope(window.start, window.end, location)
    with db.read() as session:
        staff = metrics.staff_activity(session, scope)
        turnaround = metrics.turnaround_rows(session, scope)
        stories = metrics.story_rows(session, scope)
        customers = metrics.customer_codes(session, sorted(set(linked["customer_id"].astype(int))))
    pseudonyms = Pseudonymiser(secret)
    tables = _tables(staff, turnaround, stories, linked, payoff, pseudonyms, include_identities)
    report = JointReport(
        window=window,
        location=location,
        include_identities=include_identities,
        generated_at=datetime.now().replace(microsecond=0),
        as_of=str(payoff["as_of"]),
        horizon_days=horizon_days,
        summary=[],
        tables=tables,
        charts={},
        rows=_incident_rows(linked, customers, pseudonyms, include_identities),
        payoff=payoff,
        warnings=list(payoff.get("warnings") or []),
    )
    report.charts.update(_charts(report))
    report.summary.extend(summarise(report, staff, turnaround))
    return report


# --- customer outcomes ------------------------------------------------------------------------


def _outcomes(db: Database, window: ReportWindow, location: str | None, horizon_days: int,
              bootstrap: int) -> tuple[dict[str, Any], pd.DataFrame]:
    from empowerment.queries import load_analytics_frames

    frames = load_analytics_frames(db, date_from=window.start, date_to=window.last_day,
                                   location=location, team=None)
    payoff = compute_payoff(frames.incidents, frames.gestures, frames.transactions, frames.customers,
                            horizon_days=horizon_days, date_from=window.start, date_to=window.last_day,
                            bootstrap=bootstrap)
    scoped = filter_incidents(frames.incidents, window.start, window.last_day)
    linked = link_incidents(scoped, frames.gestures, frames.transactions, frames.customers,
                            as_of=pd.Timestamp(payoff["as_of"]), horizon_days=horizon_days)
    return payoff, linked


def _money(cents: Any) -> float:
    return float("nan") if cents is None or pd.isna(cents) else round(float(cents) / 100.0, 2)


def _num(value: Any) -> float:
    return float("nan") if value is None else float(value)


def _group_rows(payoff: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for key, label in (("recovered", "Recovered"), ("comparison", "Not recovered"), ("overall", "All incidents")):
        group = payoff[key]
        rows.append({
            "Group": label,
            "Incidents": int(group["incidents"]),
            "Followed up": int(group["eligible"]),
            "Came back": int(group["returned"]),
            "Return rate": _num(group["return_rate"]),
            "Median days to return": _num(group["km_median_days"]),
            f"Revenue in the {payoff['horizon_days']} days after": _money(group["revenue_after_cents"]),
        })
    return pd.DataFrame(rows)


def _payoff_rows(payoff: dict[str, Any]) -> pd.DataFrame:
    adjusted = payoff["adjusted_uplift"]

    def row(measure: str, unit: str, estimate: Any, low: Any = None, high: Any = None,
            money: bool = False) -> dict[str, Any]:
        convert = _money if money else _num
        return {"Measure": measure, "Estimate": convert(estimate), "Low (95 %)": convert(low),
                "High (95 %)": convert(high), "Unit": unit}

    horizon = payoff["horizon_days"]
    rows = [
        row(f"Return within {horizon} days: difference, as observed", "points", payoff["naive_uplift"]),
        row(f"Return within {horizon} days: difference due to recovery (adjusted)", "points",
            adjusted["estimate"], adjusted["ci_low"], adjusted["ci_high"]),
        row("Customers kept by recovery", "customers", payoff["customers_kept"],
            payoff["customers_kept_ci_low"], payoff["customers_kept_ci_high"]),
        row("Spent on recovery gestures", "money", payoff["spend_cents"], money=True),
        row("Extra revenue from recovered customers", "money", payoff["incremental_revenue_cents"],
            payoff["incremental_revenue_cents_ci_low"], payoff["incremental_revenue_cents_ci_high"], money=True),
        row("Net return on spend", "ratio", payoff["return_on_spend"],
            payoff["return_on_spend_ci_low"], payoff["return_on_spend_ci_high"]),
        row("Cost of inaction (revenue lost where nobody acted)", "money", payoff["cost_of_inaction_cents"],
            payoff["cost_of_inaction_cents_ci_low"], payoff["cost_of_inaction_cents_ci_high"], money=True),
    ]
    return pd.DataFrame(rows)


# --- empowerment ------------------------------------------------------------------------------


def _band(used: float) -> str:
    if used <= 0:
        return BANDS[0][1]
    return next(label for limit, label in BANDS[1:] if used <= limit)


def _budget_used(spent_cents: Any, allocated_cents: Any) -> float:
    return float(spent_cents) / float(allocated_cents) if allocated_cents else float("nan")


def _staff_by_team(staff: pd.DataFrame) -> pd.DataFrame:
    teams = staff.assign(team=staff["team"].fillna(UNKNOWN_TEAM), used=staff["gestures"] > 0)
    grouped = teams.groupby("team", sort=True).agg(
        staff=("employee_id", "size"), used=("used", "sum"), gestures=("gestures", "sum"),
        spent=("gesture_spend_cents", "sum"), allocated=("allocated_cents", "sum"),
    ).reset_index()
    total = pd.DataFrame([{"team": "All teams", **grouped.drop(columns="team").sum().to_dict()}])
    both = pd.concat([grouped, total], ignore_index=True) if len(grouped) else total
    return pd.DataFrame({
        "Team": both["team"].astype(str),
        "Front-line staff": both["staff"].astype("int64"),
        "Used their budget": both["used"].astype("int64"),
        "Share who used it": [u / s if s else float("nan") for u, s in zip(both["used"], both["staff"], strict=True)],
        "Gestures": both["gestures"].astype("int64"),
        "Spent": [_money(v) for v in both["spent"]],
        "Allocated": [_money(v) for v in both["allocated"]],
        "Budget used": [_budget_used(s, a) for s, a in zip(both["spent"], both["allocated"], strict=True)],
    })


def _bands(staff: pd.DataFrame) -> pd.DataFrame:
    used = [_budget_used(s, a) if a else (1.0 if s else 0.0)
            for s, a in zip(staff["gesture_spend_cents"], staff["allocated_cents"], strict=True)]
    labels = [_band(u) for u in used]
    order = [label for _limit, label in BANDS]
    counts = pd.Series(labels, dtype=object).value_counts().reindex(order, fill_value=0).astype("int64")
    total = int(counts.sum())
    frame = pd.DataFrame({"Budget used": order, "People": counts.to_numpy(),
                          "Share of staff": [c / total if total else float("nan") for c in counts]})
    total_row = pd.DataFrame([{"Budget used": "All front-line staff", "People": total,
                               "Share of staff": 1.0 if total else float("nan")}])
    return pd.concat([frame, total_row], ignore_index=True)


def _hours(start: pd.Series, end: pd.Series) -> pd.Series:
    return (pd.to_datetime(end) - pd.to_datetime(start)).dt.total_seconds() / 3600.0


def _turnaround(rows: pd.DataFrame) -> pd.DataFrame:
    out = []
    for label, flag, done_at in (("Review after the fact", "needs_review", "reviewed_at"),
                                 ("Approval before spending", "needs_approval", "decided_at")):
        subset = rows[rows[flag]] if len(rows) else rows
        done = subset[subset[done_at].notna()] if len(subset) else subset
        hours = _hours(done["occurred_at"], done[done_at]).clip(lower=0) if len(done) else pd.Series(dtype=float)
        waiting = subset[subset[done_at].isna() & (subset["status"].map(_status_value) != "voided")]
        out.append({"Step": label, "Gestures": int(len(subset)), "Done": int(len(done)),
                    "Still waiting": int(len(waiting)),
                    "Median hours": round(float(hours.median()), 1) if len(hours) else float("nan"),
                    "90 % done within (hours)": round(float(hours.quantile(0.9)), 1) if len(hours) else float("nan")})
    return pd.DataFrame(out)


def _status_value(status: Any) -> str:
    return str(getattr(status, "value", status))


def _stories(stories: pd.DataFrame, pseudonyms: Pseudonymiser, include_identities: bool) -> pd.DataFrame:
    customer = (list(stories["customer_name"]) if include_identities
                else pseudonyms.many(stories["customer_code"]))
    return pd.DataFrame({
        "When": pd.to_datetime(stories["occurred_at"]) if len(stories) else pd.Series(dtype="datetime64[ns]"),
        "Chosen by a manager": stories["featured"].astype(bool),
        "Gesture": [str(t).replace("_", " ") for t in stories["type"]],
        "Cost": [_money(v) for v in stories["cost_cents"]],
        "Employee": stories["employee"].astype(object),
        "Team": stories["team"].fillna(UNKNOWN_TEAM).astype(object),
        "Customer": pd.Series(customer, dtype=object),
        "Story": stories["note"].fillna("").astype(object),
    })


# --- teams side by side -----------------------------------------------------------------------


def _team_outcomes(linked: pd.DataFrame) -> pd.DataFrame:
    team = linked["team"].astype("string").fillna(UNKNOWN_TEAM).replace("", UNKNOWN_TEAM)
    frame = pd.DataFrame({
        "team": team.astype(str),
        "recovered": linked["recovered"].astype(bool),
        "eligible": linked["eligible"].astype(bool),
        "returned": linked["returned_within"].fillna(0).astype(float) > 0,
    })
    frame["returned"] &= frame["eligible"]
    return frame


def _team_row(name: str, outcome: pd.DataFrame, budget: pd.Series | None) -> dict[str, Any]:
    incidents, followed = len(outcome), int(outcome["eligible"].sum())
    returned = int(outcome["returned"].sum())
    return {
        "Team": name,
        "Incidents": incidents,
        "Recovered": int(outcome["recovered"].sum()),
        "Share recovered": outcome["recovered"].mean() if incidents else float("nan"),
        "Budget used": float("nan") if budget is None else float(budget["Budget used"]),
        "Followed up": followed,
        "Came back": returned,
        "Return rate": returned / followed if followed else float("nan"),
    }


def _teams(linked: pd.DataFrame, staff_by_team: pd.DataFrame) -> pd.DataFrame:
    outcomes = _team_outcomes(linked)
    budgets = staff_by_team.set_index("Team")
    names = sorted(set(outcomes["team"]) | (set(budgets.index) - {"All teams"}))
    rows = [_team_row(name, outcomes[outcomes["team"] == name],
                      budgets.loc[name] if name in budgets.index else None) for name in names]
    rows.append(_team_row("All teams", outcomes, budgets.loc["All teams"] if "All teams" in budgets.index else None))
    return pd.DataFrame(rows)


def _incident_rows(linked: pd.DataFrame, customers: pd.DataFrame, pseudonyms: Pseudonymiser,
                   include_identities: bool) -> pd.DataFrame:
    """The underlying rows (one per incident), for the spreadsheet: customers by pseudonym."""
    known = customers.set_index("customer_id")
    ids = linked["customer_id"].astype(int)
    codes = ids.map(known["code"]).fillna(ids.astype(str).radd("#"))
    rows = pd.DataFrame({
        "Incident": linked["incident_id"].to_numpy(),
        "When": pd.to_datetime(linked["occurred_at"]).to_numpy(),
        "Category": linked.get("category", pd.Series(pd.NA, index=linked.index)).astype(object).to_numpy(),
        "Location": linked.get("location", pd.Series(pd.NA, index=linked.index)).astype(object).to_numpy(),
        "Team": linked.get("team", pd.Series(pd.NA, index=linked.index)).astype(object).to_numpy(),
        "Customer": pseudonyms.series(codes).to_numpy(),
    })
    if include_identities:
        rows["Customer name"] = ids.map(known["name"]).astype(object).to_numpy()
    rows["Recovered"] = linked["recovered"].astype(bool).to_numpy()
    rows["Gestures"] = linked["gesture_count"].astype("int64").to_numpy()
    rows["Spent"] = (linked["spend_cents"].astype("int64") / 100.0).round(2).to_numpy()
    rows["Followed up"] = linked["eligible"].astype(bool).to_numpy()
    rows["Came back"] = linked["returned_within"].astype(float).to_numpy()
    rows["Days to return"] = linked["return_days"].astype(float).round(1).to_numpy()
    rows["Revenue after"] = (linked["revenue_after_cents"].astype(float) / 100.0).round(2).to_numpy()
    return rows.sort_values(["When", "Incident"], ignore_index=True)


ROW_FORMATS = {"When": "datetime", "Recovered": "bool", "Gestures": "int", "Spent": "money",
               "Followed up": "bool", "Came back": "number", "Days to return": "days",
               "Revenue after": "money"}


def _tables(staff: pd.DataFrame, turnaround: pd.DataFrame, stories: pd.DataFrame, linked: pd.DataFrame,
            payoff: dict[str, Any], pseudonyms: Pseudonymiser, include_identities: bool) -> dict[str, ReportTable]:
    by_team = _staff_by_team(staff)
    horizon = payoff["horizon_days"]
    tables = [
        ReportTable("staff", "Who used their budget", "Empowerment",
                    "Front-line staff in scope (active staff and managers, and anyone who logged a gesture) "
                    "and how many logged at least one recovery gesture in the period. Spent: the cost of those "
                    "gestures, including money held for gestures waiting for approval. Budget used: spent "
                    "over money allocated in the budget periods that overlap the report period.",
                    by_team, {"Front-line staff": "int", "Used their budget": "int", "Share who used it": "percent",
                              "Gestures": "int", "Spent": "money", "Allocated": "money", "Budget used": "percent"},
                    total_row=True),
        ReportTable("budget_bands", "How much of their budget people used", "Empowerment",
                    "Each front-line person by the share of their allocated budget they spent.",
                    _bands(staff), {"People": "int", "Share of staff": "percent"}, total_row=True),
        ReportTable("turnaround", "Review and approval turnaround", "Empowerment",
                    "Hours from the gesture to the manager's review (large gestures are reviewed after the "
                    "fact) or decision (the largest need approval first).",
                    _turnaround(turnaround), {"Gestures": "int", "Done": "int", "Still waiting": "int",
                                              "Median hours": "hours", "90 % done within (hours)": "hours"}),
        ReportTable("outcome_groups", "Did recovered customers come back?", "Customer outcomes",
                    f"Return rate: customers who bought again within {horizon} days, among incidents old enough "
                    "to have been followed up that long. Median days: Kaplan-Meier estimate.",
                    _group_rows(payoff), {"Incidents": "int", "Followed up": "int", "Came back": "int",
                                          "Return rate": "percent", "Median days to return": "days",
                                          f"Revenue in the {horizon} days after": "money"}, total_row=True),
        ReportTable("payoff", "What recovery did for customers", "Customer outcomes",
                    "Adjusted figures compare recovered customers with similar customers nobody recovered "
                    "(loyalty, spend, tenure, category, location); intervals are 95 % bootstrap intervals.",
                    _payoff_rows(payoff), {"Estimate": "by_unit", "Low (95 %)": "by_unit", "High (95 %)": "by_unit"}),
        ReportTable("teams", "Teams side by side", "Teams side by side",
                    "Each team's share of incidents recovered and budget used, beside the share of its customers "
                    f"who came back within {horizon} days. A comparison between teams, not proof of cause.",
                    _teams(linked, by_team), {"Incidents": "int", "Recovered": "int", "Share recovered": "percent",
                                              "Budget used": "percent", "Followed up": "int", "Came back": "int",
                                              "Return rate": "percent"}, total_row=True),
        ReportTable("stories", "Recovery stories", "Stories",
                    "Gestures chosen by managers first, then notable ones with a note. "
                    + ("Customer names are included at the reader's request." if include_identities
                       else "Customers are shown by a stable pseudonym."),
                    _stories(stories, pseudonyms, include_identities),
                    {"When": "datetime", "Chosen by a manager": "bool", "Cost": "money"}),
    ]
    return {table.key: table for table in tables}


def _charts(report: JointReport) -> dict[str, ReportChart]:
    bands = report.tables["budget_bands"].frame.iloc[:-1]
    groups = _rate_intervals(report.payoff)
    teams = report.tables["teams"].frame.iloc[:-1]
    teams = teams[teams["Followed up"] >= MIN_TEAM_FOLLOWED_UP]
    scatter = pd.DataFrame({"team": teams["Team"], "share_recovered": teams["Share recovered"],
                            "return_rate": teams["Return rate"], "followed_up": teams["Followed up"],
                            "budget_used": teams["Budget used"]})
    built = [
        ReportChart("budget_bands", "How much of their budget people used", "Empowerment",
                    "People by the share of their budget they spent in the period.",
                    charts.budget_bands_chart(pd.DataFrame({"band": bands["Budget used"], "staff": bands["People"]}))),
        ReportChart("return_rates", "Recovered customers vs the rest", "Customer outcomes",
                    f"Share who came back within {report.horizon_days} days, with 95 % intervals (as observed, "
                    "not adjusted).", charts.return_rates_chart(groups, report.horizon_days)),
        ReportChart("teams", "Do the teams that act more keep more customers?", "Teams side by side",
                    f"One dot per team with at least {MIN_TEAM_FOLLOWED_UP} incidents followed up; dot size is "
                    "the number followed up.", charts.teams_scatter(scatter)),
    ]
    return {chart.key: chart for chart in built}


def _rate_intervals(payoff: dict[str, Any]) -> pd.DataFrame:
    rows = [(label, payoff[key]["returned"], payoff[key]["eligible"])
            for key, label in (("recovered", "Recovered"), ("comparison", "Not recovered"))]
    returned = np.array([r[1] for r in rows], dtype=float)
    eligible = np.array([r[2] for r in rows], dtype=float)
    low, high = wilson_interval(returned, eligible)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = returned / eligible
    frame = pd.DataFrame({"group": [r[0] for r in rows], "rate": rate, "ci_low": low, "ci_high": high,
                          "n": eligible.astype("int64")})
    return frame.replace({np.nan: None})


# --- the plain-language summary ---------------------------------------------------------------


def _pct(value: Any) -> str:
    return format_value(value, "percent").replace(" %", "%")


def _cash(cents: Any) -> str:
    return format_value(_money(cents), "money", currency_symbol())


def summarise(report: JointReport, staff: pd.DataFrame, turnaround: pd.DataFrame) -> list[str]:
    """A few sentences a busy reader can take away without the tables."""
    paragraphs = [_empowerment_sentence(report), _outcome_sentence(report), _money_sentence(report)]
    paragraphs.append(_turnaround_sentence(report))
    paragraphs.append(_teams_sentence(report))
    return [p for p in paragraphs if p]


def _empowerment_sentence(report: JointReport) -> str:
    total = report.tables["staff"].frame.iloc[-1]
    overall = report.payoff["overall"]
    recovered = report.payoff["recovered"]["incidents"]
    where = f"at {report.location}" if report.location else "across all locations"
    if not total["Front-line staff"]:
        return f"In {report.window.label} {where} there were no front-line staff in scope."
    return (
        f"In {report.window.label} {where}, {int(total['Used their budget']):,} of "
        f"{int(total['Front-line staff']):,} front-line staff ({_pct(total['Share who used it'])}) used their "
        f"recovery budget, with {int(total['Gestures']):,} gestures. Staff recovered {recovered:,} of "
        f"{overall['incidents']:,} incidents ({_pct(recovered / overall['incidents'] if overall['incidents'] else None)})."
    )


def _outcome_sentence(report: JointReport) -> str:
    payoff, horizon = report.payoff, report.horizon_days
    rec, com = payoff["recovered"]["return_rate"], payoff["comparison"]["return_rate"]
    if rec is None or com is None:
        return (f"It is too early to say whether customers came back: too few incidents have had {horizon} "
                "days of follow-up yet.")
    text = (f"Customers who received a recovery gesture came back within {horizon} days {_pct(rec)} of the "
            f"time, against {_pct(com)} for those who did not.")
    adjusted = payoff["adjusted_uplift"]
    if adjusted["estimate"] is None:
        return text + " There is not enough data to tell how much of that difference the gestures caused."
    effect = (f"{abs(adjusted['estimate']) * 100:.1f} points "
              f"({'more' if adjusted['estimate'] >= 0 else 'fewer'} customers)")
    interval = ""
    if adjusted["ci_low"] is not None and adjusted["ci_high"] is not None:
        interval = f", 95% interval {adjusted['ci_low'] * 100:+.1f} to {adjusted['ci_high'] * 100:+.1f} points"
    caution = "" if adjusted["reliable"] else " Treat this with caution: the comparison group is thin."
    return (text + f" Compared with similar customers, recovery itself accounts for about {effect}{interval}."
            + caution)


def _money_sentence(report: JointReport) -> str:
    payoff = report.payoff
    spend = _cash(payoff["spend_cents"])
    if payoff["incremental_revenue_cents"] is None:
        return f"Staff spent {spend} on recovery gestures."
    kept = payoff["customers_kept"]
    text = (f"Staff spent {spend} on recovery; it kept about {kept:,.0f} customers and brought an estimated "
            f"{_cash(payoff['incremental_revenue_cents'])} of extra revenue "
            f"(95% interval {_cash(payoff['incremental_revenue_cents_ci_low'])} to "
            f"{_cash(payoff['incremental_revenue_cents_ci_high'])}).")
    if payoff["cost_of_inaction_cents"] is not None:
        text += (f" Where nobody acted, the business lost an estimated "
                 f"{_cash(payoff['cost_of_inaction_cents'])} of revenue: the cost of inaction.")
    return text


def _turnaround_sentence(report: JointReport) -> str:
    frame = report.tables["turnaround"].frame.set_index("Step")
    parts = []
    for step, noun in (("Review after the fact", "reviewed"), ("Approval before spending", "decided")):
        row = frame.loc[step]
        if row["Done"]:
            parts.append(f"{noun} {int(row['Done']):,} gestures in a median of {row['Median hours']:.1f} hours")
    waiting = int(frame["Still waiting"].sum())
    if not parts:
        return ""
    tail = f"; {waiting:,} are still waiting" if waiting else ""
    return "Managers " + " and ".join(parts) + tail + "."


def _teams_sentence(report: JointReport) -> str:
    teams = report.tables["teams"].frame.iloc[:-1]
    teams = teams[teams["Followed up"] >= MIN_TEAM_FOLLOWED_UP]
    if len(teams) < 3:
        return ""
    correlation = teams["Share recovered"].corr(teams["Return rate"], method="spearman")
    if pd.isna(correlation):
        return ""
    if correlation >= 0.3:
        finding = "the teams that recovered more of their incidents also kept more customers"
    elif correlation <= -0.3:
        finding = "the teams that recovered more of their incidents did not keep more customers"
    else:
        finding = "there is no clear link between how often a team recovered and how many customers came back"
    return (f"Side by side, across {len(teams)} teams, {finding} (rank correlation {correlation:+.2f}). "
            "This compares teams; it does not prove cause.")
