"""The joint report: assembled from a small hotel on SQLite and PostgreSQL, then drawn as PDF,
XLSX, CSV and HTML with identical figures, and nothing a guest or an employee typed left live."""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from empowerment.actor import Actor
from empowerment.db import Database
from empowerment.errors import InvalidInput, PermissionDenied
from empowerment.models import (
    AuditEvent,
    Customer,
    Employee,
    Gesture,
    GestureStatus,
    Incident,
    Role,
    Team,
    Transaction,
)
from empowerment.reports import ReportRequest, build_joint_report, parse_period
from empowerment.reports.model import JointReport, resolve_window
from empowerment.reports.privacy import Pseudonymiser
from empowerment.reports.render_csv import render_csv
from empowerment.reports.render_html import render_html
from empowerment.reports.render_pdf import render_pdf
from empowerment.reports.render_xlsx import ROWS_SHEET, SHEET_NAMES, render_xlsx
from empowerment.reports.safety import neutralise
from empowerment.services.gestures import LogRequest, decide_gesture, log_gesture
from tests.conftest import fresh_sqlite
from tests.factories import make_customer, make_employee, make_policy, make_team

EVIL_NAME = '=HYPERLINK("http://x","y")'
EVIL_NOTE = "<script>alert(1)</script> & <b>not bold</b>"
FORMULA_NOTE = '+cmd|" /C calc"!A0'
PERIOD = "2026-Q2"
SECRET = "test-installation-secret"
TYPES = ("comp", "gift", "refund", "voucher", "personal_note")


@dataclass(frozen=True)
class Hotel:
    db: Database
    staff_names: list[str]
    recovered: int
    incidents: int
    reviewed: int


def _history(session, rng: random.Random, customer_ids: dict[str, int]) -> None:  # type: ignore[no-untyped-def]
    for code, customer_id in customer_ids.items():
        for n in range(rng.randint(1, 4)):
            session.add(Transaction(code=f"T-{code}-h{n}", customer_id=customer_id,
                                    occurred_at=datetime(2025, rng.randint(1, 12), rng.randint(1, 28), 12),
                                    amount_cents=rng.randint(2_000, 30_000)))


def _unrecovered_incident(db: Database, employee_code: str, customer_id: int, code: str, at: datetime) -> None:
    with db.write() as session:
        employee = session.scalar(select(Employee).where(Employee.code == employee_code))
        assert employee is not None and employee.team_id is not None
        team = session.get(Team, employee.team_id)
        assert team is not None
        session.add(Incident(code=f"I-{code}", customer_id=customer_id, occurred_at=at, category="Noise",
                             location_id=team.location_id, employee_id=employee.id))


