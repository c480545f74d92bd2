"""Load test: real headless-Chromium users against one Streamlit process and against the cluster.

The approach of Streamlit's own load-test harness: HTTP tools cannot speak Streamlit's websocket
protocol, so every user is a real browser (here one Chromium with a context, its own cookies and
renderer, per user), driven by Playwright. Three in four users are front-line staff on a shared
tablet: open the switch-user screen, tap their name, type the PIN, find a customer, log a $25
recovery, switch user, again. The others are managers: open the sign-in screen, sign in with a
password (their landing page is Team), open Payoff, open Team again, sign out.

Per target and user count it reports the success rate (steps finished within STEP_TIMEOUT), p50 /
p95 page load (navigation to the page's content: the sign-in screens, Team, Payoff) and action
time (tap to result: sign-in, find, log, switch), and memory per process per user (peak RSS during
the level minus the RSS before it, over the users that process served). A level passes with 100%
success and p95 page load and action under 5 s; the largest passing level is the capacity.

The database is PostgreSQL (the demo organisation, copied from a kept template database for every
target). The browsers run on the same machine as the servers and take CPU from them: the figures
are a floor for this machine, not for a server with the clients elsewhere.

    python benchmarks/bench_load.py                       # make bench: 1, 2, 4, 8 ... 24 users
    python benchmarks/bench_load.py --users 2 --targets single --rounds 1   # the make-test smoke
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_SERVER = os.environ.get("EMPOWERMENT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TEMPLATE_PREFIX = "empowerment_bench_load_template"
CHROMIUM = "/usr/bin/chromium"
# The browsers run at a lower priority than the servers: a real tablet brings its own CPU, and
# here every user's renderer shares the machine's two cores with the app processes.
BROWSER_NICENESS = 10
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-dev-shm-usage"]
VIEWPORT = {"width": 1024, "height": 768}
STEP_TIMEOUT_MS = 60_000
P95_LIMIT_S = 5.0
PAGE_LOAD, ACTION = "page load", "action"


def _cluster_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("empowerment_cluster_script", ROOT / "scripts" / "cluster.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# --- the database -------------------------------------------------------------------------------

def _admin_connect() -> Any:
    import psycopg

    return psycopg.connect(PG_SERVER.replace("+psycopg", ""), autocommit=True)


def template_name(scale: float) -> str:
    """Named after the scale and the schema's newest migration, so a new migration makes a new one."""
    import hashlib

    from alembic.script import ScriptDirectory

    from empowerment.db import alembic_config

    heads = ScriptDirectory.from_config(alembic_config(PG_SERVER)).get_heads()
    schema = hashlib.sha256(",".join(sorted(heads)).encode()).hexdigest()[:8]
    return f"{TEMPLATE_PREFIX}_{round(scale * 100)}_{schema}"


def ensure_template(scale: float) -> str:
    """The demo organisation at `scale` in a kept database, made once (later runs copy it in a
    second); its name."""
    import subprocess

    TEMPLATE = template_name(scale)
    with _admin_connect() as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (TEMPLATE,)).fetchone():
            return TEMPLATE
        stale = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                             (TEMPLATE.rsplit("_", 1)[0] + "\\_%",)).fetchall()
        for (name,) in stale:  # the same scale on an older schema
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
    url = PG_SERVER.rsplit("/", 1)[0] + "/" + TEMPLATE
    env = {**os.environ, "EMPOWERMENT_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    try:
        subprocess.run([sys.executable, "-m", "empowerment", "init"], cwd=ROOT, env=env, check=True,
                       capture_output=True)
        subprocess.run([sys.executable, "-m", "empowerment", "demo", "--scale", str(scale)], cwd=ROOT,
                       env=env, check=True, capture_output=True)
    except BaseException:
        with _admin_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
        raise
    return TEMPLATE


def copy_of_template(template: str, name: str) -> str:
    with _admin_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return PG_SERVER.rsplit("/", 1)[0] + "/" + name


def drop_database(name: str) -> None:
    with _admin_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True)
class StaffMember:
    code: str
    name: str
    location: str
    team: str


