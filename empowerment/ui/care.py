"""Sections for proactive care, shared by the care list page, the hand-over and the tablet:
the care list (with acting on an entry), recoveries awaiting a follow-up, how long open incidents
have waited, the recognition feed, the value pills and the inline "what tends to work"."""

from __future__ import annotations

import uuid
from typing import Any

import pandas as pd
import streamlit as st

from empowerment.actor import Actor
from empowerment.analytics.what_works import MIN_CASES
from empowerment.clock import utc_now
from empowerment.errors import EmpowermentError
from empowerment.models import FollowUpKind
from empowerment.models.vocabulary import (
    GESTURE_TYPE,
    INCIDENT_CATEGORY,
    MAX_VALUES_PER_GESTURE,
    SERVICE_VALUE,
)
from empowerment.queries import care as care_queries
from empowerment.queries import vocabulary as vocabulary_queries
from empowerment.reports.wording import breakdown_short
from empowerment.services import care
from empowerment.services.gestures import LogRequest
from empowerment.ui import components as ui
from empowerment.ui.session import callback, get_db

S = st.session_state
VALUES_KEY = "lr_values"


@st.cache_data(ttl=10, show_spinner=False, max_entries=4)
def vocabulary_now(db_url: str) -> Any:
    """The vocabulary for this rerun and the next few seconds (one read instead of one per widget);
    the Vocabulary page clears it on every change."""
    return vocabulary_queries.vocabulary(get_db())


def current_vocabulary() -> Any:
    return vocabulary_now(get_db().url)


def waited(hours: float) -> str:
    if hours < 1:
        return f"{max(int(hours * 60), 1)} min"
    if hours < 48:
        return f"{hours:.0f} h"
    return f"{hours / 24:.0f} days"


# --- the care list ---------------------------------------------------------------------------------

def _reason_of(row: Any) -> care.CareReason:
    return care.CareReason(row.customer_code, row.reason, int(row.rank), int(row.value_at_risk_cents),
                           float(row.chance_not_returning))


def _act(actor: Actor, employee_code: str, row: dict[str, Any], key: str) -> None:
    """The entry's action button callback: a follow-up or a gesture, from the entry's widgets."""
    choice = S.get(f"{key}_action")
    reason = care.CareReason(row["customer_code"], row["reason"], int(row["rank"]), int(row["value_at_risk_cents"]),
                             float(row["chance_not_returning"]))
    try:
        if choice in ("__gesture__",):
            gesture_type = S.get(f"{key}_type") or "personal_note"
            care.act_with_gesture(get_db(), actor, LogRequest(
                employee_code, row["customer_code"], gesture_type, S.get(f"{key}_amount") or "0",
                incident_code=row["incident_code"], note=S.get(f"{key}_note"),
                idempotency_key=S.setdefault(f"{key}_idem", uuid.uuid4().hex)), reason)
            done = "A gesture was logged"
        else:
            care.record_follow_up(get_db(), actor, care.FollowUpRequest(
                employee_code, row["incident_code"], choice or FollowUpKind.CALLED.value, S.get(f"{key}_note"),
                source=care_queries.CARE_SOURCE), care=reason)
            done = f"{FollowUpKind(choice or 'called').label} recorded"
    except EmpowermentError as exc:
        S[f"{key}_error"] = str(exc)
        return
    S.pop(f"{key}_error", None)
    S["care_flash"] = f"{done} for {row['customer']}; they are off the list."
    st.cache_data.clear()


@st.cache_data(ttl=120, show_spinner=False, max_entries=32)
def _cached_list(actor_key: tuple[Any, ...], location: str | None, _actor: Actor) -> care_queries.CareList:
    return care_queries.care_list(get_db(), _actor, location)


def care_list_section(actor: Actor, employee_code: str | None, location: str | None, *, limit: int = 10,
                      compact: bool = False) -> None:
    key = (actor.employee_id, actor.role.value, actor.team_id, tuple(sorted(actor.managed_team_ids)))
    with st.spinner("Finding the customers at risk…"):
        listed = _cached_list(key, location, actor)
    if S.get("care_flash"):
        st.success(ui.md(S.pop("care_flash")), icon=":material/favorite:")
    entries = listed.entries.head(limit)
    if entries.empty:
        ui.empty_state("Nobody at risk right now",
                       "Every recent incident was recovered or followed up. New ones appear here.", ":material/favorite:")
        return
    st.caption(ui.md(f"{len(listed.entries)} customer{'s' if len(listed.entries) != 1 else ''} at risk"
                     f"{' at ' + listed.location if listed.location else ''}, most value at risk first. "
                     f"Why: {listed.explanation}"))
    with st.container(key="care_list"):
        for row in entries.to_dict(orient="records"):
            _entry(actor, employee_code, row, compact)


