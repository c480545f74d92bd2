"""The joint report's tables, from the read-side frames and the payoff: display-ready values
(counts, money in currency units from cents, rates as fractions) with their formats beside them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from empowerment.analytics.result import Figure, PayoffResult
from empowerment.reports.model import ReportTable
from empowerment.reports.privacy import Pseudonymiser

BANDS = ((0.0, "Nothing spent"), (0.25, "Up to 25 %"), (0.50, "25–50 %"), (0.75, "50–75 %"),
         (np.inf, "75 % or more"))
MIN_TEAM_FOLLOWED_UP = 10  # a team's return rate needs this many followed-up incidents to compare
UNKNOWN_TEAM = "(no team)"
# The payoff's linked rows the report reads (its tables, rows and customer labels): the stored
# report figures keep only these (`reports.computed.report_outcomes`), a fraction of the rows' size.
LINKED_COLUMNS = ("incident_id", "customer_id", "occurred_at", "category", "location", "team", "recovered",
                  "eligible", "gesture_count", "spend_cents", "returned_within", "return_days", "revenue_after_cents")


# --- customer outcomes ------------------------------------------------------------------------


def money(cents: Any) -> float:
    return float("nan") if cents is None or pd.isna(cents) else round(float(cents) / 100.0, 2)


def _num(value: Any) -> float:
    return float("nan") if value is None else float(value)


def average_days_column(horizon: int) -> str:
    return f"Average days not back (of the first {horizon})"


def _group_rows(payoff: PayoffResult) -> pd.DataFrame:
    rows = []
    waiting = {"Recovered": payoff.rmst_recovered_days, "Not recovered": payoff.rmst_comparison_days}
    for group, label in ((payoff.recovered, "Recovered"), (payoff.comparison, "Not recovered"),
                         (payoff.overall, "All incidents")):
        average = waiting.get(label)
        rows.append({
            "Group": label,
            "Incidents": group.raw_incidents,
            "Episodes": group.incidents,
            "Customers": group.customers,
            "Followed up": group.eligible,
            "Came back": group.returned,
            "Return rate": _num(group.return_rate),
            "Median days to return": _num(group.km_median_days),
            average_days_column(payoff.horizon_days): _num(average.estimate) if average is not None and average.shown
            else float("nan"),
            f"Revenue in the {payoff.horizon_days} days after": money(group.revenue_after_cents),
        })
    return pd.DataFrame(rows)


NOT_SHOWN = "Not shown: "


def _payoff_rows(payoff: PayoffResult) -> pd.DataFrame:
    """One row per figure. A figure that is not reliable has no number in any column (every
    format draws from these values): its note gives the reason instead."""

    def row(measure: str, unit: str, figure: Figure | None = None, value: Any = None,
            cents: bool = False, observed: bool = False) -> dict[str, Any]:
        convert = money if cents else _num
        if figure is None:
            return {"Measure": measure, "Estimate": convert(value), "Low (95 %)": float("nan"),
                    "High (95 %)": float("nan"), "Unit": unit, "Note": "As observed, not adjusted."
                    if unit == "points" else "As recorded."}
        if not figure.shown:
            return {"Measure": measure, "Estimate": float("nan"), "Low (95 %)": float("nan"),
                    "High (95 %)": float("nan"), "Unit": unit, "Note": NOT_SHOWN + figure.reason}
        note = ("Observational estimate; the range includes zero: could be zero." if figure.could_be_zero
                else "Observational estimate; the range excludes zero.")
        if observed:
            note = "As observed, not adjusted (Kaplan-Meier area); range: 95 % bootstrap over customers."
        return {"Measure": measure, "Estimate": convert(figure.estimate), "Low (95 %)": convert(figure.low),
                "High (95 %)": convert(figure.high), "Unit": unit, "Note": note}

    horizon, margin = payoff.horizon_days, payoff.margin_label
    rows = [
        row(f"Return within {horizon} days: difference, as observed (raw)", "points", value=payoff.naive_uplift),
        row(f"Return within {horizon} days: difference associated with recovery (adjusted)", "points",
            payoff.return_uplift),
        row("Customers kept (estimated, distinct customers)", "customers", payoff.customers_kept),
        row("Spent on recovery gestures", "money", value=payoff.spend_cents, cents=True),
        row("Extra revenue associated with recovery (estimated)", "money", payoff.incremental_revenue_cents,
            cents=True),
        row(f"Extra margin associated with recovery (estimated, {margin})", "money",
            payoff.incremental_margin_cents, cents=True),
        row(f"Net return on spend ({margin})", "ratio", payoff.return_on_spend),
        row(f"Cost of inaction: margin lost where nobody acted, net of gesture cost ({margin})", "money",
            payoff.cost_of_inaction_cents, cents=True),
        row(f"Average days without return, of the first {horizon}: recovered", "days",
            payoff.rmst_recovered_days, observed=True),
        row(f"Average days without return, of the first {horizon}: not recovered", "days",
            payoff.rmst_comparison_days, observed=True),
        row("Average days without return: difference, recovered minus not recovered", "days",
            payoff.rmst_difference_days, observed=True),
        {"Measure": "How these are worked out", "Estimate": float("nan"), "Low (95 %)": float("nan"),
         "High (95 %)": float("nan"), "Unit": "text", "Note": payoff.assumptions},
    ]
    return pd.DataFrame(rows)


def _balance_rows(payoff: PayoffResult) -> pd.DataFrame:
    balance = payoff.balance
    if balance.empty:
        return pd.DataFrame({"Feature": pd.Series(dtype=object), "Before weighting": pd.Series(dtype=float),
                             "After weighting": pd.Series(dtype=float)})
    return pd.DataFrame({"Feature": balance["feature"].astype(object).to_numpy(),
                         "Before weighting": balance["smd_before"].astype(float).round(3).to_numpy(),
                         "After weighting": balance["smd_after_att"].astype(float).round(3).to_numpy()})


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
        "Spent": [money(v) for v in both["spent"]],
        "Allocated": [money(v) for v in both["allocated"]],
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
        "Cost": [money(v) for v in stories["cost_cents"]],
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
    frame = pd.DataFrame(rows)
    frame.insert(0, "#", [*range(1, len(rows)), pd.NA])  # the team's dot in the chart
    frame["#"] = frame["#"].astype("Int64")
    return frame


def incident_rows(linked: pd.DataFrame, customers: pd.DataFrame, pseudonyms: Pseudonymiser,
                   include_identities: bool) -> pd.DataFrame:
    """The underlying rows (one per incident), for the spreadsheet: customers by pseudonym."""
    known = customers
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
               "Followed up": "bool", "Came back": "int", "Days to return": "days",
               "Revenue after": "money"}


def build_tables(staff: pd.DataFrame, turnaround: pd.DataFrame, stories: pd.DataFrame, linked: pd.DataFrame,
            payoff: PayoffResult, pseudonyms: Pseudonymiser, include_identities: bool) -> dict[str, ReportTable]:
    by_team = _staff_by_team(staff)
    horizon = payoff.horizon_days
    tables = [
        ReportTable("staff", "Who used their budget", "Empowerment",
                    "Front-line staff in scope (active staff and managers, and anyone who logged a gesture) "
                    "and how many logged at least one recovery gesture in the period (gestures still waiting for "
                    "approval count once approved). Spent: the cost of those gestures. Budget used: spent "
                    "over money allocated in the budget periods that overlap the report period.",
                    by_team, {"Front-line staff": "int", "Used their budget": "int", "Share who used it": "percent",
                              "Gestures": "int", "Spent": "money", "Allocated": "money", "Budget used": "percent"},
                    total_row=True),
        ReportTable("budget_bands", "How much of their budget people used", "Empowerment",
                    "Each front-line person by the share of their allocated budget they spent. Someone whose "
                    "gestures were all free (a personal note, their time) used their empowerment but spent "
                    "nothing.",
                    _bands(staff), {"People": "int", "Share of staff": "percent"}, total_row=True),
        ReportTable("turnaround", "Review and approval turnaround", "Empowerment",
                    "Hours from the gesture to the manager's review (large gestures are reviewed after the "
                    "fact) or decision (the largest need approval first).",
                    _turnaround(turnaround), {"Gestures": "int", "Done": "int", "Still waiting": "int",
                                              "Median hours": "hours", "90 % done within (hours)": "hours"}),
        ReportTable("outcome_groups", "Did recovered customers come back?", "Customer outcomes",
                    f"Return rate: customers who bought again within {horizon} days, among incidents old enough "
                    "to have been followed up that long. Median days: Kaplan-Meier estimate. Average days not back: "
                    f"the Kaplan-Meier area up to {horizon} days (restricted mean), as observed.",
                    _group_rows(payoff), {"Incidents": "int", "Episodes": "int", "Customers": "int",
                                          "Followed up": "int", "Came back": "int",
                                          "Return rate": "percent", "Median days to return": "days",
                                          average_days_column(horizon): "days",
                                          f"Revenue in the {horizon} days after": "money"}, total_row=True),
        ReportTable("payoff", "What recovery did for customers", "Customer outcomes",
                    "Observational estimates: adjusted figures compare recovered customers with similar "
                    "customers nobody recovered (purchases and spend in the year before, tenure, category, "
                    "location) by a doubly-robust method (weighting plus an outcome model); ranges are 95 % "
                    "bootstrap intervals over customers. A figure that is not reliable is not shown; its note "
                    "says why. " + payoff.assumptions,
                    _payoff_rows(payoff), {"Estimate": "by_unit", "Low (95 %)": "by_unit", "High (95 %)": "by_unit"}),
        ReportTable("balance", "Were the groups alike before the incident?", "Customer outcomes",
                    "Standardised mean difference between recovered and unrecovered episodes, before and after "
                    "the weighting that makes them comparable. After weighting, a difference above 0.1 on any "
                    "feature means the adjusted figures are not shown.",
                    _balance_rows(payoff), {"Before weighting": "number2", "After weighting": "number2"}),
        ReportTable("teams", "Each team in figures", "Teams side by side",
                    "Each team's share of incidents recovered and budget used, beside the share of its customers "
                    f"who came back within {horizon} days. A comparison between teams, not proof of cause.",
                    _teams(linked, by_team), {"#": "int", "Incidents": "int", "Recovered": "int", "Share recovered": "percent",
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


