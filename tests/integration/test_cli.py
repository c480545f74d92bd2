"""The command line, run in-process: `main([...])` with captured output."""

from __future__ import annotations

import json
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from empowerment.cli import COMMAND_MODULES, main
from empowerment.db import Database
from empowerment.errors import ImportFailed
from empowerment.models import BudgetPolicy, Gesture, GestureStatus, Role
from tests.factories import make_customer, make_employee, make_team

CORE_COMMANDS = ("init", "demo", "import", "export", "policy", "log", "balance")


@dataclass
class Cli:
    url: str
    capsys: pytest.CaptureFixture[str]

    def __call__(self, *args: str) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main([*args, "--database-url", self.url])
        out, err = self.capsys.readouterr()
        return code, out, err

    def refused(self, *args: str) -> str:
        """Run, expect a refusal: exit 2, nothing on stdout, exactly one line on stderr."""
        code, out, err = self(*args)
        assert code == 2, (code, out, err)
        assert out == ""
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), err
        return lines[0]

    def db(self) -> Database:
        return Database(self.url)


def _gesture_count(url: str) -> int:
    db = Database(url)
    try:
        with db.read() as session:
            return int(session.scalar(select(func.count()).select_from(Gesture)) or 0)
    finally:
        db.dispose()


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Cli]:
    """An initialised SQLite database with a team, two people, two customers and a policy."""
    runner = Cli(f"sqlite:///{tmp_path}/cli.db", capsys)
    assert runner("init")[0] == 0
    db = runner.db()
    team_id = make_team(db, "FD")
    make_employee(db, "E1", team_id=team_id, name="Ana Staff")
    make_employee(db, "M1", role=Role.MANAGER, team_id=team_id, name="Mo Manager")
    make_customer(db, "C1", name="Guest One")
    make_customer(db, "C2", name="Guest Two")
    db.dispose()
    code, out, _ = runner("policy", "set", "Default", "--allowance", "500", "--period", "month",
                          "--review-above", "150", "--approval-above", "400")
    assert code == 0, out
    yield runner


# --- help and the frame -----------------------------------------------------------------------


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for command in CORE_COMMANDS:
        assert f"    {command} " in out or f"    {command}\n" in out, command
    assert "usage: python -m empowerment" in out