def _entry(actor: Actor, employee_code: str | None, row: dict[str, Any], compact: bool) -> None:
    key = f"care_{row['customer_code']}"
    with st.container(border=True, key=f"care_entry_{row['rank']}"):
        chance = f"{row['chance_not_returning']:.0%} chance of not coming back within 90 days"
        if int(row["typical_revenue_cents"]) <= 0:  # nothing bought: no value to put at risk, not "$0.00"
            st.markdown(f"**{row['rank']}. {ui.name(row['customer'])}** · {ui.md(row['category'])} · "
                        "no purchases on record",
                        help=ui.md(f"{chance}; no purchases in the year before, so there is no value at risk "
                                   "to work out."))
        else:
            st.markdown(f"**{row['rank']}. {ui.name(row['customer'])}** · {ui.md(row['category'])} · "
                        f"value at risk **{ui.md(ui.money(int(row['value_at_risk_cents'])))}**",
                        help=ui.md(f"{chance} × {ui.money(int(row['typical_revenue_cents']))} spent in the "
                                   "year before."))
        st.caption(ui.md(row["reason"]))
        if employee_code is None:
            return
        with st.expander("Act on this", icon=":material/handshake:", expanded=False):
            options = [k.value for k in FollowUpKind] + ["__gesture__"]
            labels = {**{k.value: k.label for k in FollowUpKind}, "__gesture__": "Log a gesture"}
            choice = st.segmented_control("What did you do?", options, key=f"{key}_action",
                                          format_func=lambda v: labels[v], default=FollowUpKind.CALLED.value)
            if choice == "__gesture__":
                vocab = current_vocabulary()
                types = vocab.codes(GESTURE_TYPE)
                left, right = st.columns(2)
                left.selectbox("Gesture", types, key=f"{key}_type", format_func=lambda c: vocab.label(GESTURE_TYPE, c))
                right.text_input("Cost", key=f"{key}_amount", placeholder="0")
            st.text_input("Note (optional)", key=f"{key}_note")
            st.button("Done: take them off the list", key=f"{key}_go", type="primary", width="stretch",
                      on_click=callback(_act), args=(employee_code, row, key))
            if S.get(f"{key}_error"):
                st.error(ui.md(S[f"{key}_error"]))


# --- follow-ups and waiting ------------------------------------------------------------------------

def _follow_up(actor: Actor, employee_code: str, incident_code: str, kind: str) -> None:
    try:
        care.record_follow_up(get_db(), actor, care.FollowUpRequest(employee_code, incident_code, kind))
    except EmpowermentError as exc:
        S["followup_error"] = str(exc)
        return
    S.pop("followup_error", None)
    S["followup_flash"] = f"{FollowUpKind(kind).label}: recorded."
    st.cache_data.clear()


def awaiting_follow_up_section(actor: Actor, employee_code: str | None) -> None:
    awaiting = care_queries.awaiting_follow_up(get_db(), actor)
    st.markdown(f"**Awaiting a follow-up ({len(awaiting)})**")
    if S.get("followup_flash"):
        st.success(ui.md(S.pop("followup_flash")), icon=":material/call:")
    if S.get("followup_error"):
        st.error(ui.md(S.pop("followup_error")))
    if awaiting.empty:
        st.caption("Every recent recovery has been followed up.")
        return
    for row in awaiting.head(10).itertuples():
        with st.container(border=True, key=f"followup_{row.incident_code}"):
            st.markdown(f"**{ui.name(row.customer)}** · {ui.md(row.category)} · recovered {ui.when(row.recovered_at)}")
            if employee_code is not None:
                with st.container(horizontal=True):
                    for kind in FollowUpKind:
                        st.button(kind.label, key=f"fu_{row.incident_code}_{kind.value}",
                                  on_click=callback(_follow_up), args=(employee_code, row.incident_code, kind.value))


WAITING_SHOWN = 10


def waiting_section(actor: Actor) -> None:
    waiting = care_queries.waiting_incidents(get_db(), actor)
    st.markdown(f"**Open incidents waiting for a gesture ({len(waiting)})**")
    if waiting.empty:
        st.caption("No incident is waiting.")
        return
    # Lines, not a grid: readable at a glance on a tablet, and no canvas that paints late.
    with st.container(key="care_waiting"):
        for row in waiting.head(WAITING_SHOWN).itertuples():
            st.markdown(f":material/hourglass_top: **{ui.name(row.customer)}** · {ui.md(row.category)} · waiting "
                        f"{ui.md(waited(row.waited_hours))} · reported {ui.when(row.occurred_at)}")
        if len(waiting) > WAITING_SHOWN:
            st.caption(f"and {len(waiting) - WAITING_SHOWN:,} more, longest waiting first.")