@dataclass(frozen=True)
class Cast:
    staff: list[StaffMember]
    managers: list[str]  # user names; the password is the demo's
    customers: dict[str, list[str]]  # location code -> codes of customers seen there


def cast_of(url: str) -> Cast:
    from sqlalchemy import select

    from empowerment.db import Database
    from empowerment.models import Customer, Employee, Incident, Location, Role, Team

    db = Database(url)
    try:
        with db.read() as session:
            staff = [StaffMember(code, name, location, team) for code, name, team, location in session.execute(
                select(Employee.code, Employee.name, Team.code, Location.code)
                .join(Team, Employee.team_id == Team.id).join(Location, Team.location_id == Location.id)
                .where(Employee.role == Role.STAFF, Employee.active.is_(True), Employee.pin_hash.is_not(None))
                .order_by(Employee.code))]
            managers = list(session.scalars(select(Employee.username).where(
                Employee.role == Role.MANAGER, Employee.active.is_(True), Employee.username.is_not(None))
                .order_by(Employee.code)))
            # a desk finds the customers of its own location (queries.customers' reach)
            customers: dict[str, list[str]] = {}
            for code, location in session.execute(
                    select(Customer.code, Location.code).distinct()
                    .join(Incident, Incident.customer_id == Customer.id)
                    .join(Location, Incident.location_id == Location.id)
                    .where(Customer.erased_at.is_(None)).order_by(Location.code, Customer.code)):
                customers.setdefault(location, []).append(code)
    finally:
        db.dispose()
    return Cast(staff, [m for m in managers if m], customers)


# --- memory -------------------------------------------------------------------------------------

def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class MemoryWatch:
    """Peak RSS of each server process while a level runs (sampled every 0.25 s)."""

    def __init__(self, pids: list[int]) -> None:
        self.pids = pids
        self.before = {pid: rss_mb(pid) for pid in pids}
        self.peak = dict(self.before)
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], rss_mb(pid))
            await asyncio.sleep(0.25)

    def start(self) -> None:
        self._task = asyncio.create_task(self._sample())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for pid in self.pids:
            self.peak[pid] = max(self.peak[pid], rss_mb(pid))


# --- the users ----------------------------------------------------------------------------------

class StepFailed(Exception):
    pass


@dataclass
class Results:
    timings: dict[str, list[float]] = field(default_factory=lambda: {PAGE_LOAD: [], ACTION: []})
    steps: dict[str, list[float]] = field(default_factory=dict)
    attempted: int = 0
    succeeded: int = 0
    failures: list[str] = field(default_factory=list)
    replicas: dict[str, int] = field(default_factory=dict)  # replica -> users

    async def step(self, kind: str, name: str, work: Callable[[], Awaitable[Any]]) -> Any:
        self.attempted += 1
        started = time.perf_counter()
        try:
            result = await work()
        except Exception as exc:
            raise StepFailed(f"{name} after {time.perf_counter() - started:.1f} s: "
                             f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}") from exc
        elapsed = time.perf_counter() - started
        self.succeeded += 1
        self.timings[kind].append(elapsed)
        self.steps.setdefault(name, []).append(elapsed)
        return result


def _isolated(text: str) -> str:
    return ".?".join(re.escape(part) for part in text.split("|"))