def build_hotel(db: Database, seed: int = 3) -> Hotel:
    """Two places, three teams, ten front-line people (one never acts), 60 guests with one incident
    each in 2026-Q2; every other incident recovered, but three of those wait for approval (27
    recoveries count). Guest 0 is called `=HYPERLINK(...)` and her
    gesture's note is a script tag; both it and a formula-like note are featured stories."""
    rng = random.Random(seed)
    system = Actor.system("test")
    make_policy(db, allowance_cents=60_000, today=date(2026, 1, 1), review_above_cents=8_000,
                approval_above_cents=15_000)
    teams = [make_team(db, code, place) for code, place in
             (("Front desk", "Harbour"), ("Concierge", "Harbour"), ("Spa", "Hill"))]
    staff = [make_employee(db, f"S{t}{n}", team_id=team, name=f"Staff {t}{n}")
             for t, team in enumerate(teams) for n in range(3)]
    make_employee(db, "IDLE", team_id=teams[0], name="Idle Person")
    codes = [make_customer(db, f"C{k:03d}", name=EVIL_NAME if k == 0 else f"Guest {k}") for k in range(60)]
    with db.write() as session:
        ids = {code: customer_id for code, customer_id in session.execute(select(Customer.code, Customer.id))}
        _history(session, rng, ids)
    for k, code in enumerate(codes):
        at = datetime(2026, 4, 1, 9) + timedelta(days=rng.randint(0, 89), hours=rng.randint(0, 9))
        employee = staff[k % len(staff)]
        recovered = k % 2 == 0
        if recovered:
            note = {0: EVIL_NOTE, 2: FORMULA_NOTE}.get(k, f"Moved the guest to a quiet room #{k}" if k % 3 or k % 5 >= 3 else None)
            log_gesture(db, system, LogRequest(employee, code, TYPES[k % 5], [0, 2500, 5000, 9000, 16000][k % 5],
                                               category="Noise", note=note), at=at)
        else:
            _unrecovered_incident(db, employee, ids[code], code, at)
        with db.write() as session:
            if rng.random() < (0.75 if recovered else 0.45):
                session.add(Transaction(code=f"T-{code}-r", customer_id=ids[code],
                                        occurred_at=at + timedelta(days=rng.randint(3, 80)),
                                        amount_cents=rng.randint(3_000, 40_000)))
            session.add(Transaction(code=f"T-{code}-late", customer_id=ids[code],
                                    occurred_at=datetime(2026, 10, 20) + timedelta(days=k % 5), amount_cents=1_000))
    with db.read() as session:
        pending = list(session.scalars(select(Gesture.code).where(Gesture.status == GestureStatus.PENDING_APPROVAL)
                                       .order_by(Gesture.id)))
    for code in pending[:3]:  # a manager approves half of the large gestures, two hours later
        decide_gesture(db, system, code, approve=True)
    reviewed = 0
    with db.write() as session:
        for gesture in session.scalars(select(Gesture).order_by(Gesture.id)):
            if gesture.needs_review:
                gesture.reviewed_at = gesture.occurred_at + timedelta(hours=5)
                reviewed += 1
            if gesture.decided_at is not None:
                gesture.decided_at = gesture.occurred_at + timedelta(hours=2)
            if gesture.note in (EVIL_NOTE, FORMULA_NOTE):
                gesture.featured = True
    return Hotel(db, [f"Staff {t}{n}" for t in range(3) for n in range(3)], 27, 60, reviewed)


def hr_actor(db: Database, role: Role = Role.HR) -> Actor:
    code = make_employee(db, f"HR-{role.value}-{random.randrange(10**6)}", role=role, name=f"Reader {role.value}")
    with db.read() as session:
        employee_id = session.scalar(select(Employee.id).where(Employee.code == code))
    return Actor(employee_id, f"Reader {role.value}", role)


# --- assembly, on both backends ---------------------------------------------------------------


def test_the_report_adds_up_on_each_backend(db: Database) -> None:
    hotel = build_hotel(db)
    report = build_joint_report(db, hr_actor(db), ReportRequest(period=PERIOD, bootstrap=50, secret=SECRET))
    staff = report.tables["staff"].frame
    total = staff.iloc[-1]
    assert total["Team"] == "All teams"
    assert (total["Front-line staff"], total["Used their budget"], total["Gestures"]) == (10, 9, 27)
    assert total["Front-line staff"] == staff.iloc[:-1]["Front-line staff"].sum()
    assert total["Spent"] == pytest.approx(report.payoff.spend_cents / 100)
    assert report.tables["budget_bands"].frame.iloc[-1]["People"] == 10
    assert report.payoff.overall.raw_incidents == hotel.incidents
    assert report.payoff.recovered.raw_incidents == hotel.recovered
    teams = report.tables["teams"].frame
    assert teams.iloc[-1]["Incidents"] == hotel.incidents == teams.iloc[:-1]["Incidents"].sum()
    assert len(report.rows) == hotel.incidents
    assert report.rows["Spent"].sum() == pytest.approx(total["Spent"])
    turnaround = report.tables["turnaround"].frame.set_index("Step")
    assert turnaround.loc["Review after the fact", "Done"] == hotel.reviewed
    assert turnaround.loc["Review after the fact", "Median hours"] == pytest.approx(5.0)
    assert tuple(turnaround.loc["Approval before spending", ["Gestures", "Done", "Still waiting"]]) == (6, 3, 3)
    assert turnaround.loc["Approval before spending", "Median hours"] == pytest.approx(2.0)
    stories = report.tables["stories"].frame
    assert list(stories["Chosen by a manager"][:2]) == [True, True]
    assert EVIL_NAME not in set(stories["Customer"]) and stories["Customer"].str.startswith("Customer ").all()
    assert len(report.summary) >= 4 and "9 of 10 front-line staff" in report.summary[0]