# --- recognition -----------------------------------------------------------------------------------

def recognition_feed(feed: pd.DataFrame, empty: str) -> None:
    if feed.empty:
        ui.empty_state("No stories yet", empty, ":material/star:")
        return
    for row in feed.itertuples():
        with st.container(border=True):
            st.markdown(f":material/star: **{ui.name(row.by)}** · {ui.md(row.type)} for {ui.name(row.customer)} · "
                        f"{ui.md(row.category)}")
            if row.values:
                st.caption(ui.md(f"Lived: {row.values}"))
            if row.story:
                st.markdown(f"> {ui.md(' '.join(str(row.story).split()))}")
            if row.thanks:
                st.markdown(f":material/chat: *{ui.md(row.thanks)}* — {ui.name(row.thanked_by)}")
            st.caption(ui.when(row.occurred_at))


# --- the tablet ------------------------------------------------------------------------------------

def value_pills() -> None:
    """Optional: one or two service values the gesture lived (one tap each)."""
    vocab = current_vocabulary()
    values = vocab.of(SERVICE_VALUE)
    if not values:
        return
    labels = {t.code: t.label for t in values}
    st.pills(f"Which of our values did you live? (optional, up to {MAX_VALUES_PER_GESTURE})", list(labels),
             key=VALUES_KEY, selection_mode="multi", format_func=lambda c: labels.get(c, c))
    chosen = S.get(VALUES_KEY) or []
    if len(chosen) > MAX_VALUES_PER_GESTURE:
        st.warning(f"Pick at most {MAX_VALUES_PER_GESTURE} values.", icon=":material/front_hand:")


def chosen_values() -> tuple[str, ...]:
    return tuple(S.get(VALUES_KEY) or ())


@st.cache_data(show_spinner=False, max_entries=8)
def _evidence_at(db_url: str, computed_at: Any) -> pd.DataFrame:
    """The stored evidence as of one refresh (`computed_at` is the key: a new refresh is read once)."""
    return care_queries.stored_evidence(get_db())


def stored_evidence() -> pd.DataFrame | None:
    """The evidence the last refresh stored (computed off the app process, `reports.evidence`), or
    None before the first one: one primary-key read per rerun, the rows cached per refresh."""
    state = care_queries.evidence_state(get_db())
    return None if state is None else _evidence_at(get_db().url, state.computed_at)


NO_FAIR_COMPARISON = "no fair comparison yet"


def what_tends_to_work(category: str | None) -> None:
    """Once the category is picked: how customers with that breakdown came back after each gesture
    type, from the payoff's adjusted breakdown for that category (`queries.care.what_tends_to_work`,
    computed off the app process and stored; the tablet only reads it), with an interval and the
    number of cases. Nothing stored yet: "not enough cases yet", never an error."""
    if not category:
        return
    evidence = stored_evidence()
    vocab = current_vocabulary()
    rows = evidence.loc[evidence["category"] == category] if evidence is not None else evidence
    with st.expander(f"What tends to work for {vocab.label(INCIDENT_CATEGORY, category)}", expanded=False):
        if rows is None:
            st.caption("Not enough cases yet: what tends to work is worked out every hour from the gestures "
                       "logged, and has not been worked out here yet.")
            return
        if rows.empty:
            st.caption("Not enough cases yet for this kind of breakdown.")
            return
        horizon = care_queries.EVIDENCE_HORIZON_DAYS
        st.markdown(f"Customers back within {horizon} days after each gesture, in points more (+) or fewer (−) "
                    "than similar customers given no gesture:")
        for row in rows.itertuples():
            label = vocab.label(GESTURE_TYPE, row.gesture_type)
            st.markdown(f"- **{ui.md(label)}**: {ui.md(breakdown_short(row, MIN_CASES, NO_FAIR_COMPARISON))}")
        st.caption("Associated with, not proof of, coming back: an observational comparison, adjusted for the "
                   "customers' visits and spend in the year before, how long they had been customers and the "
                   "place. Holm's correction allows for comparing several gestures at once. “No fair comparison "
                   "yet”: those who got it differ too much from those who got nothing.")