async def staff_user(browser: Any, base: str, person: StaffMember, customers: dict[str, list[str]], rounds: int,
                     results: Results, rng: random.Random) -> None:
    from playwright.async_api import expect

    context = await browser.new_context(viewport=VIEWPORT, has_touch=True)
    context.set_default_timeout(STEP_TIMEOUT_MS)
    host = base.split("://", 1)[1].split(":")[0]
    await context.add_cookies([{"name": "emp_device", "value": f"tablet|{person.location}|{person.team}",
                                "domain": host, "path": "/"}])
    page = await context.new_page()
    timeout = STEP_TIMEOUT_MS
    try:
        async def open_tablet() -> Any:
            response = await page.goto(base)
            await expect(page.get_by_role("button", name=person.name, exact=True)).to_be_visible(timeout=timeout)
            return response

        response = await results.step(PAGE_LOAD, "open the tablet", open_tablet)
        replica = (response.headers.get("x-empowerment-replica") if response else None) or base
        results.replicas[replica] = results.replicas.get(replica, 0) + 1
        for _ in range(rounds):
            await asyncio.sleep(rng.uniform(0.5, 1.5))

            async def sign_in() -> None:
                await page.get_by_role("button", name=person.name, exact=True).click()
                await page.get_by_role("textbox", name="PIN").fill("1234")
                await page.get_by_role("button", name="Switch").click()
                await expect(page.get_by_role("heading", name="Log a recovery")).to_be_visible(timeout=timeout)

            await results.step(ACTION, "PIN sign-in", sign_in)
            customer = rng.choice(customers[person.location])
            await asyncio.sleep(rng.uniform(0.5, 1.5))

            async def find(customer: str = customer) -> None:
                await page.get_by_role("textbox", name="Find the customer").fill(customer)
                pick = page.get_by_role("button", name=re.compile(re.escape(customer))).first
                await pick.click()
                await expect(page.get_by_role("heading", name=re.compile(r"^1 · "))).to_be_visible(timeout=timeout)

            await results.step(ACTION, "find a customer", find)
            for label in ("Noise", "On the house", "$25"):
                await page.get_by_role("radio", name=re.compile(rf"^(\W+\s)?{re.escape(label)}$")).first.click()
                await page.wait_for_timeout(150)

            async def log() -> None:
                await page.get_by_role("button", name="Log recovery").click()
                await expect(page.get_by_text("Logged $25.00.")).to_be_visible(timeout=timeout)

            await results.step(ACTION, "log a gesture", log)
            await asyncio.sleep(rng.uniform(0.5, 1.5))

            async def switch() -> None:
                await page.get_by_role("button", name="Switch user").click()
                await expect(page.get_by_role("button", name=person.name, exact=True)).to_be_visible(timeout=timeout)

            await results.step(ACTION, "switch user", switch)
    except Exception as exc:  # a step that did not finish: counted, and this user stops
        results.failures.append(f"staff {person.code}: {str(exc).splitlines()[0][:200]}")
    finally:
        await context.close()


async def manager_user(browser: Any, base: str, username: str, rounds: int, results: Results,
                       rng: random.Random) -> None:
    from playwright.async_api import expect

    context = await browser.new_context(viewport=VIEWPORT, has_touch=True)
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = await context.new_page()
    timeout = STEP_TIMEOUT_MS
    team_ready = page.get_by_text(re.compile(r"^This period: "))
    try:
        async def open_sign_in() -> Any:
            response = await page.goto(base)
            await expect(page.get_by_role("textbox", name="Username")).to_be_visible(timeout=timeout)
            return response

        response = await results.step(PAGE_LOAD, "open the sign-in screen", open_sign_in)
        replica = (response.headers.get("x-empowerment-replica") if response else None) or base
        results.replicas[replica] = results.replicas.get(replica, 0) + 1
        await asyncio.sleep(rng.uniform(0.5, 1.5))

        async def sign_in() -> None:
            await page.get_by_role("textbox", name="Username").fill(username)
            await page.get_by_role("textbox", name="Password").fill("demo-manager")
            await page.get_by_role("button", name="Sign in", exact=True).click()
            await expect(team_ready).to_be_visible(timeout=timeout)

        await results.step(ACTION, "password sign-in (to Team)", sign_in)
        # the page's fetch sets the sign-in cookie just after the landing page draws
        for _ in range(100):
            if any(c["name"] == "emp_session" for c in await context.cookies()):
                break
            await page.wait_for_timeout(100)
        for _ in range(rounds):
            await asyncio.sleep(rng.uniform(0.5, 1.5))

            async def payoff() -> None:
                await page.goto(f"{base}/payoff")
                await expect(page.locator(".st-key-po_headline")).to_be_visible(timeout=timeout)

            await results.step(PAGE_LOAD, "open Payoff", payoff)
            await asyncio.sleep(rng.uniform(0.5, 1.5))

            async def team() -> None:
                await page.goto(f"{base}/team")
                await expect(team_ready).to_be_visible(timeout=timeout)

            await results.step(PAGE_LOAD, "open Team", team)
    except Exception as exc:
        results.failures.append(f"manager {username}: {str(exc).splitlines()[0][:200]}")
    finally:
        await context.close()


