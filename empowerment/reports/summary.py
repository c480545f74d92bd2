"""The plain-language summary at the top of the joint report: a few sentences a busy reader can
take away without the tables, written from the report's own figures."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from empowerment import labels
from empowerment.reports.model import JointReport, currency_symbol, format_value
from empowerment.reports.tables import MIN_TEAM_FOLLOWED_UP, money


def _pct(value: Any) -> str:
    return format_value(value, "percent").replace("\u00a0%", "%")


def _cash(cents: Any) -> str:
    return format_value(money(cents), "money", currency_symbol())


def summarise(report: JointReport) -> list[str]:
    """A few sentences a busy reader can take away without the tables."""
    paragraphs = [_empowerment_sentence(report), _outcome_sentence(report), _money_sentence(report)]
    paragraphs.append(_turnaround_sentence(report))
    paragraphs.append(_teams_sentence(report))
    return [p for p in paragraphs if p]


def _empowerment_sentence(report: JointReport) -> str:
    total = report.tables["staff"].frame.iloc[-1]
    incidents = report.payoff["overall"]["incidents"]
    recovered = report.payoff["recovered"]["incidents"]
    where = f"at {report.location}" if report.location else "across all locations"
    people = (f"{int(total['Used their budget']):,} of {int(total['Front-line staff']):,} front-line staff "
              f"({_pct(total['Share who used it'])}) used their recovery budget, with "
              f"{int(total['Gestures']):,} gestures" if total["Front-line staff"] else "there were no front-line staff")
    if not incidents:
        return f"In {report.window.label} {where}, {people}; no incidents were recorded."
    return (f"In {report.window.label} {where}, {people}. Staff recovered {recovered:,} of {incidents:,} "
            f"incidents ({_pct(recovered / incidents)}).")


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
    for step, done_verb, noun in (("Review after the fact", "reviewed", "reviews"),
                                  ("Approval before spending", "decided on", "approvals")):
        row = frame.loc[step]
        if row["Done"]:
            parts.append(f"{done_verb} {labels.count(int(row['Done']), 'flagged gesture')} in a median of "
                         f"{row['Median hours']:.1f} hours")
        if row["Still waiting"]:
            waiting = int(row["Still waiting"])
            parts.append(f"{waiting:,} {noun if waiting > 1 else noun[:-1]} "
                         f"{'are' if waiting > 1 else 'is'} still waiting")
    if not parts:
        return ""
    text = "; ".join(parts)
    return ("Managers " + text if parts[0][0].islower() else text[0].upper() + text[1:]) + "."


def rank_correlation(x: pd.Series, y: pd.Series) -> float | None:
    """Spearman's rho (ties share ranks), without importing scipy (4 s on a cold start)."""
    ranks_x, ranks_y = x.rank().to_numpy(dtype=float), y.rank().to_numpy(dtype=float)
    if len(ranks_x) < 3 or ranks_x.std() == 0 or ranks_y.std() == 0:
        return None
    return float(np.corrcoef(ranks_x, ranks_y)[0, 1])


def _teams_sentence(report: JointReport) -> str:
    teams = report.tables["teams"].frame.iloc[:-1]
    teams = teams[teams["Followed up"] >= MIN_TEAM_FOLLOWED_UP]
    if len(teams) < 3:
        return ""
    correlation = rank_correlation(teams["Share recovered"], teams["Return rate"])
    if correlation is None:
        return ""
    if correlation >= 0.3:
        finding = "the teams that recovered more of their incidents also kept more customers"
    elif correlation <= -0.3:
        finding = "the teams that recovered more of their incidents did not keep more customers"
    else:
        finding = "there is no clear link between how often a team recovered and how many customers came back"
    return (f"Side by side, across {len(teams)} teams, {finding} (rank correlation {correlation:+.2f}). "
            "This compares teams; it does not prove cause.")

