"""Payoff at scale, end to end: 200k incidents / 5M transactions and 1M / 25M (issues 12 and 15).

    python benchmarks/bench_payoff.py [--scales 200000x5000000,1000000x25000000] [--fresh]
                                      [--pad 25000000] [--postgres postgresql+psycopg://.../empty_db]
                                      [--postgres-server postgresql+psycopg://host/any_db] [--skip-page]

For each scale:
1. Generates the data with the analytics' own synthetic model (selection bias, a known
   effect), tops the transactions up to the requested count with background purchases of the
   same customers (every row is in scope), computes the outcomes table from the same frames
   (`analytics.linking.outcome_columns`, as `services.outcomes` keeps it live: a rebuild would
   read 5M rows back), and bulk-inserts it all into a migrated SQLite file
   /tmp/emp_bench_<incidents>_<transactions>.db (vectorised executemany, indexes rebuilt once).
   The file is kept, keyed by the scale and the generator's version, and reused unless --fresh
   (1M / 25M takes about 13 minutes to generate on 2 busy cores).
2. Times `python -m empowerment payoff --format json` in a child process, end to end from the
   database (import, SQL read of the outcomes table and gestures, adjusted effects with the
   bootstrap), and reports the child's peak RSS (its own rusage, from `os.wait4` in a small
   go-between process); says whether the payoff read the outcomes table or the transactions.
3. `--pad N` (default 25M): a copy of a smaller scale with N transactions in all, the extra of
   customers without incidents: the same JSON and the same memory show that the payoff does not
   read, or grow with, the transactions.
4. When the payoff read the transactions (no outcomes table), the naive figures in DuckDB SQL
   over the same frames: the yardstick for what a columnar engine does.
5. Times the Payoff page's first run and warm rerun with AppTest.
6. With --postgres, loads the same data into that empty database (COPY) and times payoff there
   (at scales up to --postgres-up-to incidents), checking the JSON equals SQLite's;
   --postgres-server does the same in a new database it drops afterwards (what `make bench` runs).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from empowerment import settings  # noqa: E402
from empowerment.analytics.linking import Outcomes, outcome_columns  # noqa: E402
from empowerment.analytics.synthetic import MINUTE_NS, Timeline, make_synthetic  # noqa: E402
from empowerment.analytics.synthetic import purchase_amounts as _amounts  # noqa: E402
from empowerment.db import Database, upgrade  # noqa: E402

EMPLOYEES = 40
TEAMS = ("front desk", "support", "floor")
LOCATIONS = ("north", "south", "east", "west")
INSERT_CHUNK = 500_000
GENERATOR = "bench_payoff v4 seed 7"  # a file written by this generator is reused
SCALES = ((200_000, 5_000_000), (1_000_000, 25_000_000))  # (incidents, transactions) by default


def _stamps(ns: np.ndarray) -> np.ndarray:
    """int64 ns -> 'YYYY-MM-DD HH:MM:SS.ffffff', the text SQLAlchemy stores in SQLite (NaT -> None)."""
    text = np.datetime_as_string(ns.view("datetime64[ns]").astype("datetime64[us]"), unit="us")
    text = np.char.replace(text, "T", " ")
    missing = ns == np.iinfo(np.int64).min
    return np.where(missing, None, text) if missing.any() else text


def _ns(series: pd.Series) -> np.ndarray:
    return series.to_numpy(dtype="datetime64[ns]").view("int64")


def _insert(conn: sqlite3.Connection, table: str, columns: dict[str, np.ndarray]) -> None:
    names = list(columns)
    sql = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    size = len(next(iter(columns.values())))
    for start in range(0, size, INSERT_CHUNK):
        stop = min(start + INSERT_CHUNK, size)
        parts = [columns[name][start:stop].tolist() for name in names]
        conn.executemany(sql, zip(*parts, strict=True))


def _codes(prefix: str, ids: np.ndarray) -> np.ndarray:
    """Zero-padded, so codes arrive in index order (appends instead of random b-tree inserts)."""
    return np.char.add(prefix, np.char.zfill(ids.astype(str), 9))


def synthesise(n_incidents: int, n_transactions: int, seed: int = 7) -> dict[str, pd.DataFrame]:
    timeline = Timeline()
    incidents, gestures, txns, customers, _truth = make_synthetic(n_incidents, seed, timeline=timeline)
    rng = np.random.default_rng(seed + 1)
    missing = n_transactions - len(txns)
    if missing > 0:  # background purchases of the same customers over the whole timeline
        start = pd.Timestamp(timeline.start).value
        span = (timeline.as_of.value - start) // MINUTE_NS
        extra = pd.DataFrame({
            "customer_id": rng.integers(1, n_incidents + 1, missing),
            "occurred_at": pd.Series(
                (start + rng.integers(0, span, missing) * MINUTE_NS).astype("datetime64[ns]")),
            "amount_cents": _amounts(rng, missing),
        })
        txns = pd.concat([txns, extra], ignore_index=True)
    # rows arrive in time order, as a till or a nightly import writes them
    txns = txns.iloc[rng.permutation(len(txns))[:n_transactions]]
    txns = txns.sort_values("occurred_at", kind="stable", ignore_index=True)
    return {"incidents": incidents, "gestures": gestures, "transactions": txns,
            "customers": customers}


def tables(frames: dict[str, pd.DataFrame]) -> dict[str, dict[str, np.ndarray]]:
    """Rows for each table, as columns (times as the text SQLAlchemy stores in SQLite)."""
    out: dict[str, dict[str, np.ndarray]] = {}
    loc_ids, team_ids, emp_ids = (np.arange(1, n + 1) for n in (len(LOCATIONS), len(TEAMS), EMPLOYEES))
    out["locations"] = {"id": loc_ids, "code": np.array(LOCATIONS), "name": np.array(LOCATIONS),
                        "currency": np.array(["USD"] * len(LOCATIONS))}
    out["teams"] = {"id": team_ids, "code": np.array(TEAMS), "name": np.array(TEAMS),
                    "location_id": (team_ids - 1) % len(LOCATIONS) + 1}
    out["employees"] = {"id": emp_ids, "code": np.array([f"E{i:03d}" for i in emp_ids]),
                        "name": np.array([f"Staff {i}" for i in emp_ids]), "role": np.full(EMPLOYEES, "staff"),
                        "team_id": (emp_ids - 1) % len(TEAMS) + 1}
    customers = frames["customers"]
    ids = customers["customer_id"].to_numpy()
    first_seen = customers["first_seen_at"]
    out["customers"] = {
        "id": ids, "code": _codes("C", ids), "name": np.char.add("Guest ", ids.astype(str)),
        "first_seen_at": np.where(first_seen.isna().to_numpy(), None,
                                  _stamps(_ns(first_seen.fillna(pd.Timestamp(0))))),
    }
    incidents = frames["incidents"]
    ids = incidents["incident_id"].to_numpy()
    location = pd.Categorical(incidents["location"].replace("", None), categories=LOCATIONS).codes
    team = pd.Categorical(incidents["team"], categories=TEAMS).codes
    out["incidents"] = {
        "id": ids, "code": _codes("I", ids), "customer_id": incidents["customer_id"].to_numpy(),
        "occurred_at": _stamps(_ns(incidents["occurred_at"])),
        "category": incidents["category"].to_numpy().astype(str),
        "location_id": np.where(location >= 0, location + 1, None),
        # the employee who recorded the incident belongs to the incident's team
        "employee_id": team + 1 + len(TEAMS) * (ids % (EMPLOYEES // len(TEAMS))),
    }
    gestures = frames["gestures"]
    ids = gestures["gesture_id"].to_numpy()
    out["gestures"] = {
        "id": ids, "code": _codes("G", ids), "incident_id": gestures["incident_id"].to_numpy(),
        "customer_id": gestures["customer_id"].to_numpy(), "employee_id": gestures["employee_id"].to_numpy(),
        "occurred_at": _stamps(_ns(gestures["occurred_at"])),
        "type": np.char.replace(gestures["type"].to_numpy().astype(str), " ", "_"),
        "cost_cents": gestures["cost_cents"].to_numpy(),
        "status": np.where(gestures["voided"].to_numpy(dtype=bool), "voided", "logged"),
        "source": np.full(len(gestures), "import"),
    }
    txns = frames["transactions"]
    ids = np.arange(1, len(txns) + 1)
    out["transactions"] = {
        "id": ids, "code": _codes("T", ids), "customer_id": txns["customer_id"].to_numpy(),
        "occurred_at": _stamps(_ns(txns["occurred_at"])), "amount_cents": txns["amount_cents"].to_numpy(),
    }
    out.update(outcome_tables(incidents, txns))
    return out


def outcome_tables(incidents: pd.DataFrame, txns: pd.DataFrame) -> dict[str, dict[str, np.ndarray]]:
    """The outcomes table as a live installation keeps it (`services.outcomes`), computed here from
    the same frames with the same function (`analytics.linking.outcome_columns`) instead of a
    rebuild that reads 5M rows back: one row per incident, and the state that says it is current.
    Times at the microseconds the database keeps, so the rows equal a rebuild's."""
    def micro(series: pd.Series) -> pd.Series:
        return series.astype("datetime64[us]").astype("datetime64[ns]")

    hours = settings.current().recovery_window_hours
    frame = outcome_columns(
        pd.DataFrame({"incident_id": incidents["incident_id"].to_numpy(),
                      "customer_id": incidents["customer_id"].to_numpy(),
                      "occurred_at": micro(incidents["occurred_at"])}),
        pd.DataFrame({"customer_id": txns["customer_id"].to_numpy(), "occurred_at": micro(txns["occurred_at"]),
                      "amount_cents": txns["amount_cents"].to_numpy()}),
        hours)
    columns = {name: (_stamps(_ns(frame[name])) if frame[name].dtype.kind == "M"
                      else frame[name].to_numpy(dtype=np.int64)) for name in frame.columns}
    highest = len(txns)
    state = {"id": np.array([1]), "recovery_window_hours": np.array([hours]),
             "transactions_count": np.array([highest]), "transactions_max_id": np.array([highest]),
             "built_at": _stamps(np.array([pd.Timestamp.now().value])),
             "transactions_latest_at": _stamps(np.array([_ns(txns["occurred_at"]).max()]))}
    return {"incident_outcomes": columns, "outcomes_state": state}


