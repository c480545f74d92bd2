"""Shared widgets for the pages: money for display, Markdown-safe text, a budget meter, the customer
history card, empty states, a spend chart and the tablet style sheet.

Rule: anything a person typed (names, notes) and any money string is passed through `md()` before
it reaches an element that renders Markdown (alerts, labels, metrics, captions), and is never
rendered as HTML. `$…$` would otherwise turn into LaTeX and `[x](y)` into a link.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from empowerment import clock, labels, settings
from empowerment.models import GestureType
from empowerment.money import currency_symbol, format_money, minor_digits
from empowerment.queries.budgets import BudgetStatus
from empowerment.queries.customers import CustomerHistory

TABLET_CSS = Path(__file__).with_name("tablet.css")
BASE_CSS = Path(__file__).with_name("base.css")

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>$~|#:])")
_MD_UNESCAPE = re.compile(r"\\([\\`*_{}\[\]<>$~|#:])")
_ISOLATE, _END_ISOLATE = "\u2068", "\u2069"  # Unicode first-strong isolate / pop isolate
# Streamlit's Markdown turns bare URLs, "www." names and e-mail addresses into links after the
# escapes are resolved (GFM autolink literals work on the parsed text), so escaping cannot stop
# them: an invisible word joiner inside "://", "www." and after "@" does.
_NO_LINK = "\u2060"
_AUTOLINK = re.compile(r"(?i)(:)(?=//)|(www)(?=\.)|(@)")

# What was done, in words (from `GestureType.label`; emoji were boxes on tablets without an emoji font).
GESTURE_LABELS = {kind.value: kind.label for kind in GestureType}


# --- text and money -------------------------------------------------------------------------------

def md(text: object) -> str:
    """Escape Markdown (and LaTeX `$`) so user text and money display literally; URLs and e-mail
    addresses in it are shown as text, never made into links."""
    unlinked = _AUTOLINK.sub(lambda m: m.group(0) + _NO_LINK, str(text))
    return _MD_SPECIAL.sub(r"\\\1", unlinked)


def name(text: object) -> str:
    """A person's name inside a sentence: Markdown-escaped and direction-isolated, so an Arabic or
    Hebrew name does not flip the words around it ("1 · <name>", "<name>: nothing to repeat")."""
    return f"{_ISOLATE}{md(text)}{_END_ISOLATE}"


def unmd(text: str) -> str:
    """What a person reads: inverse of `md` and `name`, for tests that compare with a message."""
    plain = _MD_UNESCAPE.sub(r"\1", text).replace(_ISOLATE, "").replace(_END_ISOLATE, "")
    return plain.replace(_NO_LINK, "")


def money(cents: int | None, currency: str | None = None, locale: str | None = None, *,
          whole: bool = False) -> str:
    """Minor units for display, in `currency` (a location's; the installation's by default) and
    `locale`: 12345 -> '$123.45', 1250 JPY -> '¥1,250', 1250 EUR in fr_FR -> '12,50 €'."""
    return format_money(cents, currency, locale, whole=whole)


def money_short(cents: int | None) -> str:
    """Headline figures in narrow metric tiles: $950, $12.3k, $1.25M (exact figures stay in text)."""
    if cents is None:
        return "—"
    units = cents / 100  # display only: never used for arithmetic
    symbol = currency_symbol()
    for threshold, suffix, digits in ((1e6, "M", 2), (1e3, "k", 1)):
        if abs(units) >= threshold:
            return f"{'-' if units < 0 else ''}{symbol}{abs(units) / threshold:,.{digits}f}{suffix}"
    return money(cents)


def money_format(currency: str | None = None) -> str:
    """The `st.column_config.NumberColumn` format for money in `currency` (the installation's by
    default; a table column of amounts carries its currency, like every amount a person reads),
    with that currency's decimals (none for the yen)."""
    presets = {"$": "dollar", "€": "euro", "£": "pound"}
    symbol = currency_symbol(currency)
    digits = minor_digits(currency or settings.currency())
    if digits == 2 and symbol in presets:
        return presets[symbol]
    return f"{symbol.strip()} %.{digits}f"


def gesture_label(value: str | None) -> str:
    return labels.gesture_type(value)


def status_label(value: str | None) -> str:
    return labels.status(value)


