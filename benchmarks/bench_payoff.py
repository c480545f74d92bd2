"""Payoff at scale: 200k incidents and 5M transactions in SQLite, end to end.

    python benchmarks/bench_payoff.py [--incidents 200000 --transactions 5000000] [--fresh]
                                      [--postgres postgresql+psycopg://.../empty_db]
                                      [--postgres-server postgresql+psycopg://host/any_db] [--skip-page]

1. Generates the data with the analytics' own synthetic model (selection bias, a known
   effect), tops the transactions up to the requested count with background purchases of the
   same customers (the worst case for the loader: every row is in scope), and bulk-inserts it
   into a migrated SQLite file under /tmp (vectorised executemany, indexes rebuilt once). The
   file is reused by later runs unless --fresh.
2. Times `python -m empowerment payoff --format json` in a child process, end to end from the
   database (import, SQL read, linking, adjusted effects with the bootstrap), and reports the
   child's peak RSS (its own rusage, from `os.wait4` in a small go-between process).
3. Times the same naive figures (H-day return rate by group and revenue in the H days after)
   in DuckDB SQL over the same DataFrames: the yardstick for what a columnar engine does.
4. Times the Payoff page's warm rerun with AppTest (cache hit, charts rebuilt).
5. With --postgres, loads the same data into that empty database (COPY) and times payoff there;
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
from empowerment.analytics.linking import outcome_columns  # noqa: E402
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


def time_cli(url: str, horizon: int, bootstrap: int) -> tuple[float, float, dict]:
    """`python -m empowerment payoff` in a child: wall seconds, the child's peak RSS (MB), its JSON."""
    command = [sys.executable, "-m", "empowerment", "payoff", "--database-url", url, "--format", "json",
               "--horizon", str(horizon), "--bootstrap", str(bootstrap)]
    done = subprocess.run([sys.executable, "-c", MEASURE, *command], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"payoff failed: {done.stderr[-2000:]}")
    seconds, peak_kb = done.stderr.rsplit("MEASURED ", 1)[1].split()
    return float(seconds), int(peak_kb) / 1024, json.loads(done.stdout)


RUNS = 3  # one run on this machine now and then takes half as long again: report the spread


def repeated_cli(url: str, horizon: int, bootstrap: int) -> tuple[str, float, dict]:
    """RUNS timings of `time_cli`: 'median (each, ...)', the highest peak RSS, the JSON."""
    runs = [time_cli(url, horizon, bootstrap) for _ in range(RUNS)]
    times = sorted(seconds for seconds, _, _ in runs)
    each = ", ".join(_s(seconds) for seconds, _, _ in runs)
    return f"{_s(times[len(times) // 2])} ({each})", max(peak for _, peak, _ in runs), runs[0][2]