@pytest.fixture(scope="module")
def hotel(_sqlite_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hotel]:
    """One small hotel on SQLite shared by the tests below (they only read, or add audit rows)."""
    database = fresh_sqlite(_sqlite_template, tmp_path_factory.mktemp("hotel"))
    yield build_hotel(database)
    database.dispose()


def test_employee_names_appear_only_in_the_stories(hotel: Hotel) -> None:
    report = build_joint_report(hotel.db, hr_actor(hotel.db), ReportRequest(period=PERIOD, bootstrap=20, secret=SECRET))
    for key, table in report.tables.items():
        text = table.frame.to_csv()
        named = [name for name in hotel.staff_names if name in text]
        assert (key == "stories") == bool(named), key
    assert not any(name in report.rows.to_csv() for name in hotel.staff_names)
    assert "Guest 1" not in report.rows.to_csv()


@pytest.mark.parametrize("role", [Role.STAFF, Role.MANAGER])
def test_other_roles_may_not_open_the_report(sqlite_db: Database, role: Role) -> None:
    with pytest.raises(PermissionDenied):
        build_joint_report(sqlite_db, Actor(1, "Someone", role), ReportRequest(period=PERIOD))


def test_customer_names_only_when_asked_and_the_choice_is_audited(hotel: Hotel) -> None:
    sqlite_db = hotel.db
    reader = hr_actor(sqlite_db, Role.CX_LEAD)
    plain = build_joint_report(sqlite_db, reader, ReportRequest(period=PERIOD, bootstrap=20, secret=SECRET))
    named = build_joint_report(sqlite_db, reader, ReportRequest(period=PERIOD, bootstrap=20, secret=SECRET,
                               include_identities=True, location="Harbour"))
    assert "Customer name" not in plain.rows.columns and "Customer name" in named.rows.columns
    assert EVIL_NAME in set(named.rows["Customer name"])
    with sqlite_db.read() as session:
        events = session.scalars(select(AuditEvent).where(AuditEvent.action == "report.identities_included",
                                                          AuditEvent.actor_id == reader.employee_id)).all()
    assert len(events) == 1
    assert events[0].actor_id == reader.employee_id
    assert json.loads(events[0].detail or "{}")["location"] == "Harbour"


def test_pseudonyms_are_stable_across_runs_and_differ_between_installations(hotel: Hotel) -> None:
    sqlite_db = hotel.db
    reader = hr_actor(sqlite_db)
    first = build_joint_report(sqlite_db, reader, ReportRequest(period=PERIOD, bootstrap=20, secret=SECRET))
    again = build_joint_report(sqlite_db, reader, ReportRequest(period=PERIOD, bootstrap=20, secret=SECRET))
    other = build_joint_report(sqlite_db, reader, ReportRequest(period=PERIOD, bootstrap=20, secret="another-installation"))
    assert list(first.rows["Customer"]) == list(again.rows["Customer"])
    assert set(first.rows["Customer"]).isdisjoint(set(other.rows["Customer"]))
    assert first.rows["Customer"].nunique() == 60
    assert Pseudonymiser(SECRET).customer("C000") in set(first.rows["Customer"])


