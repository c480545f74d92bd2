"""Connections (admins): API tokens for the systems around the app (created here, shown once,
revocable) and the sources that push signed webhooks. `services.api_tokens` and `services.webhooks`
decide and refuse; every write runs in a button's callback."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from empowerment import settings
from empowerment.actor import Actor
from empowerment.errors import EmpowermentError
from empowerment.queries import connections
from empowerment.queries.my_budget import employee_code_for
from empowerment.services import api_tokens, webhooks
from empowerment.ui import components as ui
from empowerment.ui.session import callback, get_db
from empowerment.ui.signin import require_page

S = st.session_state
FLASH, SHOWN = "cn_flash", "cn_shown_once"

actor = require_page("connections")
db = get_db()
SCOPE_LABELS = {"ingest": "Send data in batches", "log": "Log, undo and decide gestures",
                "read": "Read histories and balances"}


def _create_token(actor: Actor) -> None:
    try:
        new = api_tokens.create_token(db, actor, S.get("cn_name", ""), S.get("cn_scopes") or [],
                                      (S.get("cn_as") or "").strip() or employee_code_for(db, actor),
                                      int(S.get("cn_limit") or 0) or None)
    except EmpowermentError as exc:
        ui.flash(FLASH, "error", str(exc))
        return
    S[SHOWN] = ("token", new.name, new.token)


def _revoke(actor: Actor, token_id: int) -> None:
    try:
        api_tokens.revoke_token(db, actor, token_id)
        ui.flash(FLASH, "success", "Token revoked; calls with it are refused from now on.")
    except EmpowermentError as exc:
        ui.flash(FLASH, "error", str(exc))


def _create_source(actor: Actor) -> None:
    try:
        secret = webhooks.create_source(db, actor, S.get("cn_source", ""))
    except EmpowermentError as exc:
        ui.flash(FLASH, "error", str(exc))
        return
    S[SHOWN] = ("source", S.get("cn_source", "").strip().lower(), secret)


def _revoke_source(actor: Actor, name: str) -> None:
    try:
        webhooks.revoke_source(db, actor, name)
        ui.flash(FLASH, "success", f"Pushes from {name} are refused from now on.")
    except EmpowermentError as exc:
        ui.flash(FLASH, "error", str(exc))


def _when(value: object) -> str:
    return "never" if value is None or pd.isna(value) else ui.when(value)  # type: ignore[arg-type]


st.title("Connections")
st.caption(f"Other systems use the API at {settings.current().public_url}/api/v1 "
           f"([docs]({settings.current().public_url}/api/v1/docs)).")
ui.show_flash(FLASH)
if S.get(SHOWN):
    kind, name, secret = S.pop(SHOWN)
    with st.container(border=True):
        what = "token" if kind == "token" else "signing secret"
        st.success(f"Copy the {what} for {ui.md(name)} now: it is not shown again.")
        st.code(secret, language=None)

tokens_tab, sources_tab = st.tabs(["API tokens", "Webhook sources"])
with tokens_tab:
    with st.form("cn_token_form", border=True):
        left, right = st.columns(2)
        left.text_input("Name", key="cn_name", placeholder="PMS Harbour", help="The system that will use it.")
        right.text_input("Acts as (employee id)", key="cn_as", placeholder="you",
                         help="Whose rights it carries; batches need an admin. Empty: you.")
        left.multiselect("Scopes", list(SCOPE_LABELS), format_func=SCOPE_LABELS.get, key="cn_scopes")
        right.number_input("Calls per minute", min_value=0, step=60, key="cn_limit",
                           help=f"0: the default ({settings.current().api_rate_limit_per_minute:,}).")
        st.form_submit_button("Create token", type="primary", on_click=callback(_create_token))
    tokens = connections.api_tokens(db, actor)
    if tokens.empty:
        ui.empty_state("No API tokens yet", "Create one for each system that sends data or logs gestures.", ":material/key:")
    for row in tokens.itertuples():
        with st.container(border=True):
            left, right = st.columns([4, 1])
            state = f"revoked {ui.when(row.revoked_at)}" if not pd.isna(row.revoked_at) else \
                f"last used {_when(row.last_used_at)}"
            left.markdown(f"**{ui.md(row.name)}** · acts as {ui.name(row.acts_as)} · "
                          f"{', '.join(SCOPE_LABELS[s].lower() for s in row.scopes.split())}")
            left.caption(f"Starts {ui.md(row.prefix)}… · {row.rate_limit_per_minute:,} calls a minute · {state}")
            if pd.isna(row.revoked_at):
                right.button("Revoke", key=f"cn_revoke_{row.token_id}", on_click=callback(_revoke), args=(row.token_id,))
with sources_tab:
    st.caption("A source pushes batches to /api/v1/webhooks/<name>, signed with its secret "
               "(HMAC-SHA256 of the timestamp and the body); pushes older than 5 minutes are refused.")
    with st.form("cn_source_form", border=True):
        st.text_input("Source name", key="cn_source", placeholder="pms")
        st.form_submit_button("Add source", type="primary", on_click=callback(_create_source))
    sources = connections.webhook_sources(db, actor)
    if sources.empty:
        ui.empty_state("No webhook sources yet", "Add one for each system that pushes data.", ":material/webhook:")
    for row in sources.itertuples():
        with st.container(border=True):
            left, right = st.columns([4, 1])
            left.markdown(f"**{ui.md(row.name)}** · last push {_when(row.last_received_at)}")
            if pd.isna(row.revoked_at):
                right.button("Revoke", key=f"cn_revoke_src_{row.name}", on_click=callback(_revoke_source), args=(row.name,))
            else:
                left.caption(f"Revoked {ui.when(row.revoked_at)}")
