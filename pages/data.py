"""Data (admins): import the organisation's records from CSV files.

Pick the kind, upload the file, look at its first rows, say how it is written when detection is
not enough (separator, decimal mark, date format), map its columns when its headers differ from
the canonical ones (remembered per kind), check it (a dry run that writes nothing), then import
it. Every problem comes back as a table (line, column, value, reason) with a download. An import
is all rows or none, or, when chosen, the valid rows with the others offered as a rejects file to
correct and import again; either way one transaction. Repeating an import changes nothing, so a
double tap on Import is harmless. `empowerment.services.importing` does the work.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pandas as pd
import streamlit as st

from empowerment import access
from empowerment.csvformat import (
    DATE_FORMATS,
    DECIMAL_MARKS,
    DELIMITERS,
    IMPORT_KINDS,
    KINDS,
    csv_bytes,
    template,
)
from empowerment.errors import EmpowermentError, ImportFailed, UnknownValues
from empowerment.queries import admin
from empowerment.services import organisation
from empowerment.services.erasure import erase_customer
from empowerment.services.importing import FileFormat, import_csv, preview_file, rejects_csv
from empowerment.ui import components as ui
from empowerment.ui import value_mapping
from empowerment.ui.session import get_db
from empowerment.ui.signin import require_page

S = st.session_state
RESULT = "dt_result"
PREVIEW_ROWS = 5
NOT_IN_FILE = "(not in the file)"
PROBLEM_COLUMNS = ["line", "column", "value", "reason"]
KIND_LABELS = {"employees": "Employees", "customers": "Customers", "transactions": "Transactions (POS)",
               "incidents": "Incidents", "gestures": "Recovery gestures",
               "exchange_rates": "Exchange rates (dated)"}
DETECT = "Detect"
SEPARATOR_LABELS = {",": "Comma (,)", ";": "Semicolon (;)", "\t": "Tab"}
ALL_OR_NOTHING, VALID_ROWS = "all", "valid"
MODE_LABELS = {ALL_OR_NOTHING: "All or nothing: one bad row refuses the file",
               VALID_ROWS: "Import the valid rows, download the rejects"}


# --- how the file is written ----------------------------------------------------------------------

def choose_format(file_id: str, detected_separator: str | None) -> FileFormat:
    """Separator and decimal mark: detected unless chosen; the date format is always a choice."""
    found = f" (found: {DELIMITERS[detected_separator]})" if detected_separator else ""
    with st.expander(f"How the file is written{found}", icon=":material/settings:"):
        left, middle, right = st.columns(3)
        separator = left.selectbox("Separator", [DETECT, *SEPARATOR_LABELS], key=f"dt_sep_{file_id}",
                                   format_func=lambda v: SEPARATOR_LABELS.get(v, "Detect"))
        decimal = middle.selectbox("Decimal mark in amounts", [DETECT, *DECIMAL_MARKS], key=f"dt_dec_{file_id}",
                                   format_func=lambda v: DECIMAL_MARKS.get(v, "detect").capitalize())
        dates = right.selectbox("Dates are written", list(DATE_FORMATS), format_func=DATE_FORMATS.get,
                                key="dt_dates")
        st.caption("Year-first dates (2024-03-31) are read whatever is chosen; day and month are "
                   "never guessed from the values.")
    return FileFormat(delimiter=None if separator == DETECT else separator,
                      decimal_mark=None if decimal == DETECT else decimal, date_format=dates)


def choose_mapping(kind: str, headers: list[str], file_id: str) -> tuple[dict[str, str], bool]:
    """One select per canonical column; open when a required column is not found by name."""
    spec = KINDS[kind]
    remembered = admin.get_mapping(get_db(), kind)
    suggestion = organisation.suggest_mapping(kind, headers, remembered)
    missing = [c for c in spec.required if suggestion[c] != c]
    chosen: dict[str, str] = {}
    with st.expander("Column mapping", expanded=bool(missing), icon=":material/merge:"):
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

def run(kind: str, upload: Any, mapping: dict[str, str], dry_run: bool, actor: Any,
        file_format: FileFormat, valid_rows_only: bool) -> dict[str, Any]:
    bar = st.progress(0.0, text="Checking…" if dry_run else "Importing…")
    try:
        summary = import_csv(
            get_db(), kind, upload, actor=actor, dry_run=dry_run,
            column_mapping=mapping or None, progress=lambda fraction, message: bar.progress(fraction, text=message),
            file_format=file_format, valid_rows_only=valid_rows_only,
        )
    except ImportFailed as exc:
        bar.empty()
        unknown = (exc.unknown, exc.kinds) if isinstance(exc, UnknownValues) else None  # the value-mapping step
        return {"ok": False, "dry_run": dry_run, "message": str(exc), "problems": exc.problems, "unknown": unknown}
    except EmpowermentError as exc:
        bar.empty()
        return {"ok": False, "dry_run": dry_run, "message": str(exc), "problems": []}
    bar.empty()
    rejects = rejects_csv(kind, summary.rejects) if summary.rejected and summary.rejects is not None else None
    return {"ok": True, "dry_run": dry_run, "message": summary.as_text(), "problems": summary.problems,
            "rejected": summary.rejected, "rejects": rejects}


def remember(kind: str, mapping: dict[str, str], wanted: bool, actor: Any) -> None:
    if not wanted:
        return
    try:
        organisation.set_mapping(get_db(), actor, kind, mapping)
    except EmpowermentError as exc:
        st.warning(ui.md(f"The mapping was not remembered: {exc}"))


def show_result(result: dict[str, Any], kind: str, filename: str) -> None:
    lines = [ui.md(line) for line in result["message"].splitlines() if line.strip()]
    stem = filename.rsplit(".", 1)[0] or kind
    if result["ok"]:
        (st.info if result["dry_run"] else st.success)("  \n".join(lines), icon=":material/check_circle:")
        if result.get("rejects"):
            st.download_button(
                f"Download the {result['rejected']:,} rejected row{'s' if result['rejected'] != 1 else ''} (CSV)",
                result["rejects"], file_name=f"{stem}-rejects.csv", mime="text/csv", on_click="ignore",
                icon=":material/receipt_long:", key="dt_rejects_csv",
                help="The rows set aside as written, after their line, columns and what is wrong. "
                     "Correct them and import that file.")
        else:
            return
    else:
        st.error("  \n".join(lines), icon=":material/block:")
    problems = pd.DataFrame(result["problems"], columns=PROBLEM_COLUMNS)
    if problems.empty:
        return
    shown = problems.astype({"value": str, "column": str}).replace({"None": ""})
    st.dataframe(shown, hide_index=True, width="stretch", key="dt_problems", column_config={
        "line": st.column_config.NumberColumn("Line", format="%d"),
        "column": "Column", "value": "Value", "reason": "Reason"})
    st.caption(f"{len(problems):,} problem{'s' if len(problems) != 1 else ''} listed; line 1 is the header.")
    if result["ok"]:
        return  # the rejects file above holds the rows with their problems
    report = csv_bytes(problems)  # the one CSV writer: no live formulas in Excel
    st.download_button("Download the problems (CSV)", report, file_name=f"{stem}-problems.csv",
                       mime="text/csv", on_click="ignore", icon=":material/receipt_long:", key="dt_problems_csv")


# --- the page -----------------------------------------------------------------------------------

def main(actor: Any) -> None:
    st.title("Data")
    st.caption("Import employees, customers, transactions, incidents and recovery gestures from CSV files. "
               "A file is checked whole first and every problem is listed; you choose whether one bad row "
               "refuses the file or only sets itself aside.")
    kind = st.selectbox("What does the file hold?", IMPORT_KINDS, format_func=KIND_LABELS.get, key="dt_kind")
    st.caption("Canonical header (required columns first):")
    st.code(template(kind), language=None)
    upload = st.file_uploader("CSV file", type=["csv"], key=f"dt_file_{kind}")
    if upload is None:
        ui.empty_state("No file yet", "Upload a CSV export; you will see its first rows before anything is written.",
                       icon=":material/folder:")
        return
    data = upload.getvalue()
    file_id = hashlib.sha256(data).hexdigest()[:16]
    separator = S.get(f"dt_sep_{file_id}", DETECT)
    try:
        headers, first_rows, detected = preview_file(
            data, kind, FileFormat(delimiter=None if separator == DETECT else separator), PREVIEW_ROWS)
    except EmpowermentError as exc:
        st.warning(ui.md(str(exc)))
        headers, first_rows, detected = [], pd.DataFrame(), None
    if not first_rows.empty or headers:
        st.dataframe(first_rows, hide_index=True, width="stretch", key="dt_preview")
        st.caption(ui.md(f"First {len(first_rows)} rows of {upload.name} ({len(data):,} bytes), as text."))
    file_format = choose_format(file_id, detected)
    mapping, keep = choose_mapping(kind, headers, file_id) if headers else ({}, False)
    mode = st.radio("When a row has a problem", list(MODE_LABELS), format_func=MODE_LABELS.get,
                    key="dt_mode", horizontal=True)
    valid_rows_only = mode == VALID_ROWS
    attempt = json.dumps([kind, file_id, mapping, file_format.delimiter, file_format.decimal_mark,
                          file_format.date_format, mode], sort_keys=True)

    check_col, import_col = st.columns(2)
    if check_col.button("Check the file", icon=":material/search:", key="dt_check", width="stretch",
                        help="A dry run: every row is validated, nothing is written.") or S.pop("vm_done", False):
        remember(kind, mapping, keep, actor)
        S[RESULT] = {"attempt": attempt, **run(kind, upload, mapping, True, actor, file_format, valid_rows_only)}
    result = S.get(RESULT) if (S.get(RESULT) or {}).get("attempt") == attempt else None
    checked_ok = bool(result and result["ok"])
    if import_col.button("Import", icon=":material/download:", type="primary", key="dt_import", width="stretch",
                         disabled=not checked_ok, help="Available once the check has passed."):
        remember(kind, mapping, keep, actor)
        S[RESULT] = result = {"attempt": attempt,
                              **run(kind, upload, mapping, False, actor, file_format, valid_rows_only)}
        if result["ok"]:
            st.cache_data.clear()  # figures elsewhere are keyed on the data version too
    if result and result.get("unknown"):
        value_mapping.offer(result["unknown"], actor)
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
        submitted = st.form_submit_button("Erase", icon=":material/cleaning_services:", type="primary")
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
