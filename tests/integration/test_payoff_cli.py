"""`python -m empowerment payoff` on SQLite and PostgreSQL: JSON is compute_payoff's dict, the table
reads as a summary, and bad arguments are refused with one line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from empowerment.analytics import PayoffRequest, compute_payoff
from empowerment.cli import main
from empowerment.db import Database
from empowerment.queries import frames as frame_queries
from tests.conftest import fresh_sqlite
from tests.factories import SYSTEM
from tests.integration.test_queries import assert_same_report, store_synthetic, synthetic

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def stocked(db: Database) -> Database:
    store_synthetic(db, *synthetic(300, 11))
    return db


def run(db: Database, *args: str) -> list[str]:
    return ["payoff", "--database-url", db.url, *args]


def test_json_is_exactly_compute_payoffs_dict(stocked: Database, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(run(stocked, "--format", "json", "--horizon", "60", "--bootstrap", "25", "--seed", "3",
                    "--from", "2024-02-01", "--to", "2024-09-30", "--location", "north"))
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    frames = frame_queries.load_analytics_frames(stocked, date_from="2024-02-01", date_to="2024-09-30", location="north")
    expected = compute_payoff(frames.incidents, frames.gestures, frames.transactions, frames.customers,
                              PayoffRequest(horizon_days=60, as_of=frames.as_of, date_from="2024-02-01",
                                            date_to="2024-09-30", location="north", bootstrap=25, seed=3))
    assert_same_report(printed, json.loads(json.dumps(expected.to_json())))
    assert printed["horizon_days"] == 60 and printed["overall"]["incidents"] > 0


def test_table_summarises_groups_uplift_and_money(stocked: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(run(stocked, "--bootstrap", "20", "--team", "support")) == 0
    out = capsys.readouterr().out
    assert "Recovery payoff: 90-day horizon" in out and "team support" in out
    for label in ("Recovered", "Not recovered", "All incidents", "Return difference (raw):",
                  "Return uplift (adjusted):", "Spend on gestures:", "Incremental revenue:",
                  "Customers kept:", "Return on spend:", "Cost of inaction:", "Days not back, recovered:",
                  "avg days not back (of 90)"):
        assert label in out
    from empowerment.reports.wording import CAUSAL_PHRASES

    flat = " ".join(out.lower().split())
    assert "observational" in flat and "doubly robust" in flat
    assert not any(phrase in flat for phrase in CAUSAL_PHRASES)


def test_as_of_moves_the_follow_up_cut_off(stocked: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(run(stocked, "--format", "json", "--bootstrap", "0", "--as-of", "2024-09-01")) == 0
    early = json.loads(capsys.readouterr().out)
    assert main(run(stocked, "--format", "json", "--bootstrap", "0")) == 0
    late = json.loads(capsys.readouterr().out)
    assert early["as_of"].startswith("2024-09-01")
    assert early["overall"]["eligible"] < late["overall"]["eligible"]


def test_as_of_equals_a_truncated_copy_of_the_database_figure_for_figure(
        db: Database, tmp_path: Path, _sqlite_template: str, capsys: pytest.CaptureFixture[str]) -> None:
    """--as-of T is the data as known at T: the same figures as a database holding only what is
    dated up to T (incidents, gestures and transactions after it are not yet known)."""
    incidents, gestures, transactions, customers = synthetic(300, 11)
    store_synthetic(db, incidents, gestures, transactions, customers)
    cut = pd.Timestamp("2024-09-01")
    kept = incidents[incidents["occurred_at"] <= cut]
    (tmp_path / "cut").mkdir()
    truncated = fresh_sqlite(_sqlite_template, tmp_path / "cut")
    store_synthetic(truncated, kept, gestures[(gestures["occurred_at"] <= cut)
                                              & gestures["incident_id"].isin(kept["incident_id"])],
                    transactions[transactions["occurred_at"] <= cut], customers)
    args = ("--format", "json", "--bootstrap", "20", "--as-of", str(cut))
    assert main(run(db, *args)) == 0
    frozen = json.loads(capsys.readouterr().out)
    assert main(run(truncated, *args)) == 0
    copy = json.loads(capsys.readouterr().out)
    truncated.dispose()
    assert frozen["overall"]["incidents"] == len(kept) < len(incidents)
    assert_same_report(frozen, copy)


def test_an_empty_database_reports_no_incidents(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(run(db, "--format", "json", "--bootstrap", "0")) == 0
    assert json.loads(capsys.readouterr().out)["overall"]["incidents"] == 0
    assert main(run(db, "--bootstrap", "0")) == 0
    assert "Return uplift (adjusted):   not shown: Not enough eligible incidents" in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--horizon", "0"], "--horizon must be a positive number"),
    (["--bootstrap", "-1"], "--bootstrap must be 0 or more"),
    (["--from", "next tuesday"], "--from 'next tuesday' is not a date"),
    (["--as-of", "2024-13-01"], "--as-of '2024-13-01' is not a date"),
])
def test_bad_arguments_are_refused_in_one_line(sqlite_db: Database, capsys: pytest.CaptureFixture[str],
                                               args: list[str], message: str) -> None:
    assert main(run(sqlite_db, *args)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_a_database_without_tables_is_refused_with_a_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["payoff", "--database-url", f"sqlite:///{tmp_path}/none.db"]) == 2
    assert "run `python -m empowerment init` first" in capsys.readouterr().err


def test_the_command_runs_as_a_module(sqlite_db: Database) -> None:
    store_synthetic(sqlite_db, *synthetic(60, 2))
    done = subprocess.run([sys.executable, "-m", "empowerment", *run(sqlite_db, "--bootstrap", "0", "--format", "json")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["overall"]["incidents"] == 60


def test_by_follow_up_breaks_the_uplift_down_adjusted(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    """`payoff --by follow-up` (and any other group): the same adjusted estimator per group, in
    words in the table and without a number for an unreliable group in JSON."""
    from sqlalchemy import insert, select

    from empowerment.analytics import what_works
    from empowerment.models import FollowUp, Incident

    store_synthetic(db, *synthetic(1500, 4))
    with db.write() as session:
        rows = session.execute(select(Incident.id, Incident.customer_id, Incident.occurred_at)
                               .where(Incident.id % 2 == 0)).all()
        session.execute(insert(FollowUp.__table__), [
            {"code": f"F{i}", "incident_id": i, "customer_id": c, "kind": "called", "occurred_at": t,
             "source": "cli"} for i, c, t in rows])
    assert main(run(db, "--by", "follow-up", "--by", "gesture-type", "--bootstrap", "30")) == 0
    out = capsys.readouterr().out
    assert "What works, by follow-up (adjusted;" in out and "What works, by gesture type" in out
    assert "  Followed up: " in out and "  Not followed up: " in out and "Holm's correction" in out
    assert "personal_note" not in out  # the vocabulary's words, not codes
    assert main(run(db, "--by", "follow-up", "--bootstrap", "30", "--format", "json")) == 0
    printed = json.loads(capsys.readouterr().out)["what_works"]["follow-up"]
    frames = frame_queries.load_analytics_frames(db)
    expected = what_works.payoff_breakdown(frames.incidents, frames.gestures, frames.transactions, frames.customers,
                                           PayoffRequest(as_of=frames.as_of, bootstrap=30), "follow_up",
                                           bootstrap=30)
    assert printed == json.loads(json.dumps(what_works.records(expected)))
    assert {row["level"] for row in printed} == {"Followed up", "Not followed up"}
    assert all(("estimate" in row) == row["reliable"] for row in printed)


def test_the_payoff_is_the_same_from_sqlite_and_from_postgresql(sqlite_db: Database, pg_db: Database,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    # The same data on both supported databases gives the same payoff, figure for figure.
    # PostgreSQL returns rows in heap order and, at scale, in its hash joins' order: here half the
    # incidents and gestures are rewritten so they come back in another order than SQLite's (at
    # 200k incidents that order changed the bootstrap's draws and the JSON differed). Both
    # readings: from the transactions, and from the outcomes table once it is built.
    from empowerment.services import outcomes
    from tests.integration.test_queries import store_synthetic, synthetic

    frames = synthetic(300, 3)
    answers: dict[str, list[object]] = {"transactions": [], "outcomes": []}
    for database in (sqlite_db, pg_db):
        store_synthetic(database, *frames)
        if database.dialect == "postgresql":
            with database.write() as session:
                for table in ("incidents", "gestures", "customers"):
                    session.connection().exec_driver_sql(f"UPDATE {table} SET code = code WHERE MOD(id, 2) = 0")
        for reading in answers:
            if reading == "outcomes":
                outcomes.rebuild(database, SYSTEM)
            capsys.readouterr()
            assert main(["payoff", "--database-url", database.url, "--format", "json", "--bootstrap", "50"]) == 0
            answers[reading].append(json.loads(capsys.readouterr().out))
    assert answers["transactions"][0] == answers["transactions"][1]
    assert answers["outcomes"][0] == answers["outcomes"][1]
    assert answers["outcomes"][0] == answers["transactions"][0]


def test_with_the_outcomes_table_the_payoff_reads_no_transaction(stocked: Database,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    # Once the outcomes table is current, the payoff's only look at the transactions is their
    # highest id (the primary key's last entry): not a row, not MAX(occurred_at) over the
    # (customer, time) index, not a customer's first purchase. And the figures are the same.
    from sqlalchemy import event

    from empowerment.services import outcomes

    assert main(run(stocked, "--format", "json", "--bootstrap", "20")) == 0
    from_transactions = json.loads(capsys.readouterr().out)
    outcomes.rebuild(stocked, SYSTEM)
    seen: list[str] = []
    database = Database(stocked.url)

    @event.listens_for(database.engine, "before_cursor_execute")
    def _record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(" ".join(statement.split()).lower())

    frames = frame_queries.load_analytics_frames(database, outcomes=(90,))
    database.dispose()
    assert frames.transactions.__class__.__name__ == "Outcomes"
    touching = [sql for sql in seen if re.search(r"\b(from|join) transactions\b", sql)]
    assert touching and all(sql.startswith("select coalesce(max(transactions.id)") for sql in touching), touching
    assert main(run(stocked, "--format", "json", "--bootstrap", "20")) == 0
    assert json.loads(capsys.readouterr().out) == from_transactions
