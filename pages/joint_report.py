"""Joint report (HR, CX leads, admins): how empowered people are, and what it did for customers.

The page reads its widgets, builds one `JointReport` (cached on the data version and the choices)
and shows it: the plain-language summary first, then charts and tables, then downloads. Every file
is rendered from that same object, so the figures on screen and in the files are identical.
"""

from __future__ import annotations

from datetime import date
from functools import partial

import streamlit as st

from empowerment import access, clock
from empowerment.actor import Actor
from empowerment.errors import EmpowermentError
from empowerment.queries import report_metrics
from empowerment.reports.assemble import ReportRequest, build_joint_report
from empowerment.reports.model import (
    SECTIONS,
    JointReport,
    ReportTable,
    resolve_window,
)
from empowerment.reports.render_csv import render_csv
from empowerment.reports.render_pdf import render_pdf
from empowerment.reports.render_xlsx import render_xlsx
from empowerment.services.report_access import record_identity_access
from empowerment.ui import components as ui
from empowerment.ui import pickers
from empowerment.ui.session import get_db
from empowerment.ui.signin import require_page

KINDS = ("Quarter", "Month", "Year", "Dates")
ALL_LOCATIONS = "All locations"
AUDITED = "_jr_identities_recorded"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@st.cache_data(show_spinner="Building the report…", max_entries=24, ttl=3600)
def cached_report(version: object, period: str | None, date_from: date | None, date_to: date | None,
                  location: str | None, include_identities: bool, _actor: Actor) -> JointReport:
    """Keyed on (data version, period or dates, location, identities); the actor is not part of the
    key: every role that reaches this page may read the same report, and the page checks the
    identities choice and records it itself (once per view) before calling."""
    return build_joint_report(get_db(), _actor, ReportRequest(period=period, date_from=date_from, date_to=date_to,
                              location=location, include_identities=include_identities,
                              record_access=False))


@st.cache_data(show_spinner=False, ttl=60)
def picker_data(version: object) -> report_metrics.PickerOptions:
    return report_metrics.picker_options(get_db())


def data_version() -> object:
    from empowerment.queries.frames import data_version as version

    return version(get_db())


def choose_scope(version: object) -> tuple[str | None, date | None, date | None, str | None]:
    options = picker_data(version)
    today = clock.business_today()
    first, last = options.span or (today, today)
    kind = pickers.period_kind(KINDS, "Quarter", key="jr")
    middle, right = st.columns(pickers.period_widths(kind, others=1), width=640)
    picked = pickers.period_choice(middle, kind, first, last, key="jr", today=today)
    place = right.selectbox("Location", [ALL_LOCATIONS, *options.locations], key="jr_location")
    location = None if place == ALL_LOCATIONS else place
    if picked.period is not None:
        return picked.period, None, None, location
    return None, picked.date_from, picked.date_to, location


def identities_choice(actor: Actor) -> bool:
    if not access.allows(actor, "report.identities", anywhere=True):
        return False
    return st.checkbox(
        "Include customer names", key="jr_identities",
        help="Customers appear by a stable pseudonym. Tick this only when you need the names; "
             "the choice is recorded in the audit log.",
    )


def record_once(actor: Actor, period: str | None, date_from: date | None, date_to: date | None,
                location: str | None) -> None:
    """One audit record per person, period and place per session, not one per rerun."""
    key = (period, date_from, date_to, location)
    recorded = st.session_state.setdefault(AUDITED, set())
    if key in recorded:
        return
    record_identity_access(get_db(), actor, resolve_window(period, date_from, date_to), location,
                           purpose="joint report page")
    recorded.add(key)


def show_table(table: ReportTable) -> None:
    st.markdown(f"**{ui.md(table.title)}**")
    # A static table: its cells wrap, so eight columns fit a portrait tablet (a grid scrolled
    # sideways at 820 px), and several tables on one page no longer repeat the grid's cell ids.
    shown = table.formatted()
    if shown.empty:
        st.caption("Nothing in this period: pick a longer period or another location above.")
    else:
        st.table(shown, hide_index=True, border="horizontal")
    st.caption(ui.md(table.caption))


