"""The generative model of the demo: visits, incidents, who recovers whom, and who comes back.

Pure numpy; times are int64 seconds since the start of the two-year window. The loop runs over a
customer's n-th visit (about a hundred steps), vectorised across all customers at each step.
See the package docstring for the story in words.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

DEMO_TRUE_UPLIFT = 0.12  # additive: +12 percentage points on P(return within 90 days)
HORIZON_DAYS = 90
PRIOR_WINDOW_DAYS = 365
WINDOW_DAYS = 730
DAY = 86_400

SEGMENTS = ("Leisure", "Business", "Loyalty member", "Event guest")
SEGMENT_SHARE = (0.45, 0.25, 0.15, 0.15)
SEGMENT_MEDIAN_VISITS_PER_YEAR = (4.0, 14.0, 18.0, 1.5)
SEGMENT_MEDIAN_SPEND_CENTS = (42_000, 26_000, 38_000, 30_000)
HOME_HOTEL_SHARE = 0.85  # visits at the customer's usual hotel
CHURN_AFTER_VISIT = 0.02  # chance a visit without an incident is the customer's last
NEVER_BACK_AFTER_INCIDENT = 0.35  # of those not back within 90 days: never back at all

# Incident categories: shares and which team type (FD, HK, RES, CON) usually receives them.
# Order follows empowerment.gestures.INCIDENT_CATEGORIES.
CATEGORY_SHARE = (0.14, 0.12, 0.10, 0.14, 0.15, 0.11, 0.06, 0.07, 0.05, 0.06)
CATEGORY_TEAM = np.array([
    [0.70, 0.30, 0.00, 0.00],  # Room not ready
    [0.80, 0.00, 0.00, 0.20],  # Noise
    [1.00, 0.00, 0.00, 0.00],  # Billing error
    [0.50, 0.00, 0.40, 0.10],  # Long wait
    [0.00, 0.00, 1.00, 0.00],  # Food & drink
    [0.00, 0.90, 0.10, 0.00],  # Cleanliness
    [0.40, 0.20, 0.30, 0.10],  # Staff attitude
    [0.50, 0.00, 0.00, 0.50],  # Broken promise
    [0.00, 0.60, 0.00, 0.40],  # Lost item
    [0.25, 0.25, 0.25, 0.25],  # Other
])


def baseline_return_probability(prior_visits: np.ndarray | int) -> np.ndarray:
    """P(first purchase within 90 days after an incident | no recovery), from the number of
    purchases in the 365 days before the incident (the incident's own visit included)."""
    f = np.asarray(prior_visits, dtype=float)
    return 0.12 + 0.62 * (1.0 - np.exp(-f / 5.0))


def recovery_probability(prior_visits: np.ndarray | int, engagement: np.ndarray | float) -> np.ndarray:
    """P(the receiving employee recovers the incident): staff favour already-loyal customers
    (selection bias), scaled by the employee's engagement (0 for the empowerment gap)."""
    f = np.asarray(prior_visits, dtype=float)
    return np.asarray(engagement, dtype=float) * (0.25 + 0.60 * (1.0 - np.exp(-f / 4.0)))


@dataclass(frozen=True)
class Staffing:
    """Who receives incidents: per team (index = hotel * 4 + team type) its members' indexes
    into the employee table with their weights, plus every employee's engagement."""

    team_members: list[np.ndarray]
    team_weights: list[np.ndarray]
    engagement: np.ndarray  # per employee, 0..1

    def flat(self) -> tuple[np.ndarray, np.ndarray]:
        members, bounds = [], []
        for team, (m, w) in enumerate(zip(self.team_members, self.team_weights, strict=True)):
            cum = np.cumsum(w, dtype=float) / float(np.sum(w))
            cum[-1] = 1.0
            members.append(m)
            bounds.append(team + cum)
        return np.concatenate(members), np.concatenate(bounds)


@dataclass(frozen=True)
class Simulation:
    # customers
    segment: np.ndarray  # index into SEGMENTS
    home: np.ndarray  # hotel index
    visits_per_year: np.ndarray
    first_visit_s: np.ndarray
    # visits = positive transactions
    visit_customer: np.ndarray
    visit_time_s: np.ndarray
    visit_hotel: np.ndarray
    visit_amount_cents: np.ndarray
    # incidents
    incident_customer: np.ndarray
    incident_time_s: np.ndarray
    incident_hotel: np.ndarray
    incident_category: np.ndarray  # index into INCIDENT_CATEGORIES
    incident_employee: np.ndarray  # index into the employee table
    incident_prior_visits: np.ndarray
    incident_recovered: np.ndarray  # bool: a gesture will be logged
    incident_returns: np.ndarray  # bool: the model's draw "back within 90 days"
    end_s: int


def _arrival_seconds(rng: np.random.Generator, n: int) -> np.ndarray:
    """Check-in time of day: mostly afternoons and evenings (11:00 to 23:30)."""
    return (rng.normal(16.5, 2.5, n).clip(11.0, 23.5) * 3600).astype(np.int64)


def simulate(
    rng: np.random.Generator,
    n_customers: int,
    end_s: int,
    staffing: Staffing,
    incident_rate_by_hotel: np.ndarray,
    price_factor_by_hotel: np.ndarray,
    home_share_by_hotel: np.ndarray,
) -> Simulation:
    """Simulate visits from midnight at the window start (t = 0) to `end_s` (now)."""
    n_hotels = incident_rate_by_hotel.size
    last_day = end_s // DAY
    segment = rng.choice(len(SEGMENTS), size=n_customers, p=SEGMENT_SHARE)
    home = rng.choice(n_hotels, size=n_customers, p=home_share_by_hotel)
    rate = np.exp(np.log(np.take(SEGMENT_MEDIAN_VISITS_PER_YEAR, segment))
                  + rng.normal(0.0, 0.55, n_customers)).clip(0.3, 40.0)
    mean_gap_days = 365.0 / rate
    first_day = (rng.random(n_customers) ** 2 * max(last_day - 7, 1)).astype(np.int64)
    first_visit = first_day * DAY + _arrival_seconds(rng, n_customers)
    spend_median = np.take(SEGMENT_MEDIAN_SPEND_CENTS, segment).astype(float)
    members, bounds = staffing.flat()
    category_cum = np.cumsum(CATEGORY_TEAM, axis=1)

    never = np.iinfo(np.int64).max // 4
    capacity = 64
    history = np.full((n_customers, capacity), -never, dtype=np.int64)  # visit times so far
    count = np.zeros(n_customers, dtype=np.int64)
    t = first_visit.copy()
    visits: list[tuple[np.ndarray, ...]] = []
    incidents: list[tuple[np.ndarray, ...]] = []
    alive = t <= end_s
    while alive.any():
        idx = np.flatnonzero(alive)
        n = idx.size
        if count.max() >= capacity:
            history = np.hstack([history, np.full_like(history, -never)])
            capacity *= 2
        history[idx, count[idx]] = t[idx]
        count[idx] += 1
        hotel = np.where(rng.random(n) < HOME_HOTEL_SHARE, home[idx], rng.integers(0, n_hotels, n))
        amount = np.round(
            spend_median[idx] * price_factor_by_hotel[hotel] * np.exp(rng.normal(0, 0.45, n))
        ).clip(1_500, None).astype(np.int64)
        visits.append((idx, t[idx], hotel, amount))

        # An incident during this visit, 30 minutes to 40 hours after arrival (not at night).
        incident_at = t[idx] + rng.integers(30 * 60, 40 * 3600, n)
        incident_at += np.where(incident_at % DAY < 7 * 3600, 7 * 3600, 0)
        has_incident = (rng.random(n) < incident_rate_by_hotel[hotel]) & (incident_at <= end_s)
        u_category, u_team, u_employee, u_recover, u_return = rng.random((5, n))
        # Visits are whole days apart, at an arrival time of day.
        days = 1 + np.floor(rng.exponential(1.0, n) * mean_gap_days[idx]).astype(np.int64)
        days = np.where(rng.random(n) < CHURN_AFTER_VISIT, never // DAY, days)
        arrival = _arrival_seconds(rng, n)
        next_t = (t[idx] // DAY + days) * DAY + arrival

        rows = np.flatnonzero(has_incident)
        if rows.size:
            cust = idx[rows]
            at = incident_at[rows]
            window_start = at - PRIOR_WINDOW_DAYS * DAY
            prior = ((history[cust] >= window_start[:, None]) & (history[cust] < at[:, None])).sum(1)
            category = np.searchsorted(np.cumsum(CATEGORY_SHARE) / sum(CATEGORY_SHARE),
                                       u_category[rows], side="right").clip(0, 9)
            team_type = (u_team[rows, None] > category_cum[category]).sum(1).clip(0, 3)
            team = hotel[rows] * 4 + team_type
            pick = np.searchsorted(bounds, team + u_employee[rows], side="right")
            employee = members[pick.clip(0, members.size - 1)]
            recovered = u_recover[rows] < recovery_probability(prior, staffing.engagement[employee])
            p_return = baseline_return_probability(prior) + DEMO_TRUE_UPLIFT * recovered
            returns = u_return[rows] < p_return
            # The next visit, counted in days from the incident's day: day 1..89 if the draw says
            # "back" (so strictly after the incident and within 90 days), else day 91 or later
            # (or never). Nothing else can fall in between.
            scale = mean_gap_days[cust]
            high = HORIZON_DAYS - 1
            u = rng.random(rows.size)
            back = np.ceil(-scale * np.log1p(-u * (1 - np.exp(-high / scale)))).clip(1, high)
            later = HORIZON_DAYS + 1 + np.floor(rng.exponential(1.0, rows.size) * scale)
            later = np.where(rng.random(rows.size) < NEVER_BACK_AFTER_INCIDENT, never // DAY, later)
            days_after = np.where(returns, back, later).astype(np.int64)
            next_t[rows] = (at // DAY + days_after) * DAY + arrival[rows]
            incidents.append((cust, at, hotel[rows], category, employee, prior, recovered, returns))

        t[idx] = next_t
        alive = t <= end_s

    def cat(parts: list[tuple[np.ndarray, ...]], i: int, dtype: Any) -> np.ndarray:
        return np.concatenate([p[i] for p in parts]) if parts else np.zeros(0, dtype=dtype)

    v_order = np.lexsort((cat(visits, 1, np.int64), cat(visits, 0, np.int64)))
    i_order = np.lexsort((cat(incidents, 1, np.int64), cat(incidents, 0, np.int64)))
    return Simulation(
        segment=segment,
        home=home,
        visits_per_year=rate,
        first_visit_s=first_visit,
        visit_customer=cat(visits, 0, np.int64)[v_order],
        visit_time_s=cat(visits, 1, np.int64)[v_order],
        visit_hotel=cat(visits, 2, np.int64)[v_order],
        visit_amount_cents=cat(visits, 3, np.int64)[v_order],
        incident_customer=cat(incidents, 0, np.int64)[i_order],
        incident_time_s=cat(incidents, 1, np.int64)[i_order],
        incident_hotel=cat(incidents, 2, np.int64)[i_order],
        incident_category=cat(incidents, 3, np.int64)[i_order],
        incident_employee=cat(incidents, 4, np.int64)[i_order],
        incident_prior_visits=cat(incidents, 5, np.int64)[i_order],
        incident_recovered=cat(incidents, 6, bool)[i_order],
        incident_returns=cat(incidents, 7, bool)[i_order],
        end_s=end_s,
    )


def observed_return_within(sim: Simulation) -> tuple[np.ndarray, np.ndarray]:
    """(eligible, returned) per incident computed from the visits as the analysis would: first
    purchase strictly after the incident, within 90 days; eligible when 90 days have passed."""
    order_key = sim.visit_customer * (sim.end_s * 4) + sim.visit_time_s
    target = sim.incident_customer * (sim.end_s * 4) + sim.incident_time_s
    nxt = np.searchsorted(order_key, target, side="right")
    has_next = nxt < order_key.size
    nxt_c = np.where(has_next, sim.visit_customer[np.minimum(nxt, order_key.size - 1)], -1)
    nxt_t = np.where(has_next, sim.visit_time_s[np.minimum(nxt, order_key.size - 1)], 0)
    same = has_next & (nxt_c == sim.incident_customer)
    returned = same & (nxt_t - sim.incident_time_s <= HORIZON_DAYS * DAY)
    eligible = sim.incident_time_s + HORIZON_DAYS * DAY <= sim.end_s
    return eligible, returned