def _nice_chromium() -> str:
    """A wrapper that starts Chromium (and so every renderer it forks) at BROWSER_NICENESS."""
    import tempfile

    wrapper = Path(tempfile.gettempdir()) / f"empowerment-nice-chromium-{BROWSER_NICENESS}"
    if not wrapper.exists():
        wrapper.write_text(f'#!/bin/sh\nexec nice -n {BROWSER_NICENESS} {CHROMIUM} "$@"\n')
        wrapper.chmod(0o755)
    return str(wrapper)


def _roles(users: int) -> list[str]:
    """Three staff to one manager; at least one of each from two users on."""
    roles = ["manager" if i % 4 == 3 else "staff" for i in range(users)]
    if users >= 2 and "manager" not in roles:
        roles[-1] = "manager"
    return roles


async def run_level(base: str, users: int, rounds: int, cast: Cast, pids: list[int], seed: int) -> dict[str, Any]:
    from playwright.async_api import async_playwright

    results = Results()
    roles = _roles(users)
    staff = iter(cast.staff * 4)
    managers = iter(cast.managers * 8)
    customers = cast.customers
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=_nice_chromium(), args=CHROMIUM_ARGS,
                                                   headless=True)
        watch = MemoryWatch(pids)
        watch.start()
        load_before = os.getloadavg()[0]
        cpu_before = sum(cpu_seconds(p) for p in pids)
        started = time.perf_counter()

        async def user(i: int, role: str) -> None:
            await asyncio.sleep(i * 0.25)  # arrivals spread over a few seconds, not one instant
            user_rng = random.Random(seed * 1000 + i)
            if role == "staff":
                await staff_user(browser, base, next(staff), customers, rounds, results, user_rng)
            else:
                await manager_user(browser, base, next(managers), rounds, results, user_rng)

        await asyncio.gather(*(user(i, role) for i, role in enumerate(roles)))
        elapsed = time.perf_counter() - started
        server_cpu = sum(cpu_seconds(p) for p in pids) - cpu_before
        load_after = os.getloadavg()[0]
        await watch.stop()
        await browser.close()
    per_process = users / max(1, len(pids))
    growth = [watch.peak[p] - watch.before[p] for p in pids]
    summary = {
        "users": users, "staff": roles.count("staff"), "managers": roles.count("manager"),
        "processes": len(pids), "seconds": round(elapsed, 1),
        "attempted": results.attempted, "succeeded": results.succeeded,
        "users_finished": users - len(results.failures),
        "success_rate": results.succeeded / max(1, results.attempted),
        "rss_before_mb": [round(watch.before[p]) for p in pids], "rss_peak_mb": [round(watch.peak[p]) for p in pids],
        "mb_per_user_per_process": round(statistics.mean(growth) / per_process, 1) if per_process else None,
        "users_by_replica": results.replicas,
        # how busy the machine was: the servers' share of the 2 cores, and the load average
        "server_cpu_share": round(server_cpu / elapsed / (os.cpu_count() or 1), 2),
        "load_average": [round(load_before, 1), round(load_after, 1)], "failures": results.failures[:5],
        "steps": {name: _percentiles(values) for name, values in results.steps.items()},
    }
    for kind, values in results.timings.items():
        summary[kind] = _percentiles(values)
    summary["passed"] = (summary["success_rate"] == 1.0
                         and all((summary[k]["p95"] or 0) < P95_LIMIT_S for k in (PAGE_LOAD, ACTION)))
    return summary


def _percentiles(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "max": None}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered) + 0.5) - 1))]
    return {"n": len(values), "p50": round(statistics.median(ordered), 2), "p95": round(p95, 2),
            "max": round(ordered[-1], 2)}


# --- targets ------------------------------------------------------------------------------------

def free_port_run(count: int) -> int:
    import socket

    for _ in range(50):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = int(probe.getsockname()[1])
        ok = True
        for port in range(base, base + count):
            with socket.socket() as sock:
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok and base + count < 65535:
            return base
    raise RuntimeError("no free ports")