def when(value: datetime | pd.Timestamp | None) -> str:
    """A stored (UTC) time as the business's wall clock shows it: the server's zone never shows."""
    if value is None or pd.isna(value):
        return "—"
    return when_local(clock.local_time(pd.Timestamp(value).to_pydatetime()))


def when_local(value: datetime | pd.Timestamp | None) -> str:
    """A time a query already turned into the business's wall clock (hand-over, audit log)."""
    if value is None or pd.isna(value):
        return "—"
    return f"{pd.Timestamp(value):%d %b %Y, %H:%M}"


def _tablet_css(path: Path = TABLET_CSS) -> str:
    # Comments stripped: Streamlit 1.67 drops a style-only `st.html` whose CSS holds a comment.
    return re.sub(r"/\*.*?\*/", "", path.read_text(encoding="utf-8"), flags=re.S).strip()


def apply_base_style() -> None:
    """Contrast, touch targets and unclipped metrics on every page (a static file)."""
    st.html(f"<style>{_tablet_css(BASE_CSS)}</style>")


def apply_tablet_style() -> None:
    """Larger touch targets inside containers keyed `tablet_*` (a static file, never user data)."""
    st.html(f"<style>{_tablet_css()}</style>")


# --- blocks ---------------------------------------------------------------------------------------

def flash(key: str, kind: str, message: object) -> None:
    """Keep a message for the next run of the page (a callback's outcome): kind is "success",
    "error", "warning" or "info"."""
    st.session_state[key] = (kind, str(message))


def show_flash(key: str, where: DeltaGenerator | None = None) -> None:
    """Show, once, the message `flash` kept under `key`."""
    if key not in st.session_state:
        return
    kind, message = st.session_state.pop(key)
    getattr(where or st, kind)(md(message))


def empty_state(title: str, body: str, icon: str = ":material/eco:") -> None:
    with st.container(border=True):
        st.markdown(f"### {icon} {md(title)}")
        st.caption(md(body))


def budget_meter(status: BudgetStatus) -> None:
    """Remaining balance, big, with a bar of what is used out of what was allocated."""
    allocated = max(status.allocated_cents, 0)
    used = status.spent_cents + status.held_cents
    share = min(max(used / allocated, 0.0), 1.0) if allocated else 0.0
    text = f"{money(used)} used of {money(allocated)}"
    if status.held_cents:
        text += f" ({money(status.held_cents)} held for approval)"
    st.progress(share, text=md(text))


def customer_history_card(history: CustomerHistory, shown: int = 3, *, with_facts: bool = True) -> None:
    """Everything the desk already knows, so the customer never has to repeat themselves: the
    latest few events as lines a colleague reads at a glance, the rest one tap away. Without
    `with_facts` when the screen already shows who they are and the summary (the tablet's card)."""
    customer = history.customer
    if with_facts:
        facts = [customer.code, customer.room and f"room {customer.room}", customer.phone, customer.segment]
        last = f"{history.last_visit_at:%d %b %Y}" if history.last_visit_at else "—"
        st.caption(md(" · ".join(x for x in facts if x)) + f" · **{history.visits:,}** visits · last visit "
                   f"**{last}** · **{history.open_incidents}** open issue{'s' * (history.open_incidents != 1)}")
    if history.events.empty:
        st.info(f"First time we hear from {name(customer.name)}: nothing to repeat.", icon=":material/eco:")
        return
    for row in history.events.head(shown).itertuples():
        st.markdown(history_line(row))
        if isinstance(row.note, str) and row.note.strip():
            st.caption(f"“{md(row.note.strip())}”")
    if len(history.events) > shown:
        with st.expander(f"All {len(history.events)} earlier events"):
            st.dataframe(history_table(history.events), hide_index=True, width="stretch")


def history_line(row: object) -> str:
    """'**22 Nov 2026** · Long wait → Gift $15.00 · Ben Colleague · Logged' (Markdown-safe)."""
    at = getattr(row, "gesture_at", None)
    at = at if at is not None and not pd.isna(at) else getattr(row, "incident_at", None)
    gesture = getattr(row, "gesture", None)
    if not isinstance(gesture, str):
        return f"**{when(at)}** · {md(getattr(row, 'category', ''))} → *not resolved yet*"
    done = f"{gesture_label(gesture)} {money(int(getattr(row, 'cost_cents', 0) or 0))}"
    who = getattr(row, "by", None)
    return (f"**{when(at)}** · {md(getattr(row, 'category', ''))} → {md(done)}"
            f"{f' · {name(who)}' if isinstance(who, str) else ''} · {status_label(getattr(row, 'status', ''))}")