def time_in_process(url: str, horizon: int, bootstrap: int) -> tuple[float, float, Any, dict]:
    from empowerment.analytics import PayoffRequest, compute_payoff
    from empowerment.queries.frames import load_analytics_frames

    database = Database(url)
    started = time.perf_counter()
    frames = load_analytics_frames(database)
    loaded = time.perf_counter() - started
    started = time.perf_counter()
    request = PayoffRequest(horizon_days=horizon, as_of=frames.as_of, bootstrap=bootstrap)
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
    from streamlit.testing.v1 import AppTest

    from empowerment.actor import Actor
    from empowerment.models import Role

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

    name = f"bench_payoff_{time.time_ns()}"
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=200_000)
    parser.add_argument("--transactions", type=int, default=5_000_000)
    parser.add_argument("--horizon", type=int, default=90)
    parser.add_argument("--bootstrap", type=int, default=200)
    parser.add_argument("--db", type=Path, help="SQLite file (default /tmp/emp_bench_<incidents>_<transactions>.db)")
    parser.add_argument("--fresh", action="store_true",
                        help="generate the file again even if this generator already wrote it")
    parser.add_argument("--skip-page", action="store_true", help="do not time the Streamlit page")
    parser.add_argument("--postgres", metavar="URL",
                        help="also load the same data into this EMPTY PostgreSQL database and time payoff there")
    parser.add_argument("--postgres-server", metavar="URL",
                        help="like --postgres, in a new database on this server (any database URL "
                             "on it), dropped afterwards")
    args = parser.parse_args(argv)
    if args.postgres_server and not args.postgres:
        args.postgres = _create_database(args.postgres_server)
        try:
            return main([*(argv if argv is not None else sys.argv[1:]), "--postgres", args.postgres])
        finally:
            _drop_database(args.postgres_server, args.postgres)
    path = args.db or Path(f"/tmp/emp_bench_{args.incidents}_{args.transactions}.db")
    url = f"sqlite:///{path}"
    figures: list[tuple[str, str]] = [
        ("incidents / transactions", f"{args.incidents:,} / {args.transactions:,}"),
        ("machine", f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start"),
    ]
    stamp = Path(f"{path}.generator")
    if args.fresh or not path.exists() or not stamp.exists() or stamp.read_text() != GENERATOR:
        stamp.unlink(missing_ok=True)
        started = time.perf_counter()
        write_sqlite(path, tables(synthesise(args.incidents, args.transactions)))
        stamp.write_text(GENERATOR)
        figures.append(("generate + bulk insert into SQLite (s)", _s(time.perf_counter() - started)))
    else:  # a kept file from an earlier schema: bring it to this version's (cheap; data kept)
        kept = Database(url)
        upgrade(kept)
        kept.dispose()
    figures.append(("SQLite file (MB)", f"{path.stat().st_size / 2**20:,.0f}"))
    print(f"timing payoff on {path} ...", file=sys.stderr)
    seconds, peak, cli_report = repeated_cli(url, args.horizon, args.bootstrap)
    figures += [(f"payoff end to end, CLI child, B={args.bootstrap}, median of {RUNS} (each) (s)", seconds),
                ("peak RSS of those children, highest (MB)", f"{peak:,.0f}")]
    seconds, _, _ = time_cli(url, args.horizon, 0)
    figures.append(("payoff end to end, CLI child, B=0 (s)", _s(seconds)))
    loaded, computed, frames, report = time_in_process(url, args.horizon, args.bootstrap)
    figures += [("  read the frames from SQLite (s)", _s(loaded)),
                (f"  analytics: compute_payoff, B={args.bootstrap} (s)", _s(computed))]
    duck_seconds, yardstick = time_duckdb(frames, args.horizon)
    figures += [("DuckDB yardstick: naive rates + revenue after H, on the frames (s)", _s(duck_seconds)),
                ("DuckDB figures equal the analytics' (eligible, returned, revenue)",
                 "yes" if matches(frames, args.horizon, yardstick) else "NO")]
    if args.postgres:
        started = time.perf_counter()
        write_postgres(args.postgres, tables(synthesise(args.incidents, args.transactions)))
        figures.append(("PostgreSQL: generate + COPY (s)", _s(time.perf_counter() - started)))
        seconds, peak, pg_report = repeated_cli(args.postgres, args.horizon, args.bootstrap)
        figures += [(f"PostgreSQL: payoff end to end, CLI child, B={args.bootstrap}, median of {RUNS} (each) (s)",
                     seconds),
                    ("PostgreSQL: peak RSS of those children, highest (MB)", f"{peak:,.0f}"),
                    ("PostgreSQL: same figures as SQLite", "yes" if pg_report == cli_report else "NO")]
        loaded, _, _, _ = time_in_process(args.postgres, args.horizon, 0)
        figures.append(("  PostgreSQL: read the frames (s)", _s(loaded)))
    if not args.skip_page:
        cold, warm = time_page(url)
        figures += [("Payoff page, first run, cold caches (s)", _s(cold)),
                     ("Payoff page, warm rerun (s)", _s(warm))]
    width = max(len(name) for name, _ in figures)
    print(f"{'figure':<{width}}  value")
    for name, value in figures:
        print(f"{name:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