def test_a_location_scopes_staff_and_incidents(hotel: Hotel) -> None:
    report = build_joint_report(hotel.db, hr_actor(hotel.db), ReportRequest(period=PERIOD, location="Hill",
                                bootstrap=20, secret=SECRET))
    assert report.tables["staff"].frame.iloc[-1]["Front-line staff"] == 3
    assert set(report.rows["Location"]) == {"Hill"}
    assert list(report.tables["teams"].frame["Team"]) == ["Spa", "All teams"]


@pytest.mark.parametrize(
    ("period", "start", "end"),
    [("2026-Q3", date(2026, 7, 1), date(2026, 10, 1)), ("2026q4", date(2026, 10, 1), date(2027, 1, 1)),
     ("2026-07", date(2026, 7, 1), date(2026, 8, 1)), ("2026-12", date(2026, 12, 1), date(2027, 1, 1)),
     ("2026", date(2026, 1, 1), date(2027, 1, 1))],
)
def test_periods_name_their_window(period: str, start: date, end: date) -> None:
    window = parse_period(period)
    assert (window.start, window.end) == (start, end)


@pytest.mark.parametrize("bad", ["2026-Q5", "2026-13", "26", "last quarter"])
def test_a_bad_period_is_refused_with_a_hint(bad: str) -> None:
    with pytest.raises(InvalidInput, match="2026-Q3"):
        parse_period(bad)


def test_dates_are_inclusive_and_must_be_in_order() -> None:
    window = resolve_window(None, "2026-07-01", "2026-07-31")
    assert (window.start, window.end) == (date(2026, 7, 1), date(2026, 8, 1))
    with pytest.raises(InvalidInput):
        resolve_window(None, "2026-07-31", "2026-07-01")
    with pytest.raises(InvalidInput):
        resolve_window("2026-Q3", "2026-07-01", None)


# --- the files, from one report ---------------------------------------------------------------


@pytest.fixture(scope="module")
def named_report(hotel: Hotel) -> JointReport:
    """One report with customer names included (so the hostile name reaches every file)."""
    return build_joint_report(hotel.db, Actor.system("test"), ReportRequest(period=PERIOD, include_identities=True,
                              bootstrap=50, secret=SECRET))


def test_the_pdf_has_every_section_the_key_figures_and_the_charts(named_report: JointReport, tmp_path: Path) -> None:
    data = render_pdf(named_report)
    reader = PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages).replace("\xa0", " ")
    for title in ("Empowerment", "Customer outcomes", "Teams side by side", "Stories", "Summary"):
        assert title in text
    staff = named_report.tables["staff"].formatted().iloc[-1].str.replace("\xa0", " ")
    assert staff["Share who used it"] in text and staff["Spent"] in text
    assert "9 of 10 front-line staff" in text.replace("\n", " ")
    assert "<script>alert(1)</script>" in text  # printed literally, not swallowed as markup
    assert "<b>not bold</b>" in text
    assert sum(len(page.images) for page in reader.pages) >= 3
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(data)
    try:
        image = document[0].render(scale=1).to_pil()
    finally:
        document.close()
    assert image.size[0] > 500 and len(image.convert("L").getcolors(maxcolors=4096) or []) > 10


