"""Data (admins): import the organisation's records from CSV files.

Pick the kind, upload the file, look at its first rows, map its columns when its headers differ
from the canonical ones (remembered per kind), check it (a dry run that writes nothing), then
import it. Every problem comes back as a table (line, column, value, reason) with a download.
`empowerment.importing` does the work; an import is all rows or none, and repeating it changes
nothing, so a double tap on Import is harmless.
"""

from __future__ import annotations

import hashlib
import io
import json
from typing import Any

import pandas as pd
import streamlit as st

from empowerment import access
from empowerment.csvformat import IMPORT_KINDS, KINDS, template
from empowerment.errors import EmpowermentError, ImportFailed
from empowerment.queries import admin
from empowerment.reports.safety import neutralise_frame
from empowerment.services import organisation
from empowerment.services.erasure import erase_customer
from empowerment.services.importing import import_csv
from empowerment.ui import components as ui
from empowerment.ui.session import get_db
from empowerment.ui.signin import require_page

S = st.session_state
RESULT = "dt_result"
PREVIEW_ROWS = 5
NOT_IN_FILE = "(not in the file)"
PROBLEM_COLUMNS = ["line", "column", "value", "reason"]
KIND_LABELS = {"employees": "Employees", "customers": "Customers", "transactions": "Transactions (POS)",
               "incidents": "Incidents", "gestures": "Recovery gestures"}


# --- reading the upload -------------------------------------------------------------------------

def preview(data: bytes) -> tuple[list[str], pd.DataFrame]:
    """Header and first rows, as text (nothing is converted): raises ValueError if unreadable."""
    frame = pd.read_csv(io.BytesIO(data), nrows=PREVIEW_ROWS, dtype=str, keep_default_na=False,
                        encoding="utf-8-sig", skipinitialspace=True)
    return [str(c).strip() for c in frame.columns], frame


def choose_mapping(kind: str, headers: list[str], file_id: str) -> tuple[dict[str, str], bool]:
    """One select per canonical column; open when a required column is not found by name."""
    spec = KINDS[kind]
    remembered = admin.get_mapping(get_db(), kind)
    suggestion = organisation.suggest_mapping(kind, headers, remembered)
    missing = [c for c in spec.required if suggestion[c] != c]
    chosen: dict[str, str] = {}
    with st.expander("Column mapping", expanded=bool(missing), icon="🔀"):
        if missing:
            st.caption("This file's headers differ from the canonical ones. Pick which column holds each "
                       "field; the choice is remembered for the next file of this kind.")
        elif remembered:
            st.caption("Using the mapping remembered for this kind of file.")
        columns = st.columns(2)
        options = [NOT_IN_FILE, *headers]
        for index, column in enumerate(spec.names):
            need = "required" if column in spec.required else "optional"
            default = suggestion[column]
            picked = columns[index % 2].selectbox(
                f"{column} ({need})", options, index=options.index(default) if default in options else 0,
                key=f"dt_map_{kind}_{column}_{file_id}")
            if picked != NOT_IN_FILE and picked != column:
                chosen[column] = picked
        remember = st.checkbox(f"Remember this mapping for {KIND_LABELS[kind].lower()} files", value=True,
                               key=f"dt_remember_{kind}")
    return chosen, remember


# --- running the importer -----------------------------------------------------------------------

def run(kind: str, upload: Any, mapping: dict[str, str], dry_run: bool, actor: Any) -> dict[str, Any]:
    bar = st.progress(0.0, text="Checking…" if dry_run else "Importing…")
    try:
        summary = import_csv(
            get_db(), kind, upload, actor=actor, dry_run=dry_run,
            column_mapping=mapping or None, progress=lambda fraction, message: bar.progress(fraction, text=message),
        )
    except ImportFailed as exc:
        bar.empty()
        return {"ok": False, "dry_run": dry_run, "message": str(exc), "problems": exc.problems}
    except EmpowermentError as exc:
        bar.empty()
        return {"ok": False, "dry_run": dry_run, "message": str(exc), "problems": []}
    bar.empty()
    return {"ok": True, "dry_run": dry_run, "message": summary.as_text(), "problems": []}


def remember(kind: str, mapping: dict[str, str], wanted: bool, actor: Any) -> None:
    if not wanted:
        return
    try:
        organisation.set_mapping(get_db(), actor, kind, mapping)
    except EmpowermentError as exc:
        st.warning(ui.md(f"The mapping was not remembered: {exc}"))