def show_stories(table: ReportTable) -> None:
    st.caption(ui.md(table.caption))
    if table.frame.empty:
        ui.empty_state("No stories yet", "Gestures logged with a note appear here; managers can feature them.")
        return
    shown = table.formatted()
    for row in range(len(shown)):
        story = shown.iloc[row]
        with st.container(border=True):
            star = ":material/star: Chosen by a manager · " if table.frame.iloc[row]["Chosen by a manager"] else ""
            st.text(str(table.frame.iloc[row]["Story"]))  # plain text: never Markdown or HTML
            st.caption(star + ui.md(f"{story['Employee']} ({story['Team']}) · {story['Gesture']}, "
                                    f"{story['Cost']} · {story['Customer']} · {story['When']}"))


def show_section(report: JointReport, name: str) -> None:
    st.header(name)
    tables = report.tables_in(name)
    keys = {table.key for table in tables}
    for chart in report.charts_in(name):
        if chart.key not in keys:
            show_chart(report, chart.key)
    for table in tables:
        if table.key in report.charts:
            show_chart(report, table.key)
        if table.key == "stories":
            show_stories(table)
        else:
            show_table(table)


def show_chart(report: JointReport, key: str) -> None:
    chart = report.charts[key]
    st.markdown(f"**{ui.md(chart.title)}**")
    st.altair_chart(chart.chart, width="stretch", key=f"jr_chart_{key}")
    st.caption(ui.md(chart.caption))


def downloads(report: JointReport) -> None:
    stem = f"joint-report-{report.window.start:%Y%m%d}-{report.window.last_day:%Y%m%d}"
    if report.location:
        stem += "-" + "".join(c if c.isalnum() else "-" for c in report.location).strip("-").lower()
    if report.include_identities:
        stem += "-with-names"
    pdf, xlsx, csv = st.columns(3)
    pdf.download_button("PDF report", partial(render_pdf, report), file_name=f"{stem}.pdf",
                        mime="application/pdf", on_click="ignore", icon=":material/description:", key="jr_pdf", width="stretch")
    xlsx.download_button("Spreadsheet (XLSX)", partial(render_xlsx, report), file_name=f"{stem}.xlsx",
                         mime=XLSX_MIME, on_click="ignore", icon=":material/table_chart:", key="jr_xlsx", width="stretch")
    with csv.popover("CSV per table", icon=":material/receipt_long:", width="stretch"):
        for key, table in report.tables.items():
            st.download_button(table.title, partial(render_csv, report, key), file_name=f"{stem}-{key}.csv",
                               mime="text/csv", on_click="ignore", key=f"jr_csv_{key}")
        st.download_button("Every incident (underlying rows)", partial(render_csv, report, "rows"),
                           file_name=f"{stem}-incidents.csv", mime="text/csv", on_click="ignore",
                           key="jr_csv_rows")


def main() -> None:
    actor = require_page("joint_report")
    st.title("Joint report")
    st.caption("How empowered our people are, and what it did for customers: one report for HR and CX.")
    version = data_version()
    period, date_from, date_to, location = choose_scope(version)
    include = identities_choice(actor)
    try:
        if include:
            record_once(actor, period, date_from, date_to, location)
        report = cached_report(version, period, date_from, date_to, location, include, actor)
    except EmpowermentError as exc:
        st.error(ui.md(exc))
        return
    st.subheader(f"{report.window.label} · {report.location or ALL_LOCATIONS}")
    with st.container(border=True, key="jr_summary"):
        for paragraph in report.summary:
            st.markdown(ui.md(paragraph))
    for warning in report.warnings:
        st.caption(ui.md(warning))
    downloads(report)
    for name in SECTIONS:
        show_section(report, name)


main()
