"""scripts/uci_to_canonical.py on a tiny file in the UCI "Online Retail" format (made here: the tests
never read the shared data folder outside the repository), then the CSVs imported on SQLite and PostgreSQL and the payoff run."""

from __future__ import annotations

import gzip
import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from empowerment.actor import Actor
from empowerment.cli import main
from empowerment.db import Database
from empowerment.services.importing import import_csv

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "uci_to_canonical.py"
HEADER = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
LINES = [
    "1001,A,MUG,2,2011-01-01 10:00:00,1.50,12345.0,United Kingdom",
    "1001,B,LAMP,1,2011-01-01 10:00:00,3.25,12345.0,United Kingdom",
    "C2001,A,MUG,-2,2011-01-01 15:00:00,1.50,12345.0,United Kingdom",  # ordered 5 h before
    "1005,B,LAMP,4,2011-02-01 09:00:00,3.25,12345.0,United Kingdom",
    "C2005,B,LAMP,-1,2011-03-01 09:00:00,3.25,12345.0,United Kingdom",  # a second one: not an incident
    "1002,B,LAMP,1,2011-01-05 12:00:00,3.25,12346.0,France",
    "C2002,B,LAMP,-1,2011-01-20 12:00:00,3.25,12346.0,France",  # 15 days later: a return
    "1003,A,MUG,10,2011-01-06 12:00:00,1.50,,United Kingdom",  # no customer: dropped
    "1004,A,MUG,1,2011-01-07 08:00:00,1.50,12347.0,United Kingdom",
    "1004,B,LAMP,1,2011-01-07 08:01:00,3.25,12347.0,United Kingdom",  # the same invoice, a minute on
]


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("uci_to_canonical", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_uci(path: Path, lines: list[str], gz: bool = False) -> Path:
    text = "\n".join([HEADER, *lines]) + "\n"
    if gz:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


def many_customers(n: int) -> list[str]:
    """n customers, each with a purchase and, a day later, a cancellation; some abroad."""
    lines = []
    for i in range(n):
        customer, country = 20000 + i, "Germany" if i % 4 == 0 else "United Kingdom"
        day = 1 + i % 27
        lines.append(f"{3000 + i},A,MUG,3,2011-02-{day:02d} 10:00:00,2.00,{customer}.0,{country}")
        lines.append(f"C{5000 + i},A,MUG,-1,2011-03-{day:02d} 10:00:00,2.00,{customer}.0,{country}")
        lines.append(f"{7000 + i},B,LAMP,1,2011-05-{day:02d} 10:00:00,3.25,{customer}.0,{country}")
    return lines


@pytest.fixture(scope="module")
def script() -> ModuleType:
    return load_script()


def convert(script: ModuleType, tmp_path: Path, lines: list[str], **kwargs: object) -> dict[str, pd.DataFrame]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    written = script.convert(write_uci(tmp_path / "online_retail.csv", lines), tmp_path / "out", **kwargs)
    return {name: pd.read_csv(path, dtype=str, keep_default_na=False) for name, path in written.items()}


def test_one_transaction_per_invoice_with_cancellations_negative(script: ModuleType, tmp_path: Path) -> None:
    out = convert(script, tmp_path, LINES)
    txns = out["transactions"].set_index("transaction_id")
    assert set(txns.index) == {"1001", "C2001", "1005", "C2005", "1002", "C2002", "1004"}  # 1003 had no customer
    assert txns.loc["1001", "amount"] == "6.25" and txns.loc["C2001", "amount"] == "-3.00"
    assert txns.loc["1004", ["occurred_at", "amount"]].tolist() == ["2011-01-07 08:00:00", "4.75"]
    assert txns.loc["1001", "customer_id"] == "12345"
    assert sorted(out["customers"]["customer_id"]) == ["12345", "12346", "12347"]
    assert out["customers"].set_index("customer_id").loc["12346", "segment"] == "France"


def test_each_customers_first_cancellation_is_the_incident(script: ModuleType, tmp_path: Path) -> None:
    incidents = convert(script, tmp_path, LINES)["incidents"].set_index("incident_id")
    assert list(incidents.index) == ["I-C2001", "I-C2002"]
    assert incidents.loc["I-C2001", "category"] == "Cancellation"  # ordered the same day
    assert incidents.loc["I-C2002", "category"] == "Return"  # sent back two weeks later
    assert incidents.loc["I-C2002", ["location", "occurred_at"]].tolist() == ["France", "2011-01-20 12:00:00"]


def test_gestures_are_a_seeded_random_share_with_menu_costs(script: ModuleType, tmp_path: Path) -> None:
    first = convert(script, tmp_path / "a", many_customers(400), seed=5, share=0.4)
    again = convert(script, tmp_path / "b", many_customers(400), seed=5, share=0.4)
    other = convert(script, tmp_path / "c", many_customers(400), seed=6, share=0.4)
    gestures, incidents, employees = first["gestures"], first["incidents"], first["employees"]
    assert gestures.equals(again["gestures"]) and not gestures.equals(other["gestures"])
    assert 0.32 < len(gestures) / len(incidents) < 0.48
    assert set(gestures["incident_id"]) <= set(incidents["incident_id"])
    assert set(gestures["type"]) <= set(script.GESTURE_MENU)
    free = gestures["type"].isin(["personal_note", "time"])
    assert (gestures.loc[free, "cost"] == "0.00").all() and (gestures.loc[~free, "cost"].astype(float) >= 0).all()
    desk = employees.set_index("employee_id")["team"]
    handled = incidents.assign(team=incidents["employee_id"].map(desk))
    assert (handled.loc[handled["location"] == "United Kingdom", "team"] == "UK desk").all()
    assert (handled.loc[handled["location"] == "Germany", "team"] == "International desk").all()
    when = pd.to_datetime(gestures["occurred_at"]) - pd.to_datetime(
        gestures["incident_id"].map(incidents.set_index("incident_id")["occurred_at"]))
    assert (when >= pd.Timedelta(minutes=4)).all() and (when <= pd.Timedelta(days=2)).all()


def test_the_files_import_and_the_payoff_runs(db: Database, script: ModuleType, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    written = script.convert(write_uci(tmp_path / "r.csv", LINES + many_customers(120)), tmp_path / "out", seed=1)
    for kind in ("customers", "employees", "transactions", "incidents", "gestures"):
        import_csv(db, kind, written[kind], actor=Actor.system("test"))
    capsys.readouterr()
    assert main(["payoff", "--database-url", db.url, "--format", "json", "--bootstrap", "0", "--horizon", "30"]) == 0
    report = json.loads(capsys.readouterr().out)
    gestures = pd.read_csv(written["gestures"])
    assert report["overall"]["incidents"] == 122
    assert report["recovered"]["incidents"] == len(gestures)
    assert report["as_of"].startswith("2011-05-")


def test_the_script_reads_gzip_and_says_where_it_wrote(tmp_path: Path) -> None:
    source = write_uci(tmp_path / "online_retail.csv.gz", LINES, gz=True)
    done = subprocess.run([sys.executable, str(SCRIPT), str(source), "--out", str(tmp_path / "csv")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for name in ("customers", "employees", "transactions", "incidents", "gestures"):
        assert f"wrote {tmp_path / 'csv' / name}.csv" in done.stdout
    missing = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "nope.csv")], capture_output=True,
                             text=True, timeout=60)
    assert missing.returncode == 2 and "does not exist" in missing.stderr