def write_sqlite(path: Path, rows: dict[str, dict[str, np.ndarray]]) -> None:
    if path.exists():
        path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    database = Database(f"sqlite:///{path}")
    upgrade(database)
    database.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                           "AND sql NOT LIKE 'CREATE UNIQUE%'").fetchall()
    for name, _ in indexes:  # one sort per index afterwards instead of millions of random inserts
        conn.execute(f'DROP INDEX "{name}"')
    for table, columns in rows.items():
        _insert(conn, table, columns)
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def write_postgres(url: str, rows: dict[str, dict[str, np.ndarray]]) -> None:
    """Into an EMPTY PostgreSQL database: migrate, then one COPY per table."""
    database = Database(url)
    upgrade(database)
    with database.engine.begin() as conn:
        if conn.exec_driver_sql("SELECT COUNT(*) FROM transactions").scalar():
            raise SystemExit(f"{url} already has transactions; give an empty database.")
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        for table, columns in rows.items():
            frame = pd.DataFrame(columns)
            text = frame.to_csv(index=False, header=False, na_rep="\\N")
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')") as copy:
                copy.write(text.encode())
            if table not in ("incident_outcomes", "outcomes_state"):  # no id sequence there
                conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), MAX(id)) FROM {table}")
    # As a live database is kept: vacuumed and analysed. Without this, autovacuum starts on the
    # 5M fresh rows while payoff is being timed (measured: 11.2 s instead of 8 s).
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
        conn.exec_driver_sql("CHECKPOINT")  # nor the checkpoint of the load's write-ahead log
    database.dispose()