def test_help_includes_the_other_command_modules(capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    expected = {"users": "create-user", "report": "report"}
    for module, command in expected.items():
        if importlib.util.find_spec(f"empowerment.cli.{module}") is not None:
            assert command in out, command
    assert COMMAND_MODULES == ("core", "users", "payoff", "report", "connect", "integrity", "care")


def test_command_owners_name_every_command_and_its_module() -> None:
    import argparse

    import empowerment.cli as cli_package

    registered: dict[str, str] = {}
    for module_name in COMMAND_MODULES:
        parser = argparse.ArgumentParser()
        subparsers = parser.add_subparsers()
        cli_package._load_command_modules((module_name,))[0].register(subparsers)
        registered.update(dict.fromkeys(subparsers.choices, module_name))
    assert registered == cli_package.COMMAND_OWNERS


def test_a_command_loads_only_its_own_module() -> None:
    import subprocess
    import sys

    probe = ("import sys; from empowerment.cli import main; main(['balance', '--help']); "
             "print('altair' in sys.modules, 'empowerment.cli.report' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False False"


def test_every_subcommand_takes_database_url(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("init", "demo", "import", "export", "log", "balance"):
        assert main([command, "--help"]) == 0
        assert "--database-url" in capsys.readouterr().out, command
    assert main(["policy", "set", "--help"]) == 0
    assert "--database-url" in capsys.readouterr().out


def test_no_command_prints_usage_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "commands" in capsys.readouterr().err


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fly"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_missing_module_is_skipped_only_when_it_is_the_module_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib

    import empowerment.cli as cli_package

    real_import = importlib.import_module

    def fake_import(name: str, *args: object) -> object:
        if name == "empowerment.cli.payoff":
            raise ModuleNotFoundError("No module named 'empowerment.cli.payoff'",
                                      name="empowerment.cli.payoff")
        if name == "empowerment.cli.report":
            raise ModuleNotFoundError("No module named 'reportlab'", name="reportlab")
        return real_import(name, *args)

    monkeypatch.setattr(cli_package.importlib, "import_module", fake_import)
    with pytest.raises(ModuleNotFoundError, match="reportlab"):
        cli_package.build_parser()


def test_unexpected_errors_exit_1_with_one_line(monkeypatch: pytest.MonkeyPatch, cli: Cli) -> None:
    import empowerment.queries.budgets

    def boom(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr(empowerment.queries.budgets, "budget_status", boom)
    code, out, err = cli("balance", "--employee", "E1")
    assert code == 1
    assert err.strip() == "error: unexpected RuntimeError: disk on fire second line"


# --- init ------------------------------------------------------------------------------------


def test_init_is_idempotent(cli: Cli) -> None:
    code, out, _ = cli("init")
    assert code == 0 and "up to date" in out


def test_commands_before_init_say_to_run_init(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runner = Cli(f"sqlite:///{tmp_path}/empty.db", capsys)
    line = runner.refused("balance", "--employee", "E1")
    assert "python -m empowerment init" in line


# --- policy ----------------------------------------------------------------------------------


def test_policy_set_for_everyone_and_for_a_role(cli: Cli) -> None:
    code, out, _ = cli("policy", "set", "Managers", "--allowance", "1,500.00", "--period", "quarter",
                       "--role", "manager", "--customer-daily-cap", "2500", "--rollover", "full")
    assert code == 0
    assert "Policy 'Managers' saved: $1,500.00 per quarter for role manager" in out
    assert "customer daily cap $2,500.00" in out and "rollover full" in out
    db = cli.db()
    with db.read() as session:
        policy = session.scalar(select(BudgetPolicy).where(BudgetPolicy.name == "Managers"))
        assert policy is not None
        assert policy.allowance_cents == 150_000 and policy.role == Role.MANAGER
        assert policy.customer_daily_cap_cents == 250_000
    db.dispose()
    code, out, _ = cli("balance", "--employee", "M1", "--format", "json")
    assert json.loads(out)["policy"] == "Managers"


def test_policy_change_applies_next_period_unless_immediate(cli: Cli) -> None:
    _, out, _ = cli("policy", "set", "Default", "--allowance", "600", "--period", "month")
    _, balance, _ = cli("balance", "--employee", "E1", "--format", "json")
    assert json.loads(balance)["allocated_cents"] == 50_000  # this month keeps its allowance
    assert "effective from 01 " in out
    _, out, _ = cli("policy", "set", "Team", "--allowance", "700", "--period", "month",
                    "--team", "FD", "--immediate")
    assert "for team FD" in out


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--allowance", "abc"], "The allowance: 'abc' is not an amount"),
        (["--allowance", "-5"], "negative"),
        (["--allowance", "10", "--team", "NOPE"], "No team with id 'NOPE'"),
        (["--allowance", "10", "--employee", "NOPE"], "No active employee"),
        (["--allowance", "10", "--review-above", "500", "--approval-above", "100"],
         "must not be lower"),
    ],
)
def test_policy_set_refusals(cli: Cli, args: list[str], fragment: str) -> None:
    line = cli.refused("policy", "set", "Bad", "--period", "month", *args)
    assert fragment in line


def test_policy_scopes_are_mutually_exclusive(cli: Cli) -> None:
    code, _, err = cli("policy", "set", "X", "--allowance", "1", "--period", "month",
                       "--team", "FD", "--role", "staff")
    assert code == 2 and "not allowed with argument" in err


def test_policy_without_action_shows_help(cli: Cli) -> None:
    code, _, err = cli("policy")
    assert code == 2 and "set" in err


# --- log and balance -------------------------------------------------------------------------


def test_log_then_balance(cli: Cli) -> None:
    code, out, err = cli("log", "--employee", "E1", "--customer", "C1", "--type", "comp",
                         "--amount", "25.50", "--category", "Noise", "--note", "Drinks on us")
    assert code == 0, err
    assert "Logged $25.50. $474.50 left." in out
    code, out, _ = cli("balance", "--employee", "E1")
    assert code == 0
    assert "Remaining             $474.50" in out
    assert "Spent                 $25.50 (5%)" in out
    code, out, _ = cli("balance", "--employee", "E1", "--format", "json")
    data = json.loads(out)
    assert data["remaining_cents"] == 47_450 and data["spent_cents"] == 2_550
    assert data["employee_id"] == "E1" and data["period"] == "month"


def test_log_against_an_existing_incident(cli: Cli) -> None:
    _, out, _ = cli("log", "--employee", "E1", "--customer", "C1", "--type", "personal_note",
                    "--amount", "0", "--category", "Noise")
    incident = out.split("(incident ")[1].split(")")[0]
    code, out, _ = cli("log", "--employee", "E1", "--customer", "C1", "--type", "gift",
                       "--amount", "20", "--incident", incident)
    assert code == 0 and f"(incident {incident})" in out


def test_log_with_a_repeated_key_logs_once(cli: Cli) -> None:
    args = ("log", "--employee", "E1", "--customer", "C1", "--type", "voucher", "--amount", "50",
            "--category", "Long wait", "--key", "tablet-7-0001")
    first = cli(*args)
    second = cli(*args)
    assert first[0] == 0 and second[0] == 0
    assert "already logged" in second[1]
    assert _gesture_count(cli.url) == 1
    _, out, _ = cli("balance", "--employee", "E1", "--format", "json")
    assert json.loads(out)["remaining_cents"] == 45_000


def test_log_above_approval_waits_for_a_manager(cli: Cli) -> None:
    code, out, _ = cli("log", "--employee", "E1", "--customer", "C1", "--type", "refund",
                       "--amount", "450", "--category", "Billing error", "--note", "Charged twice")
    assert code == 0
    assert "waiting for a manager's approval" in out and "approval queue" in out
    db = cli.db()
    with db.read() as session:
        assert session.scalar(select(Gesture.status)) == GestureStatus.PENDING_APPROVAL
    db.dispose()


def test_log_above_review_is_flagged(cli: Cli) -> None:
    _, out, _ = cli("log", "--employee", "E1", "--customer", "C1", "--type", "refund",
                    "--amount", "200", "--category", "Billing error", "--note", "Charged twice")
    assert "A manager will review it afterwards." in out


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        ({"--amount": "12.345"}, "more than 2 decimals"),
        ({"--amount": "-5"}, "negative"),
        ({"--amount": "abc"}, "not a number"),
        ({"--amount": "1e9"}, "not a number"),
        ({"--amount": "99999999999"}, "too large"),
        ({"--amount": "600", "--note": "Ruined stay"}, "more than your remaining budget; $500.00 is left"),
        ({"--employee": "NOPE"}, "No active employee with id 'NOPE'"),
        ({"--customer": "NOPE"}, "No customer with id 'NOPE'"),
        ({"--type": "bribe"}, "'bribe' is not a gesture type"),
        ({"--category": None}, "Say what went wrong"),
        ({"--incident": "I-NOPE", "--category": None}, "No incident 'I-NOPE'"),
    ],
)
def test_log_refusals(cli: Cli, overrides: dict[str, str | None], fragment: str) -> None:
    options: dict[str, str | None] = {
        "--employee": "E1", "--customer": "C1", "--type": "comp", "--amount": "10",
        "--category": "Noise", "--note": "Said sorry",  # above "review above" a note is required
    }
    options.update(overrides)
    args = [part for key, value in options.items() if value is not None
            for part in (f"{key}={value}",)]
    line = cli.refused("log", *args)
    assert fragment in line
    assert _gesture_count(cli.url) == 0


def test_log_reads_the_amount_in_the_locations_currency(cli: Cli) -> None:
    from empowerment.models import Location, Team
    from empowerment.services.organisation import set_location_money
    from tests.factories import SYSTEM, make_policy

    db = cli.db()
    team_id = make_team(db, "KW", location="Kuwait City")
    with db.read() as session:
        kuwait = session.scalars(select(Location.code).join(Team, Team.location_id == Location.id)
                                 .where(Team.id == team_id)).one()
    set_location_money(db, SYSTEM, kuwait, "KWD")
    make_employee(db, "E-KW", team_id=team_id, name="Dana Staff")
    make_policy(db, 500_000, name="Kuwait", team_code="KW")  # KWD 500.000, in fils
    db.dispose()
    log = ("log", "--employee", "E-KW", "--customer", "C1", "--type", "comp", "--category", "Noise")
    code, out, err = cli(*log, "--amount", "12.345")
    assert code == 0, err
    assert "Logged KWD12.345. KWD487.655 left." in out  # (Babel, en_US)
    db = cli.db()
    with db.read() as session:
        assert session.scalar(select(Gesture.cost_cents)) == 12_345  # fils: three decimals
    db.dispose()
    assert "more than 3 decimals; KWD amounts have at most 3" in cli.refused(*log, "--amount", "1.2345")
    assert _gesture_count(cli.url) == 1


def test_log_negative_amount_without_equals_sign(cli: Cli) -> None:
    line = cli.refused("log", "--employee", "E1", "--customer", "C1", "--type", "comp",
                       "--amount", "-5", "--category", "Noise")
    assert "negative" in line


def test_log_over_the_customer_daily_cap(cli: Cli) -> None:
    cli("policy", "set", "Tight", "--allowance", "500", "--period", "month", "--employee", "E1",
        "--customer-daily-cap", "100")
    assert cli("log", "--employee", "E1", "--customer", "C1", "--type", "comp", "--amount", "80",
               "--category", "Noise")[0] == 0
    line = cli.refused("log", "--employee", "E1", "--customer", "C1", "--type", "comp",
                       "--amount", "30", "--category", "Noise")
    assert "over the limit of $100.00 per customer per day; $20.00 is left for Guest One" in line
    # another customer is fine
    assert cli("log", "--employee", "E1", "--customer", "C2", "--type", "comp", "--amount", "30",
               "--category", "Noise")[0] == 0


def test_log_without_a_policy_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runner = Cli(f"sqlite:///{tmp_path}/nopolicy.db", capsys)
    runner("init")
    db = runner.db()
    make_employee(db, "E9", name="No Policy")
    make_customer(db, "C9")
    db.dispose()
    line = runner.refused("log", "--employee", "E9", "--customer", "C9", "--type", "comp",
                          "--amount", "5", "--category", "Noise")
    assert "no budget policy" in line


def test_balance_refusals(cli: Cli) -> None:
    assert "No active employee" in cli.refused("balance", "--employee", "NOPE")


# --- import and export -----------------------------------------------------------------------


def test_export_then_import_round_trip(cli: Cli, tmp_path: Path) -> None:
    pytest.importorskip("empowerment.services.importing")
    pytest.importorskip("empowerment.services.exporting")
    target = tmp_path / "out" / "customers.csv"
    code, out, _ = cli("export", "customers", "--out", str(target))
    assert code == 0 and "Exported 2 rows of customers" in out
    text = target.read_text(encoding="utf-8")
    assert text.splitlines()[0].startswith("customer_id,name")
    code, out, err = cli("import", "customers", str(target))
    assert code == 0, err
    assert "2 unchanged" in out


def test_export_to_stdout(cli: Cli) -> None:
    pytest.importorskip("empowerment.services.exporting")
    code, out, err = cli("export", "employees")
    assert code == 0
    assert out.splitlines()[0].startswith("employee_id,")
    assert "E1" in out and "Exported 2 rows of employees" in err


def test_import_with_mapping_and_dry_run(cli: Cli, tmp_path: Path) -> None:
    pytest.importorskip("empowerment.services.importing")
    source = tmp_path / "crm.csv"
    source.write_text("Client,Full name\nC77,Zoë Example\n", encoding="utf-8")
    code, out, err = cli("import", "customers", str(source), "--map", "customer_id=Client",
                         "--map", "name=Full name", "--dry-run")
    assert code == 0, err
    assert "Dry run" in out
    code, out, _ = cli("import", "customers", str(source), "--map", "customer_id=Client",
                       "--map", "name=Full name")
    assert code == 0 and "1 added" in out


def test_import_refusal_lists_problems(cli: Cli, tmp_path: Path) -> None:
    pytest.importorskip("empowerment.services.importing")
    source = tmp_path / "bad.csv"
    source.write_text("customer_id,name\nC5,\n,Nameless\n", encoding="utf-8")
    code, out, err = cli("import", "customers", str(source))
    assert code == 2 and out == ""
    assert "nothing was imported" in err
    assert "line" in err and "reason" in err
    assert "... and" not in err


def test_import_problem_table_is_cut_at_50_lines(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    problems = [{"line": i + 2, "column": "amount", "value": "x" * 200, "reason": "not a number"}
                for i in range(120)]

    def import_csv(*_args: object, **_kwargs: object) -> None:
        raise ImportFailed("120 problems in fake.csv; nothing was imported.", problems)

    monkeypatch.setitem(sys.modules, "empowerment.services.importing",
                        types.SimpleNamespace(import_csv=import_csv))
    source = tmp_path / "fake.csv"
    source.write_text("x\n", encoding="utf-8")
    code, _, err = cli("import", "transactions", str(source))
    assert code == 2
    lines = err.strip().splitlines()
    assert lines[0] == "error: 120 problems in fake.csv; nothing was imported."
    assert lines[-1] == "... and 70 more"
    assert len(lines) == 1 + 2 + 50 + 1  # message, header + rule, 50 problems, the rest
    assert all(len(line) < 140 for line in lines)


def test_import_ledger_is_refused(cli: Cli, tmp_path: Path) -> None:
    pytest.importorskip("empowerment.services.importing")
    source = tmp_path / "ledger.csv"
    source.write_text("entry_id\n1\n", encoding="utf-8")
    code, _, err = cli("import", "ledger", str(source))
    assert code == 2 and "append-only" in err


def test_import_missing_file_and_bad_mapping(cli: Cli, tmp_path: Path) -> None:
    pytest.importorskip("empowerment.services.importing")
    assert "No file at" in cli.refused("import", "customers", str(tmp_path / "nope.csv"))
    source = tmp_path / "c.csv"
    source.write_text("customer_id,name\nC1,A\n", encoding="utf-8")
    assert "should look like" in cli.refused("import", "customers", str(source), "--map", "oops")


# --- demo ------------------------------------------------------------------------------------


def test_demo_fills_an_empty_database_and_refuses_a_full_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import empowerment.demo

    monkeypatch.setattr(empowerment.demo, "hash_secret", lambda secret: f"not-a-hash:{secret}")
    runner = Cli(f"sqlite:///{tmp_path}/demo.db", capsys)
    code, out, err = runner("demo", "--scale", "0.05", "--seed", "3")
    assert code == 0, err
    assert "Simulating" in out and "Writing" in out  # progress lines
    assert "manager.harbour" in out and "demo-manager" in out and "PIN 1234" in out
    line = runner.refused("demo", "--scale", "0.05")
    assert "The database already has data; demo fills only an empty one." in line
    # Destructive: without a terminal to ask at, --force alone erases nothing (issue 11, 9).
    refused = runner.refused("demo", "--scale", "0.05", "--seed", "4", "--force")
    assert "ERASES every table" in refused and "add --yes" in refused
    assert runner("balance", "--employee", "E010")[0] == 0  # still there
    code, out, _ = runner("demo", "--scale", "0.05", "--seed", "4", "--force", "--yes")
    assert code == 0 and "Erasing" in out
    assert runner("balance", "--employee", "E010")[0] == 0
    assert "--scale" in runner.refused("demo", "--scale", "100")


def test_demo_if_empty_never_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import empowerment.demo

    monkeypatch.setattr(empowerment.demo, "hash_secret", lambda secret: f"not-a-hash:{secret}")
    runner = Cli(f"sqlite:///{tmp_path}/make-run.db", capsys)
    monkeypatch.setenv("EMPOWERMENT_DEMO_ON_EMPTY", "0")
    code, out, _ = runner("demo", "--if-empty", "--scale", "0.02")
    assert code == 0 and "no demo data added" in out
    monkeypatch.setenv("EMPOWERMENT_DEMO_ON_EMPTY", "1")
    code, out, _ = runner("demo", "--if-empty", "--scale", "0.02")
    assert code == 0 and "Demo data (seed 7)" in out
    code, out, _ = runner("demo", "--if-empty", "--scale", "0.02")
    assert code == 0 and "already has data; no demo data added" in out
    code, _, err = runner("demo", "--if-empty", "--force")
    assert code == 2 and "not allowed with argument" in err


# --- PostgreSQL (and SQLite) smoke -----------------------------------------------------------


def test_smoke_on_each_backend(db: Database, capsys: pytest.CaptureFixture[str]) -> None:
    runner = Cli(db.url, capsys)
    assert runner("init")[0] == 0
    team_id = make_team(db, "FD")
    make_employee(db, "E1", team_id=team_id)
    make_customer(db, "C1")
    assert runner("policy", "set", "Default", "--allowance", "100", "--period", "month")[0] == 0
    args = ("log", "--employee", "E1", "--customer", "C1", "--type", "comp", "--amount", "40",
            "--category", "Noise", "--key", "k-1")
    assert runner(*args)[0] == 0
    assert "already logged" in runner(*args)[1]
    assert "$60.00 is left" in runner.refused(
        "log", "--employee", "E1", "--customer", "C1", "--type", "comp", "--amount", "70",
        "--category", "Noise")
    _, out, _ = runner("balance", "--employee", "E1", "--format", "json")
    assert json.loads(out)["remaining_cents"] == 6_000


# --- connected: every API operation on the command line ------------------------------------------


def test_api_tokens_batches_and_gesture_decisions_on_the_command_line(cli: Cli, tmp_path: Path) -> None:
    code, out, _ = cli("api-token", "create", "--name", "PMS", "--scope", "ingest", "--scope", "read", "--as", "M1")
    assert code == 0 and "not shown again" in out
    token = out.strip().splitlines()[-1]
    assert token.startswith("emp_")
    code, out, _ = cli("api-token", "list")
    assert "PMS" in out and token not in out
    assert cli("api-token", "revoke", "1")[0] == 0
    assert "already revoked" in cli.refused("api-token", "revoke", "1")

    rows = tmp_path / "t.json"
    rows.write_text(json.dumps({"rows": [
        {"transaction_id": "T1", "customer_id": "C1", "occurred_at": "2025-01-02", "amount": "10"},
        {"transaction_id": "T2", "customer_id": "C1", "occurred_at": "soon", "amount": "10"}]}))
    code, _out, err = cli("ingest", "transactions", str(rows))
    assert code == 2 and "occurred_at" in err
    code, out, _ = cli("ingest", "transactions", str(rows), "--valid-rows-only")
    assert code == 0 and "1 added" in out and "1 refused" in out

    code, out, _ = cli("log", "--employee", "E1", "--customer", "C2", "--type", "refund", "--amount", "450",
                       "--category", "Billing error", "--note", "Charged twice")
    waiting = out.split()[0]
    assert cli("decide", waiting, "--reject", "--reason", "Not ours")[0] == 0
    code, out, _ = cli("log", "--employee", "E1", "--customer", "C2", "--type", "gift", "--amount", "20",
                       "--category", "Noise")
    assert cli("void", out.split()[0], "--reason", "Wrong guest")[0] == 0
    code, out, _ = cli("history", "C2", "--format", "json")
    assert code == 0 and {e["status"] for e in json.loads(out)["events"]} == {"rejected", "voided"}
    code, out, _ = cli("webhook-source", "create", "pms")
    assert code == 0 and out.strip().splitlines()[-1].startswith("whsec_")
    assert "pms" in cli("webhook-source", "list")[1]


# --- imports that take real files, and bad input (issues 10 and 11) ---------------------------------


def test_import_a_semicolon_file_with_day_first_dates_and_decimal_commas(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "kasse.csv"
    source.write_text("transaction_id;customer_id;occurred_at;amount\nT1;C1;31.03.2024 18:30;12,50\n",
                      encoding="utf-8")
    code, out, err = cli("import", "transactions", str(source), "--date-format", "dmy")
    assert code == 0, err
    assert "1 added" in out and "separated by semicolons, amounts with a comma" in out
    code, out, _ = cli("export", "transactions")
    assert "T1,C1,2024-03-31T18:30:00,12.50" in out


def test_import_the_valid_rows_and_write_the_rejects(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "pos.csv"
    source.write_text("transaction_id,customer_id,occurred_at,amount\nT1,C1,2024-01-01,5\n"
                      "T2,C1,today,5\nT3,C1,2024-01-02,x\n", encoding="utf-8")
    code, out, err = cli("import", "transactions", str(source), "--valid-rows-only")
    assert code == 0, err
    assert "1 added" in out and "2 rows with problems were set aside" in out
    rejects = tmp_path / "pos-rejects.csv"
    assert f"are in {rejects}" in out
    text = rejects.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "line,columns,problem,transaction_id,customer_id,occurred_at,amount"
    assert "3,occurred_at,\"occurred_at: is not a date or time" in text
    assert cli.refused("import", "transactions", str(source), "--rejects", "x.csv").endswith(
        "--rejects goes with --valid-rows-only (without it, an import is all rows or none).")


def test_export_into_a_directory(cli: Cli, tmp_path: Path) -> None:
    """`--out dir/` wrote a file named `dir`; an existing directory raised IsADirectoryError."""
    code, out, _ = cli("export", "customers", "--out", f"{tmp_path}/new/")
    assert code == 0 and (tmp_path / "new" / "customers.csv").is_file()
    code, out, _ = cli("export", "employees", "--out", str(tmp_path / "new"))
    assert code == 0 and (tmp_path / "new" / "employees.csv").is_file()
    assert f"to {tmp_path / 'new' / 'employees.csv'}" in out


@pytest.mark.parametrize("args, fragment", [
    (["log", "--employee", "E1", "--customer", "C1", "--type", "comp", "--amount", "1",
      "--category", "Noise", "--key", "k" * 5000], "--key is 5,000 characters long; the most is 100."),
    (["log", "--employee", "E" * 65, "--customer", "C1", "--type", "comp", "--amount", "1",
      "--category", "Noise"], "--employee is 65 characters long; the most is 64."),
    (["log", "--employee", "E1", "--customer", "C1", "--type", "comp", "--amount", "1",
      "--category", "N" * 101], "--category is 101 characters long; the most is 100."),
    (["policy", "set", "P" * 101, "--allowance", "5", "--period", "month"], "the policy name is 101"),
    (["create-user", "--role", "admin", "--username", "u" * 101, "--name", "N"], "--username is 101"),
    (["report", "--period", "2030-Q1", "--format", "csv", "--out", "-"], "2030-Q1 starts on 01 Jan 2030, after today"),
    (["report", "--period", "2026-Q5", "--format", "csv", "--out", "-"], "'2026-Q5' is not a period"),
    (["report", "--location", "Nowhere", "--format", "csv", "--out", "-"], "No location 'Nowhere'"),
    (["payoff", "--location", "Nowhere"], "No location 'Nowhere'; the locations are:"),
    (["payoff", "--horizon", "100000000"], "--horizon is 100,000,000 days; the most is 3,650"),
    (["payoff", "--as-of", "now"], "--as-of 'now' is not a date"),
    (["payoff", "--to", "today"], "--to 'today' is not a date"),
])
def test_bad_arguments_get_one_sentence_never_a_traceback(cli: Cli, args: list[str], fragment: str) -> None:
    assert fragment in cli.refused(*args)
    assert _gesture_count(cli.url) == 0


def test_three_immediate_policy_saves_leave_the_allowance_at_the_policy_amount(cli: Cli) -> None:
    """Issue 11, finding 1: the change derives from the ledger's allocation, not `budget.policy_id`
    (500 -> 600 -> 700 -> 800 before)."""
    assert cli("log", "--employee", "E1", "--customer", "C1", "--type", "gift", "--amount", "10",
               "--category", "Noise")[0] == 0  # opens this month's budget at 500.00
    for _ in range(3):
        code, out, err = cli("policy", "set", "Default", "--allowance", "600", "--period", "month", "--immediate")
        assert code == 0, (out, err)
    _, balance, _ = cli("balance", "--employee", "E1", "--format", "json")
    status = json.loads(balance)
    assert (status["allocated_cents"], status["remaining_cents"]) == (60_000, 59_000)