def _sheet_values(sheet) -> list[list[object]]:  # type: ignore[no-untyped-def]
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_the_workbook_equals_the_screen_and_holds_no_formula(named_report: JointReport) -> None:
    workbook = load_workbook(io.BytesIO(render_xlsx(named_report)))
    for key, table in named_report.tables.items():
        rows = _sheet_values(workbook[SHEET_NAMES[key]])
        assert rows[0] == [neutralise(c) for c in table.frame.columns]
        for written, (_, expected) in zip(rows[1:], table.frame.iterrows(), strict=True):
            for got, want in zip(written, expected, strict=True):
                if isinstance(want, float) and not pd.isna(want):
                    assert got == pytest.approx(want), key
                elif isinstance(want, str):
                    assert got == neutralise(want), key
    staff = workbook[SHEET_NAMES["staff"]]
    header = [c.value for c in staff[1]]
    total = [c.value for c in staff[staff.max_row]]
    spent = header.index("Spent")
    assert total[0] == "All teams"
    assert total[spent] == pytest.approx(sum(r[spent].value for r in staff.iter_rows(min_row=2, max_row=staff.max_row - 1)))
    incidents = list(workbook[ROWS_SHEET].values)
    rows = named_report.rows
    assert list(incidents[0]) == list(rows.columns) and len(incidents) == len(rows) + 1
    for position, column in enumerate(rows.columns):
        written = [row[position] for row in incidents[1:]]
        expected = [None if pd.isna(v) else v for v in rows[column].tolist()]
        if column == "When":
            expected = [pd.Timestamp(v).to_pydatetime() for v in expected]
        elif pd.api.types.is_string_dtype(rows[column]) or rows[column].dtype == object:
            expected = [None if v is None else neutralise(v) for v in expected]
        assert written == pytest.approx(expected) if rows[column].dtype == float else written == expected, column
    cells = [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]
    assert all(cell.data_type != "f" for cell in cells)
    names = [c.value for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert names and all(value == "'" + EVIL_NAME for value in names)
    assert "'" + FORMULA_NOTE in {c.value for c in cells}


def test_every_csv_is_neutralised(named_report: JointReport) -> None:
    for key in [*named_report.tables, "rows"]:
        rows = list(csv.reader(io.StringIO(render_csv(named_report, key).decode("utf-8-sig"))))
        flat = [cell for row in rows for cell in row]
        assert not any(cell[:1] in "=+@\t\r" and cell for cell in flat), key
    rows_csv = render_csv(named_report, "rows").decode("utf-8-sig")
    assert "'" + EVIL_NAME.replace('"', '""') in rows_csv
    stories = render_csv(named_report, "stories").decode("utf-8-sig")
    assert "'" + FORMULA_NOTE.replace('"', '""') in stories


def test_the_html_is_escaped_self_contained_and_script_free(named_report: JointReport) -> None:
    page = render_html(named_report).decode("utf-8")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;not bold&lt;/b&gt;" in page
    assert 'src="http' not in page and "<link" not in page and "@import" not in page
    assert page.count('src="data:image/png;base64,') == len(named_report.charts) == 4  # bands, outcomes, overlap, teams
    for title in ("Empowerment", "Customer outcomes", "Teams side by side", "Stories"):
        assert f"<h2>{title}</h2>" in page


def test_the_command_line_writes_each_format(hotel: Hotel, tmp_path: Path) -> None:
    from empowerment.cli import main

    url = hotel.db.url
    for fmt in ("pdf", "csv"):  # the other formats are drawn above from the same object
        out = tmp_path / f"report.{fmt}"
        assert main(["report", "--database-url", url, "--period", PERIOD, "--format", fmt, "--out", str(out)]) == 0
        assert out.stat().st_size > 500
    assert main(["report", "--database-url", url, "--period", "2026-Q9", "--out", str(tmp_path / "x.pdf")]) == 2
    assert main(["report", "--database-url", url, "--format", "csv", "--table", "nope",
                 "--out", str(tmp_path / "x.csv")]) == 2


def test_charts_carry_their_data_inline_and_may_not_fetch_anything(named_report: JointReport) -> None:
    import altair as alt

    from empowerment.charts.report import to_png

    for chart in named_report.charts.values():
        spec = json.dumps(chart.chart.to_dict())
        assert '"url"' not in spec, chart.key
    remote = alt.Chart(alt.UrlData("http://example.com/data.csv")).mark_point().encode(x="a:Q")
    with pytest.raises(Exception, match="not allowed"):
        to_png(remote)