def point_of_service_flags(history: Any, amount_cents: int | None, currency: str | None = None,
                           locale: str | None = None) -> None:
    """Soft warnings on the tablet: overcompensation and repeat recoveries (they never block);
    amounts in the location's `currency` (the customer's visits are in it too)."""
    from empowerment.analytics.care import (
        OVERCOMPENSATION_SHARE,
        REPEAT_RECOVERIES,
        is_overcompensation,
        recent_recoveries,
        typical_visit_cents,
    )

    typical = typical_visit_cents(int(history.lifetime_spend_cents or 0), int(history.visits or 0))
    if is_overcompensation(amount_cents, typical):
        st.warning(ui.md(f"{ui.money(amount_cents, currency, locale)} is more than {OVERCOMPENSATION_SHARE:.0%} of what "
                         f"this customer usually spends on a visit ({ui.money(typical, currency, locale)}). Generous is good; research finds much "
                         "more than the loss can feel odd to some guests. Speed and a sincere word matter most."),
                   icon=":material/balance:")
    events = history.events
    if len(events) and "gesture_at" in events:
        times = events.loc[events["gesture"].notna() & (events["status"] == "logged"), "gesture_at"]
        recovered = recent_recoveries(times, pd.Timestamp.now())
        if recovered >= REPEAT_RECOVERIES:
            st.info(ui.md(f"Repeat: this customer was recovered {recovered} times in the last 90 days. "
                          "Consider a follow-up or a word with your manager about the root cause."), icon=":material/repeat:")


def hand_over_sections(actor: Actor) -> None:
    """The hand-over's care part: the care list (top five), awaiting follow-up, waiting incidents."""
    from empowerment.queries import my_budget

    try:
        employee_code: str | None = my_budget.employee_code_for(get_db(), actor)
    except EmpowermentError:
        employee_code = None
    locations = care_queries.locations_in_reach(get_db(), actor)
    with st.container(key="handover_care"):
        st.subheader(":material/favorite: Customers at risk")
        if len(locations) == 1:
            care_list_section(actor, employee_code, locations[0][1], limit=5, compact=True)
        elif locations:
            chosen = st.selectbox("Care list for", [n for _, n in locations], key="ho_care_location")
            care_list_section(actor, employee_code, chosen, limit=5, compact=True)
        else:
            st.caption("Your team has no location yet, so there is no care list.")
        awaiting_follow_up_section(actor, employee_code)
        waiting_section(actor)


def values_chart(values: pd.DataFrame, by_team: bool) -> None:
    import altair as alt

    if values.empty:
        st.caption("No gesture tagged with a value yet: staff can tap one or two when they log a gesture.")
        return
    chart = alt.Chart(values).mark_bar().encode(
        x=alt.X("sum(gestures):Q", title="Gestures"),
        y=alt.Y("value:N", title=None, sort="-x"),
        color=alt.Color("team:N", title="Team") if by_team else alt.value("#2e7d32"),
        tooltip=[alt.Tooltip("team:N", title="Team"), alt.Tooltip("value:N", title="Value"),
                 alt.Tooltip("gestures:Q", title="Gestures")])
    st.altair_chart(chart.properties(height=max(28 * values["value"].nunique(), 80)), width="stretch")


def my_values_and_recognitions(actor: Actor, employee_code: str) -> None:
    from datetime import timedelta

    st.subheader("The values I live")
    values_chart(care_queries.values_lived(get_db(), actor, None, utc_now() - timedelta(days=365),
                                           employee_code=employee_code), by_team=False)
    st.subheader("My recognitions")
    recognition_feed(care_queries.recognition_feed(get_db(), actor, employee_code=employee_code),
                     "When a manager thanks you for a recovery, it shows here.")


def team_values_and_speed(actor: Actor, team_ids: list[int] | None, since: Any) -> None:
    """The Team page's part: which values the team lives, and how fast incidents get a gesture."""
    st.subheader("Values lived, by team")
    values_chart(care_queries.values_lived(get_db(), actor, team_ids, since), by_team=True)
    st.subheader("Speed: incident to gesture")
    speed = care_queries.time_to_gesture(get_db(), actor, team_ids, since)
    if speed.empty:
        st.caption("No recovered incident in this period yet.")
        return
    st.dataframe(pd.DataFrame({"Team": speed["team"], "Incidents": speed["incidents"],
                               "Typical wait": [waited(h) for h in speed["median_hours"]],
                               "9 in 10 within": [waited(h) for h in speed["p90_hours"]]}),
                 hide_index=True, width="stretch", key="team_speed")
    st.caption("Speed matters more than money for how a recovery feels (Wirtz & Mattila 2004).")