def show_result(result: dict[str, Any], kind: str, filename: str) -> None:
    lines = [ui.md(line) for line in result["message"].splitlines() if line.strip()]
    if result["ok"]:
        (st.info if result["dry_run"] else st.success)("  \n".join(lines), icon="✅")
        return
    st.error("  \n".join(lines), icon="🚫")
    problems = pd.DataFrame(result["problems"], columns=PROBLEM_COLUMNS)
    if problems.empty:
        return
    shown = problems.astype({"value": str, "column": str}).replace({"None": ""})
    st.dataframe(shown, hide_index=True, width="stretch", key="dt_problems", column_config={
        "line": st.column_config.NumberColumn("Line", format="%d"),
        "column": "Column", "value": "Value", "reason": "Reason"})
    st.caption(f"{len(problems):,} problem{'s' if len(problems) != 1 else ''} listed; line 1 is the header.")
    report = neutralise_frame(problems).to_csv(index=False).encode("utf-8")  # no live formulas in Excel
    stem = filename.rsplit(".", 1)[0] or kind
    st.download_button("Download the problems (CSV)", report, file_name=f"{stem}-problems.csv",
                       mime="text/csv", on_click="ignore", icon="🧾", key="dt_problems_csv")


# --- the page -----------------------------------------------------------------------------------

def main(actor: Any) -> None:
    st.title("Data")
    st.caption("Import employees, customers, transactions, incidents and recovery gestures from CSV files. "
               "A file is checked whole first; one bad row refuses it and every problem is listed.")
    kind = st.selectbox("What does the file hold?", IMPORT_KINDS, format_func=KIND_LABELS.get, key="dt_kind")
    st.caption("Canonical header (required columns first):")
    st.code(template(kind), language=None)
    upload = st.file_uploader("CSV file", type=["csv"], key=f"dt_file_{kind}")
    if upload is None:
        ui.empty_state("No file yet", "Upload a CSV export; you will see its first rows before anything is written.",
                       icon="🗂️")
        return
    data = upload.getvalue()
    file_id = hashlib.sha256(data).hexdigest()[:16]
    try:
        headers, first_rows = preview(data)
    except (ValueError, UnicodeDecodeError) as exc:
        st.warning(ui.md(f"The file cannot be previewed ({exc}); checking it will say what is wrong."))
        headers, first_rows = [], pd.DataFrame()
    if not first_rows.empty or headers:
        st.dataframe(first_rows, hide_index=True, width="stretch", key="dt_preview")
        st.caption(ui.md(f"First {len(first_rows)} rows of {upload.name} ({len(data):,} bytes), as text."))
    mapping, keep = choose_mapping(kind, headers, file_id) if headers else ({}, False)
    attempt = json.dumps([kind, file_id, mapping], sort_keys=True)

    check_col, import_col = st.columns(2)
    if check_col.button("Check the file", icon="🔍", key="dt_check", width="stretch",
                        help="A dry run: every row is validated, nothing is written."):
        remember(kind, mapping, keep, actor)
        S[RESULT] = {"attempt": attempt, **run(kind, upload, mapping, True, actor)}
    result = S.get(RESULT) if (S.get(RESULT) or {}).get("attempt") == attempt else None
    checked_ok = bool(result and result["ok"])
    if import_col.button("Import", icon="📥", type="primary", key="dt_import", width="stretch",
                         disabled=not checked_ok, help="Available once the check has passed."):
        remember(kind, mapping, keep, actor)
        S[RESULT] = result = {"attempt": attempt, **run(kind, upload, mapping, False, actor)}
        if result["ok"]:
            st.cache_data.clear()  # figures elsewhere are keyed on the data version too
    if result:
        show_result(result, kind, upload.name)
    elif not checked_ok:
        st.caption("Check the file first; Import becomes available when the check passes.")


def erasure_section(actor: Any) -> None:
    """Erase a customer's personal data on request (admins). A form, so nothing runs until the
    admin submits, and a confirmation box, because it cannot be undone."""
    if not access.allows(actor, "customer.erase", anywhere=True):
        return
    st.divider()
    st.subheader("Erase a customer on request")
    st.caption("Removes the name, id, contact details, room and every note about their visits. Amounts, "
               "dates and categories stay, so budgets and the payoff still add up. This cannot be undone.")
    ui.show_flash("dt_erase_flash")
    with st.form("dt_erase", clear_on_submit=True, border=True):
        customer_code = st.text_input("Customer id", key="dt_erase_customer", max_chars=64)
        reference = st.text_input("On what request (ticket or letter reference, not the name)",
                                  key="dt_erase_reference", max_chars=200)
        sure = st.checkbox("I understand this erases the customer's personal data for good",
                           key="dt_erase_sure")
        submitted = st.form_submit_button("Erase", icon="🧹", type="primary")
    if not submitted:
        return
    if not sure:
        ui.flash("dt_erase_flash", "warning", "Tick the box to confirm; nothing was erased.")
    else:
        try:
            result = erase_customer(get_db(), actor, customer_code, reference)
            ui.flash("dt_erase_flash", "success", result.as_text())
            st.cache_data.clear()
        except EmpowermentError as exc:
            ui.flash("dt_erase_flash", "error", str(exc))
    st.rerun()


ACTOR = require_page("data")
main(ACTOR)
erasure_section(ACTOR)