# --------------------------------------------------------------------------------------------
# Measurements


# A small go-between: Linux carries a process's peak RSS across exec, so a child forked straight
# from this (large) process would report this process's size. The go-between is small when it
# forks, so the figure it reports is the payoff command's own.
MEASURE = """
import os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:])
_, status, usage = os.wait4(child.pid, 0)
sys.stderr.write(f"\\nMEASURED {time.perf_counter() - started} {usage.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def time_cli(url: str, horizon: int, bootstrap: int, fresh: bool = True) -> tuple[float, float, dict]:
    """`python -m empowerment payoff` in a child: wall seconds, the child's peak RSS (MB), its JSON.
    `fresh`: worked out (`--fresh`); else read from the figures stored for the data as it is now
    (`reports.computed`; the first such run works them out and stores them)."""
    command = [sys.executable, "-m", "empowerment", "payoff", "--database-url", url, "--format", "json",
               "--horizon", str(horizon), "--bootstrap", str(bootstrap), *(["--fresh"] if fresh else [])]
    done = subprocess.run([sys.executable, "-c", MEASURE, *command], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"payoff failed: {done.stderr[-2000:]}")
    seconds, peak_kb = done.stderr.rsplit("MEASURED ", 1)[1].split()
    return float(seconds), int(peak_kb) / 1024, json.loads(done.stdout)


RUNS = 3  # one run on this machine now and then takes half as long again: report the spread


def repeated_cli(url: str, horizon: int, bootstrap: int, fresh: bool = True) -> tuple[str, float, dict]:
    """RUNS timings of `time_cli`: 'median (each, ...)', the highest peak RSS, the JSON."""
    runs = [time_cli(url, horizon, bootstrap, fresh) for _ in range(RUNS)]
    times = sorted(seconds for seconds, _, _ in runs)
    each = ", ".join(_s(seconds) for seconds, _, _ in runs)
    return f"{_s(times[len(times) // 2])} ({each})", max(peak for _, peak, _ in runs), runs[0][2]


def time_in_process(url: str, horizon: int, bootstrap: int) -> tuple[float, float, Any, dict]:
    from empowerment.analytics import PayoffRequest, compute_payoff
    from empowerment.queries.frames import load_analytics_frames

    database = Database(url)
    started = time.perf_counter()
    frames = load_analytics_frames(database, outcomes=(horizon,))  # as the CLI reads them
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    current = settings.current()
    request = PayoffRequest(horizon_days=horizon, as_of=frames.as_of, bootstrap=bootstrap,
                            recovery_window_hours=current.recovery_window_hours, margin=current.contribution_margin)
    report = compute_payoff(frames.incidents, frames.gestures, frames.transactions, frames.customers,
                            request).to_json()
    database.dispose()
    return loaded, time.perf_counter() - started, frames, report


YARDSTICK_SQL = """
WITH live AS (SELECT DISTINCT incident_id FROM gestures WHERE NOT voided),
inc AS (
    SELECT i.incident_id, i.customer_id, i.occurred_at, live.incident_id IS NOT NULL AS recovered,
           i.occurred_at + to_days($horizon) <= $as_of AS eligible
    FROM incidents i LEFT JOIN live USING (incident_id)),
