"""The plain-language summary at the top of the joint report: a few sentences a busy reader can
take away without the tables, written from the report's own figures."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from empowerment import labels
from empowerment.reports import wording
from empowerment.reports.model import JointReport, currency_symbol, format_value
from empowerment.reports.tables import MIN_TEAM_FOLLOWED_UP, money


def _pct(value: Any) -> str:
    return format_value(value, "percent").replace("\u00a0%", "%")


def _cash(cents: Any) -> str:
    return format_value(money(cents), "money", currency_symbol())


def summarise(report: JointReport) -> list[str]:
    """A few sentences a busy reader can take away without the tables."""
    paragraphs = [_empowerment_sentence(report), _outcome_sentence(report), _money_sentence(report),
                  " ".join(wording.sensitivity_sentences(report.payoff))]
    paragraphs.append(_turnaround_sentence(report))
    paragraphs.append(_teams_sentence(report))
    return [p for p in paragraphs if p]


def _empowerment_sentence(report: JointReport) -> str:
    total = report.tables["staff"].frame.iloc[-1]
    incidents = report.payoff.overall.raw_incidents
    recovered = report.payoff.recovered.raw_incidents
    where = f"at {report.location}" if report.location else "across all locations"
    people = (f"{int(total['Used their budget']):,} of {int(total['Front-line staff']):,} front-line staff "
              f"({_pct(total['Share who used it'])}) used their recovery budget, with "
              f"{labels.count(int(total['Gestures']), 'gesture')}" if total["Front-line staff"] else "there were no front-line staff")
    if not incidents:
        return f"In {report.window.label} {where}, {people}; no incidents were recorded."
    return (f"In {report.window.label} {where}, {people}. Staff recovered {recovered:,} of {incidents:,} "
            f"incidents ({_pct(recovered / incidents)}), for {report.payoff.recovered.customers:,} of "
            f"{labels.count(report.payoff.overall.customers, 'customer')}.")


def _outcome_sentence(report: JointReport) -> str:
    payoff, horizon = report.payoff, report.horizon_days
    rec, com = payoff.recovered.return_rate, payoff.comparison.return_rate
    if rec is None or com is None:
        return (f"It is too early to say whether customers came back: too few incidents have had {horizon} "
                "days of follow-up yet.")
    text = (f"Customers who received a recovery gesture came back within {horizon} days {_pct(rec)} of the "
            f"time, against {_pct(com)} for those who did not (as observed).")
    uplift = payoff.return_uplift
    if not uplift.shown or uplift.estimate is None:
        return text + f" No adjusted comparison is given: {uplift.reason}"
    effect = (f"{abs(uplift.estimate) * 100:.1f} points "
              f"({'more' if uplift.estimate >= 0 else 'fewer'} customers back)")
    return (text + f" Compared with similar customers nobody recovered, recovery is associated with an "
            f"estimated {effect}, {wording.range_text(uplift, 'points')}. This is an observational estimate "
            "(doubly-robust adjustment for purchases and spend in the year before, tenure, category and "
            "location), not a randomised trial.")


def _money_sentence(report: JointReport) -> str:
    payoff = report.payoff
    spend = _cash(payoff.spend_cents)
    margin = payoff.incremental_margin_cents
    if not margin.shown:
        return f"Staff spent {spend} on recovery gestures. The extra margin is not shown: {margin.reason}"
    text = f"Staff spent {spend} on recovery gestures."
    kept = payoff.customers_kept
    if kept.shown and kept.estimate is not None:
        text += (f" Recovery is associated with about {kept.estimate:,.0f} more customers coming back "
                 f"({wording.range_text(kept, 'count')}).")
    text += (f" Recovered customers brought an estimated {wording.figure_text(margin, 'money')} of extra "
             f"margin ({payoff.margin_label}).")
    inaction = payoff.cost_of_inaction_cents
    if inaction.shown:
        text += (" Incidents nobody recovered are associated with an estimated "
                 f"{wording.figure_text(inaction, 'money')} of lost margin, net of what recovering them "
                 "would have cost: the cost of inaction.")
    else:
        text += f" The cost of inaction is not shown: {inaction.reason}"
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