def run_target(template: str, target: str, replicas: int, levels: list[int], rounds: int, keep_going: bool,
               seed: int, warm_up: bool = True) -> list[dict[str, Any]]:
    """Start the target on a fresh copy of the demo database, warm it up, then each level."""
    module = _cluster_module()
    name = f"empowerment_bench_load_{target}_{os.getpid()}"
    url = copy_of_template(template, name)
    cast = cast_of(url)
    count = 1 if target == "single" else replicas
    cluster = module.Cluster(url, replicas=count, port=free_port_run(count + 1), worker=False,
                             extra_env={"EMPOWERMENT_SECRET_KEY": "bench-load-" + "s" * 40,
                                        "EMPOWERMENT_DEMO_ON_EMPTY": "0"})
    out: list[dict[str, Any]] = []
    try:
        cluster.start()
        base = cluster.replica_urls[0] if target == "single" else cluster.url
        pids = [p.popen.pid for p in cluster.processes if p.name.startswith("replica")]
        # Warm-up: one staff and one manager per replica, so imports and the first payoff are not timed.
        if warm_up:
            asyncio.run(run_level(base, 2 * count, 1, cast, pids, seed=seed - 1))
        for i, users in enumerate(levels):
            summary = asyncio.run(run_level(base, users, rounds, cast, pids, seed=seed + i))
            summary["target"] = "one process" if target == "single" else f"{count} replicas + nginx"
            out.append(summary)
            print(json.dumps(summary), file=sys.stderr, flush=True)
            if not summary["passed"] and not keep_going:
                break
    finally:
        cluster.stop()
        drop_database(name)
    return out


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| Target | Users (staff + managers) | Success | Page load p50 / p95 | Action p50 / p95 "
             "| RSS per process before → peak | MB per user per process | Servers' CPU share | Load average | |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        page, action = r[PAGE_LOAD], r[ACTION]
        lines.append(
            f"| {r['target']} | {r['users']} ({r['staff']} + {r['managers']}) | {100 * r['success_rate']:.0f}% "
            f"({r['succeeded']}/{r['attempted']}) | {page['p50']} / {page['p95']} s | {action['p50']} / "
            f"{action['p95']} s | {', '.join(f'{a}→{b}' for a, b in zip(r['rss_before_mb'], r['rss_peak_mb'], strict=True))} MB "
            f"| {r['mb_per_user_per_process']} | {100 * r['server_cpu_share']:.0f}% "
            f"| {r['load_average'][0]} → {r['load_average'][1]} | {'passes' if r['passed'] else 'fails'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Load test with real headless-Chromium users.")
    parser.add_argument("--users", default="1,2,4,8,12,16,24", help="user counts to try, in order")
    parser.add_argument("--targets", default="single,cluster", help="single, cluster or both")
    parser.add_argument("--replicas", type=int, default=2, help="replicas of the cluster target")
    parser.add_argument("--rounds", type=int, default=2, help="gestures per staff user (Payoff+Team per manager)")
    parser.add_argument("--scale", type=float, default=1.0, help="demo scale of the template database")
    parser.add_argument("--keep-going", action="store_true", help="try every level even after one fails")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--no-warm-up", action="store_true", help="time the very first users too (the smoke)")
    parser.add_argument("--json", type=Path, help="also write every level's figures here")
    args = parser.parse_args(argv)
    levels = [int(x) for x in args.users.split(",") if x.strip()]
    template = ensure_template(args.scale)
    rows: list[dict[str, Any]] = []
    for target in [t.strip() for t in args.targets.split(",") if t.strip()]:
        rows.extend(run_target(template, target, args.replicas, levels, args.rounds, args.keep_going, args.seed,
                               warm_up=not args.no_warm_up))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    print(table(rows))
    for target in {r["target"] for r in rows}:
        passing = [r["users"] for r in rows if r["target"] == target and r["passed"]]
        print(f"load, {target}: largest passing level {max(passing) if passing else 'none'} users "
              f"(100% success, p95 page load and action < {P95_LIMIT_S:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