back AS (
    SELECT inc.incident_id, MIN(t.occurred_at) AS first_back
    FROM inc JOIN transactions t ON t.customer_id = inc.customer_id
     AND t.occurred_at > inc.occurred_at AND t.occurred_at <= $as_of AND t.amount_cents > 0
    GROUP BY inc.incident_id),
revenue AS (
    SELECT inc.incident_id, SUM(t.amount_cents) AS cents
    FROM inc JOIN transactions t ON t.customer_id = inc.customer_id
     AND t.occurred_at > inc.occurred_at AND t.occurred_at <= inc.occurred_at + to_days($horizon)
     AND t.occurred_at <= $as_of
    WHERE inc.eligible
    GROUP BY inc.incident_id)
SELECT recovered, COUNT(*) AS incidents, COUNT(*) FILTER (WHERE eligible) AS eligible,
       COUNT(*) FILTER (WHERE eligible AND first_back <= occurred_at + to_days($horizon)) AS returned,
       COALESCE(SUM(cents), 0)::BIGINT AS revenue_after_cents
FROM inc LEFT JOIN back USING (incident_id) LEFT JOIN revenue USING (incident_id)
GROUP BY recovered ORDER BY recovered DESC
"""


def time_duckdb(frames: Any, horizon: int) -> tuple[float, pd.DataFrame]:
    """The naive figures (H-day return rate per group, revenue in the H days after) in DuckDB SQL
    over the same DataFrames the analytics gets (DuckDB cannot read SQLite here without
    downloading its sqlite extension)."""
    import duckdb

    conn = duckdb.connect()
    conn.execute("SET autoinstall_known_extensions = false")
    for name in ("incidents", "gestures", "transactions"):
        conn.register(name, getattr(frames, name))
    started = time.perf_counter()
    result = conn.execute(YARDSTICK_SQL, {"horizon": horizon, "as_of": frames.as_of.to_pydatetime()}).df()
    seconds = time.perf_counter() - started
    conn.close()
    return seconds, result


def time_page(url: str) -> tuple[float, float]:
    """The Payoff page in AppTest: first run (cold caches) and a rerun with the same choices."""
    os.environ["EMPOWERMENT_DATABASE_URL"] = url
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from empowerment.actor import Actor
    from empowerment.models import Role

    st.cache_data.clear()  # nothing of the last run's caches is reused
    st.cache_resource.clear()
    at = AppTest.from_file(str(ROOT / "pages" / "payoff.py"), default_timeout=900)
    at.session_state["actor"] = Actor(employee_id=None, name="Bench", role=Role.CX_LEAD)
    started = time.perf_counter()
    at.run()
    cold = time.perf_counter() - started
    if at.exception:
        raise SystemExit(f"page failed: {at.exception[0].value}")
    warm = []
    for _ in range(3):
        started = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - started)
    return cold, min(warm)


def _admin_dsn(url: str) -> str:
    return url.replace("+psycopg", "", 1)


def _create_database(server_url: str) -> str:
    import psycopg

    name = f"payoff_bench_{time.time_ns()}"
    with psycopg.connect(_admin_dsn(server_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + "/" + name


def _drop_database(server_url: str, url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(_admin_dsn(server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _s(seconds: float) -> str:
    return f"{seconds:.2f}" if seconds < 10 else f"{seconds:.1f}"


def matches(frames: Any, horizon: int, yardstick: pd.DataFrame) -> bool:
    """The SQL yardstick's plain definitions (per incident, follow-up from the incident itself, any
    live gesture) against the analytics' linkage with the same settings (no recovery window, no
    episodes): the vectorised window searches and prefix sums, checked against SQL."""
    from empowerment.analytics import link_incidents

    linked = link_incidents(frames.incidents, frames.gestures, frames.transactions, frames.customers,
                            frames.as_of, horizon, recovery_window_hours=0, by_episode=False)
    live = frames.gestures.loc[~frames.gestures["voided"], "incident_id"]
    recovered = linked["incident_id"].isin(live).to_numpy()
    rows = yardstick.set_index("recovered")
    for flag in (True, False):
        part = linked.loc[recovered == flag]
        eligible = part["eligible"].to_numpy(dtype=bool)
        mine = (int(eligible.sum()), int(part["returned_within"].to_numpy()[eligible].sum()),
                int(round(float(part["revenue_after_cents"].to_numpy()[eligible].sum()))))
        row = rows.loc[flag]
        if mine != (int(row["eligible"]), int(row["returned"]), int(row["revenue_after_cents"])):
            return False
    return True


def pad_transactions(source: Path, path: Path, extra: int) -> None:
    """A copy of `source` with `extra` more transactions, of new customers who had no incident
    (so no outcome row and no figure changes), dated within the data's span and not after its
    latest transaction; the outcomes state records them as the writers would. The payoff must
    give the same JSON from both files, in the same memory: it must not read transactions."""
    import shutil

    shutil.copyfile(source, path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    first_customer, = conn.execute("SELECT MAX(id) + 1 FROM customers").fetchone()
    first_id, = conn.execute("SELECT MAX(id) + 1 FROM transactions").fetchone()
    customers = max(1, extra // 200)
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?) "
        "INSERT INTO customers (id, code, name) SELECT ? + i, printf('P%09d', i), 'Other guest ' || i FROM n",
        (customers, first_customer))
    low, high = (pd.Timestamp(t) for t in conn.execute(
        "SELECT MIN(occurred_at), MAX(occurred_at) FROM transactions").fetchone())
    span_s = int((high - low).total_seconds())
    # customer by customer (200 each), in id order: the indexes grow at their ends
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?) "
        "INSERT INTO transactions (id, code, customer_id, occurred_at, amount_cents) "
        "SELECT ? + i, printf('P%010d', i), ? + i / 200, "
        "strftime('%Y-%m-%d %H:%M:%S', ?, '+' || ((i % 200) * (? / 200) + (i * 7919) % (? / 200)) || ' seconds') "
        "|| '.000000', 500 + (i * 104729) % 20000 FROM n",
        (extra, first_id, first_customer, str(low.floor("s")), span_s, span_s))
    count, highest = conn.execute("SELECT COUNT(*), MAX(id) FROM transactions").fetchone()
    conn.execute("UPDATE outcomes_state SET transactions_count = ?, transactions_max_id = ?", (count, highest))
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def prepared_sqlite(incidents: int, transactions: int, fresh: bool, figures: list[tuple[str, str]],
                    db: Path | None = None) -> Path:
    """The SQLite file of this scale, generated once and kept under /tmp keyed by the scale and
    this generator's version (a kept file from an earlier schema is upgraded: cheap, data kept)."""
    path = db or Path(f"/tmp/emp_bench_{incidents}_{transactions}.db")
    stamp = Path(f"{path}.generator")
    if fresh or not path.exists() or not stamp.exists() or stamp.read_text() != GENERATOR:
        stamp.unlink(missing_ok=True)
        started = time.perf_counter()
        write_sqlite(path, tables(synthesise(incidents, transactions)))
        stamp.write_text(GENERATOR)
        figures.append(("generate + bulk insert into SQLite (s)", _s(time.perf_counter() - started)))
    else:
        kept = Database(f"sqlite:///{path}")
        upgrade(kept)
        kept.dispose()
    return path