def history_table(events: pd.DataFrame) -> pd.DataFrame:
    """The customer's incidents and gestures, in words a colleague reads at a glance."""
    gesture_at = events["gesture_at"].where(events["gesture_at"].notna(), events["incident_at"])
    return pd.DataFrame({
        "When": gesture_at.map(when),
        "What went wrong": events["category"].fillna(""),
        "What we did": [gesture_label(g) if isinstance(g, str) else "Not yet resolved"
                        for g in events["gesture"]],
        "Cost": [money(int(c)) if pd.notna(c) else "" for c in events["cost_cents"]],
        "Who helped": events["by"].fillna(""),
        "Status": [status_label(s) if isinstance(s, str) else "Open" for s in events["status"]],
        "Note": events["note"].fillna(""),
    })


def gestures_table(history: pd.DataFrame) -> pd.DataFrame:
    """One person's own gestures for the My budget page."""
    return pd.DataFrame({
        "When": history["occurred_at"].map(when),
        "Customer": history["customer"],
        "What went wrong": history["category"],
        "What you did": history["gesture"].map(gesture_label),
        "Cost": history["cost_cents"].map(money),
        "Status": history["status"].map(status_label),
    })


# --- the tablet's hands: keypads, the Done button ---------------------------------------------------

_KEYPAD_JS = """<script>(() => {
  const pairs = window.__empKeypadPairs = Object.assign(window.__empKeypadPairs || {}, %s);
  const apply = () => {
    for (const [key, mode] of Object.entries(pairs)) {
      document.querySelectorAll(`.st-key-${key} input`).forEach((input) => {
        if (input.getAttribute("inputmode") === mode) return;
        input.setAttribute("inputmode", mode);
        input.setAttribute("autocomplete", "off");
        if (mode === "numeric") input.setAttribute("pattern", "[0-9]*");
      });
    }
  };
  apply();
  if (!window.__empKeypadObserver) {
    window.__empKeypadObserver = new MutationObserver(apply);
    window.__empKeypadObserver.observe(document.body, {subtree: true, childList: true});
  }
})();</script>"""


def keypads(decimal: tuple[str, ...] = (), numeric: tuple[str, ...] = ()) -> None:
    """Bring up the right on-screen keyboard: a decimal keypad for the text inputs keyed `decimal`
    (amounts), a numeric pad for `numeric` (PINs). Streamlit's text input has no `inputmode`, so a
    small script sets it on the inputs of those keys, and again whenever Streamlit redraws them.
    Static code; the keys are the page's own widget keys, never user data."""
    import json

    pairs = {key: "decimal" for key in decimal} | {key: "numeric" for key in numeric}
    if not all(re.fullmatch(r"[A-Za-z0-9_-]+", key) for key in pairs):
        raise ValueError("widget keys only")
    with st.container(key="emp_keypads"):  # hidden: no gap in the layout
        st.html("<style>.st-key-emp_keypads {display: none}</style>" + _KEYPAD_JS % json.dumps(pairs),
                unsafe_allow_javascript=True)


def limits_bar(remaining_cents: int, cap_cents: int, cap_left_cents: int | None, review_above_cents: int | None,
               approval_above_cents: int | None, who_decides: str, customer_name: str | None = None,
               currency: str | None = None, locale: str | None = None) -> None:
    """What the person may spend, pinned at the top of the tablet page from the start: budget left,
    the daily cap per customer (and what is left of it for the customer picked), the thresholds;
    in the location's `currency` and `locale`."""
    def here(amount: int | None) -> str:
        return money(amount, currency, locale)

    cap = (f"{here(cap_left_cents)} left for {name(customer_name)} today (limit {here(cap_cents)})"
           if customer_name is not None and cap_left_cents is not None
           else f"up to {here(cap_cents)} per customer per day")
    parts = [f"**{md(here(remaining_cents))}** budget left", md(cap) if customer_name is None else cap]
    if approval_above_cents is not None:
        parts.append(f"approval above {md(here(approval_above_cents))} ({name(who_decides)})")
    if review_above_cents is not None:
        parts.append(f"review above {md(here(review_above_cents))}")
    with st.container(key="tablet_limits"):
        st.markdown(" · ".join(parts))
