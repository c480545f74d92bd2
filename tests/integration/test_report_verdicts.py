"""An unreliable figure is never shown as a number, in any place a leader reads it (issue 12): the
Payoff page, the `payoff` command (table and JSON), and the joint report on screen, in the PDF,
the workbook, the HTML and every CSV. And the joint report speaks observationally and names its
method, in every format.

The figures are made unreliable on purpose, keeping distinctive estimates (ROI -569 %, a loss of
$1,339,056.60): if any of those digits appear, an unreliable figure leaked.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from streamlit.testing.v1 import AppTest

import empowerment.analytics.payoff as payoff_module
import empowerment.reports.computed as computed
from empowerment.actor import Actor
from empowerment.analytics.result import Figure, PayoffResult
from empowerment.cli import main
from empowerment.db import Database
from empowerment.models import Role
from empowerment.reports import ReportRequest, build_joint_report
from empowerment.reports.model import JointReport
from empowerment.reports.render_csv import render_csv
from empowerment.reports.render_html import render_html
from empowerment.reports.render_pdf import render_pdf
from empowerment.reports.render_xlsx import render_xlsx
from empowerment.reports.wording import CAUSAL_PHRASES
from empowerment.ui.components import md
from empowerment.ui.session import get_db
from tests.conftest import fresh_sqlite
from tests.integration.test_queries import store_synthetic, synthetic
from tests.integration.test_reports import PERIOD, build_hotel

REASON = "Few eligible incidents (12 recovered, 900 comparison): the adjusted effect is not reliable."
# Estimates kept inside the withheld figures: none of these digit runs may appear anywhere.
LEAKS = ("569", "1,339,056", "1339056", "1.3M", "13,390", "4,321", "4321", "777")
ROOT = Path(__file__).resolve().parents[2]


def _withheld(figure: Figure, estimate: float) -> Figure:
    return Figure(estimate, estimate * 1.5, estimate * 0.5, False, (REASON,))


def unreliable(result: PayoffResult) -> PayoffResult:
    return dataclasses.replace(
        result,
        return_uplift=_withheld(result.return_uplift, 0.0777),
        revenue_uplift_cents=_withheld(result.revenue_uplift_cents, 432_100.0),
        incremental_revenue_cents=_withheld(result.incremental_revenue_cents, 432_100.0),
        incremental_margin_cents=_withheld(result.incremental_margin_cents, 432_100.0),
        customers_kept=_withheld(result.customers_kept, 4321.0),
        return_on_spend=_withheld(result.return_on_spend, -5.69),
        cost_of_inaction_cents=_withheld(result.cost_of_inaction_cents, -133_905_660.0),
        rmst_recovered_days=_withheld(result.rmst_recovered_days, 777.7),
        rmst_comparison_days=_withheld(result.rmst_comparison_days, 777.7),
        rmst_difference_days=_withheld(result.rmst_difference_days, -777.7),
    )


@pytest.fixture(autouse=True)
def fixed_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    # Customer pseudonyms derive from the installation's secret, random per checkout: one could
    # hold a LEAKS digit run ("67BE-569D-D195"). A fixed secret makes the pseudonyms the same on
    # every machine, so the leak check cannot be tripped by chance.
    monkeypatch.setenv("EMPOWERMENT_SECRET_KEY", "report-verdicts-fixed-secret-0123456789abcdef")


@pytest.fixture
def withheld(monkeypatch: pytest.MonkeyPatch) -> None:
    real = payoff_module.analyse

    def analyse(*args: Any, **kwargs: Any) -> tuple[PayoffResult, Any]:
        result, linked = real(*args, **kwargs)
        return unreliable(result), linked

    monkeypatch.setattr(payoff_module, "analyse", analyse)
    monkeypatch.setattr(computed, "analyse", analyse)  # the joint report works its figures out there


def assert_no_leak(text: str) -> None:
    flat = text.replace("\xa0", " ")
    for digits in LEAKS:
        assert digits not in flat, digits


# --- the command line --------------------------------------------------------------------------


@pytest.fixture
def stocked(sqlite_db: Database) -> Database:
    store_synthetic(sqlite_db, *synthetic(200, 5))
    return sqlite_db


def test_the_command_line_table_and_json_give_reasons_not_numbers(
        stocked: Database, withheld: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["payoff", "--database-url", stocked.url, "--bootstrap", "10"]) == 0
    table = capsys.readouterr().out
    assert_no_leak(table)
    for label in ("Return uplift (adjusted)", "Return on spend", "Cost of inaction", "Customers kept",
                  "Days not back, recovered", "Days not back, others", "Days not back, difference"):
        line = next(row for row in table.splitlines() if row.startswith(label))
        assert "not shown: Few eligible incidents" in line, line
    assert main(["payoff", "--database-url", stocked.url, "--bootstrap", "10", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    for name in ("return_uplift", "incremental_revenue_cents", "customers_kept", "return_on_spend",
                 "cost_of_inaction_cents", "rmst_recovered_days", "rmst_comparison_days", "rmst_difference_days"):
        assert data[name] == {"estimate": None, "low": None, "high": None, "reliable": False, "reasons": [REASON]}


# --- the Payoff page ---------------------------------------------------------------------------


def test_the_payoff_page_gives_reasons_not_numbers(stocked: Database, withheld: None,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMPOWERMENT_DATABASE_URL", stocked.url)
    get_db.clear()
    at = AppTest.from_file(str(ROOT / "pages" / "payoff.py"), default_timeout=120)
    at.session_state["actor"] = Actor(employee_id=None, name="Cleo Lead", role=Role.CX_LEAD)
    at.run()
    assert not at.exception
    words = "\n".join([m.value for m in at.markdown] + [c.value for c in at.caption]
                      + [str(m.value) + " " + str(m.help) for m in at.metric])
    assert_no_leak(words)
    assert "Few eligible incidents" in words
    assert md("Average time without return up to 90 days: not shown: Few eligible incidents") in words
    get_db.clear()


# --- the joint report, every format ------------------------------------------------------------


@pytest.fixture(scope="module")
def hotel_db(_sqlite_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    database = fresh_sqlite(_sqlite_template, tmp_path_factory.mktemp("verdicts"))
    build_hotel(database)
    yield database
    database.dispose()


def build(db: Database) -> JointReport:
    return build_joint_report(db, Actor.system("test"), ReportRequest(period=PERIOD, bootstrap=30))


def pdf_text(report: JointReport) -> str:
    reader = PdfReader(io.BytesIO(render_pdf(report)))
    return "\n".join(page.extract_text() for page in reader.pages)


def xlsx_text(report: JointReport) -> str:
    workbook = load_workbook(io.BytesIO(render_xlsx(report, include_rows=False)))
    return "\n".join(" ".join(str(cell.value) for cell in row if cell.value is not None)
                     for sheet in workbook.worksheets for row in sheet.iter_rows())


def screen_text(report: JointReport) -> str:
    tables = "\n".join(f"{table.title}\n{table.formatted().to_string()}\n{table.caption}"
                       for table in report.tables.values())
    return "\n".join([*report.summary, *report.warnings, tables])


def every_format(report: JointReport) -> dict[str, str]:
    return {
        "screen": screen_text(report),
        "pdf": pdf_text(report),
        "xlsx": xlsx_text(report),
        "html": re.sub(r'src="data:[^"]*"', "", render_html(report).decode("utf-8")),  # not the PNGs' bytes
        "csv": "\n".join(render_csv(report, key).decode("utf-8-sig") for key in report.tables),
    }


def test_the_joint_report_gives_reasons_not_numbers_in_every_format(hotel_db: Database, withheld: None) -> None:
    report = build(hotel_db)
    payoff = report.tables["payoff"].frame
    withheld_rows = payoff[payoff["Note"].str.startswith("Not shown")]
    assert len(withheld_rows) == 9 and withheld_rows[["Estimate", "Low (95 %)", "High (95 %)"]].isna().all().all()
    groups = report.tables["outcome_groups"].frame
    assert groups[[c for c in groups.columns if c.startswith("Average days not back")]].isna().all().all()
    for name, text in every_format(report).items():
        assert_no_leak(text)
        assert "Few eligible incidents" in text, name


def test_the_joint_report_is_observational_and_names_its_method_in_every_format(hotel_db: Database) -> None:
    for name, text in every_format(build(hotel_db)).items():
        flat = " ".join(text.replace("\xa0", " ").split()).lower()
        for phrase in CAUSAL_PHRASES:
            assert phrase not in flat, (name, phrase)
        assert "observational" in flat, name
        assert "doubly-robust" in flat or "doubly robust" in flat, name