def measure_scale(args: argparse.Namespace, incidents: int, transactions: int) -> list[tuple[str, str]]:
    figures: list[tuple[str, str]] = [
        ("incidents / transactions", f"{incidents:,} / {transactions:,}"),
        ("machine", f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start"),
    ]
    path = prepared_sqlite(incidents, transactions, args.fresh, figures, args.db)
    url = f"sqlite:///{path}"
    figures.append(("SQLite file (MB)", f"{path.stat().st_size / 2**20:,.0f}"))
    print(f"timing payoff on {path} ...", file=sys.stderr)
    seconds, peak, cli_report = repeated_cli(url, args.horizon, args.bootstrap)
    figures += [(f"payoff worked out, end to end, CLI child, B={args.bootstrap}, median of {RUNS} (each) (s)",
                 seconds), ("peak RSS of those children, highest (MB)", f"{peak:,.0f}")]
    _clear_stored(url)
    first, first_peak, first_report = time_cli(url, args.horizon, args.bootstrap, fresh=False)
    seconds, peak, stored_report = repeated_cli(url, args.horizon, args.bootstrap, fresh=False)
    figures += [("payoff, first run on new data: worked out and stored (s), peak (MB)",
                 f"{_s(first)}, {first_peak:,.0f}"),
                (f"payoff read from the stored figures, end to end, CLI child, median of {RUNS} (each) (s)", seconds),
                ("  peak RSS of those children, highest (MB)", f"{peak:,.0f}"),
                ("  same figures as worked out", "yes" if first_report == stored_report == cli_report else "NO")]
    seconds, _, _ = time_cli(url, args.horizon, 0)
    figures.append(("payoff end to end, CLI child, B=0 (s)", _s(seconds)))
    loaded, computed, frames, _report = time_in_process(url, args.horizon, args.bootstrap)
    reads = "the outcomes table" if isinstance(frames.transactions, Outcomes) else "every transaction"
    figures += [("  the payoff read", reads),
                ("  read the frames from SQLite (s)", _s(loaded)),
                (f"  analytics: compute_payoff, B={args.bootstrap} (s)", _s(computed))]
    if args.pad and transactions < args.pad:  # the same incidents, many more transactions
        padded = Path(f"/tmp/emp_bench_{incidents}_{transactions}_padded_{args.pad}.db")
        padded_stamp = Path(f"{padded}.generator")
        if args.fresh or not padded.exists() or not padded_stamp.exists() or padded_stamp.read_text() != GENERATOR:
            started = time.perf_counter()
            pad_transactions(path, padded, args.pad - transactions)
            padded_stamp.write_text(GENERATOR)
            figures.append((f"padded copy: + {args.pad - transactions:,} transactions of other customers (s)",
                            _s(time.perf_counter() - started)))
        else:  # a kept copy from an earlier schema is upgraded, as the file it was copied from is
            kept = Database(f"sqlite:///{padded}")
            upgrade(kept)
            kept.dispose()
        seconds, padded_peak, padded_report = repeated_cli(f"sqlite:///{padded}", args.horizon, args.bootstrap)
        figures += [(f"  same incidents, {args.pad:,} transactions: payoff end to end (s)", seconds),
                    (f"  same incidents, {args.pad:,} transactions: peak RSS (MB)", f"{padded_peak:,.0f}"),
                    ("  same figures as with the fewer transactions",
                     "yes" if padded_report == cli_report else "NO")]
    if not isinstance(frames.transactions, Outcomes):  # the yardstick needs the transactions
        duck_seconds, yardstick = time_duckdb(frames, args.horizon)
        figures += [("DuckDB yardstick: naive rates + revenue after H, on the frames (s)", _s(duck_seconds)),
                    ("DuckDB figures equal the analytics' (eligible, returned, revenue)",
                     "yes" if matches(frames, args.horizon, yardstick) else "NO")]
    if args.postgres and incidents <= args.postgres_up_to:
        started = time.perf_counter()
        write_postgres(args.postgres, tables(synthesise(incidents, transactions)))
        figures.append(("PostgreSQL: generate + COPY (s)", _s(time.perf_counter() - started)))
        seconds, peak, pg_report = repeated_cli(args.postgres, args.horizon, args.bootstrap)
        figures += [(f"PostgreSQL: payoff worked out, end to end, CLI child, B={args.bootstrap}, median of {RUNS} "
                     "(each) (s)", seconds),
                    ("PostgreSQL: peak RSS of those children, highest (MB)", f"{peak:,.0f}"),
                    ("PostgreSQL: same figures as SQLite", "yes" if pg_report == cli_report else "NO")]
        time_cli(args.postgres, args.horizon, args.bootstrap, fresh=False)  # worked out and stored
        seconds, peak, pg_stored = repeated_cli(args.postgres, args.horizon, args.bootstrap, fresh=False)
        figures += [(f"PostgreSQL: payoff read from the stored figures, median of {RUNS} (each) (s), peak (MB)",
                     f"{seconds}, {peak:,.0f}"),
                    ("PostgreSQL: stored figures the same", "yes" if pg_stored == cli_report else "NO")]
        loaded, _, pg_frames, _ = time_in_process(args.postgres, args.horizon, 0)
        figures += [("  PostgreSQL: read the frames (s)", _s(loaded)),
                    ("  PostgreSQL: the payoff read", "the outcomes table" if isinstance(pg_frames.transactions, Outcomes)
                     else "every transaction")]
        _empty_postgres(args.postgres)
    if not args.skip_page:
        _clear_stored(url)
        cold, warm = time_page(url)
        stored_cold, _ = time_page(url)  # a new session and new caches, as on another replica
        figures += [("Payoff page, first run, nothing stored: worked out in the page (s)", _s(cold)),
                    ("Payoff page, warm rerun (s)", _s(warm)),
                    ("Payoff page, first run in a new process, figures stored (s)", _s(stored_cold))]
    return figures


def _clear_stored(url: str) -> None:
    """Forget the stored figures (a kept file has those of the last run): the next run works out."""
    database = Database(url)
    with database.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM computed_results")
    database.dispose()


def _empty_postgres(url: str) -> None:
    """Drop every table of the bench database, so the next scale loads into an empty one."""
    database = Database(url)
    with database.engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    database.dispose()


def _scale(text: str) -> tuple[int, int]:
    incidents, transactions = text.lower().replace("_", "").split("x")
    return int(incidents), int(transactions)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", type=lambda text: [_scale(part) for part in text.split(",")],
                        default=list(SCALES), metavar="IxT,...",
                        help="incidents x transactions, comma-separated (default 200000x5000000,1000000x25000000)")
    parser.add_argument("--incidents", type=int, help="one scale only: this many incidents (with --transactions)")
    parser.add_argument("--transactions", type=int)
    parser.add_argument("--horizon", type=int, default=90)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--db", type=Path, help="SQLite file, one scale only (default /tmp/emp_bench_<incidents>_<transactions>.db)")
    parser.add_argument("--fresh", action="store_true",
                        help="generate the files again even if this generator already wrote them")
    parser.add_argument("--pad", type=int, default=25_000_000, metavar="N",
                        help="also time a copy of each smaller scale topped up to N transactions of customers "
                             "without incidents (memory must not grow with them; 0: skip)")
    parser.add_argument("--skip-page", action="store_true", help="do not time the Streamlit page")
    parser.add_argument("--postgres", metavar="URL",
                        help="also load the same data into this EMPTY PostgreSQL database and time payoff there")
    parser.add_argument("--postgres-server", metavar="URL",
                        help="like --postgres, in a new database on this server (any database URL "
                             "on it), dropped afterwards")
    parser.add_argument("--postgres-up-to", type=int, default=200_000, metavar="INCIDENTS",
                        help="PostgreSQL only at scales up to this many incidents (default 200000: the COPY of "
                             "25M rows takes minutes)")
    args = parser.parse_args(argv)
    if args.postgres_server and not args.postgres:
        args.postgres = _create_database(args.postgres_server)
        try:
            return main([*(argv if argv is not None else sys.argv[1:]), "--postgres", args.postgres])
        finally:
            _drop_database(args.postgres_server, args.postgres)
    scales = [(args.incidents, args.transactions or 25 * args.incidents)] if args.incidents else args.scales
    for incidents, transactions in scales:
        figures = measure_scale(args, incidents, transactions)
        width = max(len(name) for name, _ in figures)
        print(f"{'figure':<{width}}  value")
        for name, value in figures:
            print(f"{name:<{width}}  {value}")
        print(flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
