"""Connected commands: every API operation also exists here, and the notification worker.

    api-token create|list|revoke     webhook-source create|list|revoke
    ingest KIND FILE.json            void GESTURE_ID    decide GESTURE_ID    history CUSTOMER_ID
    set-email EMPLOYEE_ID ADDRESS    notify-worker      notify-digest

(`log` and `balance` are in `core`.) Commands act as the system (`Actor.system("cli")`), like the
other commands: whoever runs them on the server already holds the database.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from empowerment import settings
from empowerment.actor import Actor
from empowerment.cli.common import (
    EXIT_OK,
    EXIT_REFUSED,
    add_command,
    fail,
    fits,
    open_db,
    opened_db,
    print_json,
    print_table,
)
from empowerment.clock import local_time, utc_now
from empowerment.errors import InvalidInput
from empowerment.money import format_cents

SYSTEM = Actor.system("cli")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    tokens = subparsers.add_parser("api-token", help="API tokens for other systems (create, list, revoke).",
                                   description="API tokens for other systems.")
    tokens.set_defaults(handler=lambda _a: _help(tokens))
    actions = tokens.add_subparsers(dest="token_command", metavar="ACTION", title="actions")
    create = add_command(actions, "create", cmd_token_create,
                         help="Create a token (printed once; only its digest is stored).")
    create.add_argument("--name", required=True, type=fits(100, "--name"), help="the system that will use it, e.g. 'PMS Harbour'")
    create.add_argument("--scope", action="append", required=True, choices=["ingest", "log", "read"],
                        help="repeatable: ingest (batches), log (log/void/decide), read (history, balance)")
    create.add_argument("--as", dest="employee", required=True, metavar="EMPLOYEE_ID", type=fits(64, "--as"),
                        help="whose rights the token carries (an admin for ingest)")
    create.add_argument("--rate-limit", type=int, default=None, metavar="CALLS_PER_MINUTE")
    add_command(actions, "list", cmd_token_list, help="List tokens (never the tokens themselves).")
    revoke = add_command(actions, "revoke", cmd_token_revoke, help="Revoke a token at once.")
    revoke.add_argument("token_id", type=int, metavar="TOKEN_ID")

    sources = subparsers.add_parser("webhook-source", help="Systems that push signed webhooks.",
                                    description="Systems that push signed webhooks to /api/v1/webhooks/NAME.")
    sources.set_defaults(handler=lambda _a: _help(sources))
    source_actions = sources.add_subparsers(dest="source_command", metavar="ACTION", title="actions")
    screate = add_command(source_actions, "create", cmd_source_create, help="Add a source (its secret is printed once).")
    screate.add_argument("name", metavar="NAME", type=fits(64, "the source name"))
    add_command(source_actions, "list", cmd_source_list, help="List sources.")
    srevoke = add_command(source_actions, "revoke", cmd_source_revoke, help="Refuse a source's pushes from now on.")
    srevoke.add_argument("name", metavar="NAME", type=fits(64, "the source name"))

    ingest = add_command(subparsers, "ingest", cmd_ingest,
                         help="Upsert a JSON batch of customers, transactions or incidents (as the API does).")
    ingest.add_argument("kind", choices=["customers", "transactions", "incidents"])
    ingest.add_argument("file", type=Path, metavar="FILE.json", help="a JSON list of rows, or {\"rows\": [...]}")
    ingest.add_argument("--valid-rows-only", action="store_true",
                        help="write the valid rows and list the others (default: all or nothing)")

    void = add_command(subparsers, "void", cmd_void, help="Undo a gesture (a reversing entry).")
    void.add_argument("gesture_id", metavar="GESTURE_ID", type=fits(64, "the gesture id"))
    void.add_argument("--reason", required=True, type=fits(1000, "--reason"))

    decide = add_command(subparsers, "decide", cmd_decide, help="Approve or reject a gesture waiting for approval.")
    decide.add_argument("gesture_id", metavar="GESTURE_ID", type=fits(64, "the gesture id"))
    choice = decide.add_mutually_exclusive_group(required=True)
    choice.add_argument("--approve", action="store_true")
    choice.add_argument("--reject", action="store_true")
    decide.add_argument("--reason", default="", type=fits(1000, "--reason"))

    history = add_command(subparsers, "history", cmd_history, help="A customer's history.")
    history.add_argument("customer_id", metavar="CUSTOMER_ID", type=fits(64, "the customer id"))
    history.add_argument("--format", choices=("table", "json"), default="table")
    history.add_argument("--limit", type=int, default=50)

    email = add_command(subparsers, "set-email", cmd_set_email,
                        help="Record a person's work email (notifications, company sign-in).")
    email.add_argument("employee_id", metavar="EMPLOYEE_ID", type=fits(64, "the employee id"))
    email.add_argument("email", metavar="ADDRESS", type=fits(200, "the address"), help="the address, or '' to clear it")

    worker = add_command(subparsers, "notify-worker", cmd_worker,
                         help="Deliver notifications and keep the tablet's \"what tends to work\" current "
                         "(runs until stopped; `make run` starts it).")
    worker.add_argument("--once", action="store_true", help="one round, then exit")
    add_command(subparsers, "notify-digest", cmd_digest, help="Record this week's digest for every manager now.")


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_REFUSED


def _ts(value: Any) -> str:
    return "" if value is None or str(value) in ("NaT", "None") else f"{value:%Y-%m-%d %H:%M}"


# --- tokens and sources --------------------------------------------------------------------------

def cmd_token_create(args: argparse.Namespace) -> int:
    from empowerment.services import api_tokens

    with opened_db(args) as db:
        new = api_tokens.create_token(db, SYSTEM, args.name, args.scope, args.employee, args.rate_limit)
    print(f"Token {new.token_id} '{new.name}' ({', '.join(new.scopes)}). Keep it now; it is not shown again:")
    print(new.token)
    return EXIT_OK


def cmd_token_list(args: argparse.Namespace) -> int:
    from empowerment.queries.connections import api_tokens

    with opened_db(args) as db:
        frame = api_tokens(db, SYSTEM)
    if frame.empty:
        print("No API tokens yet; create one with `api-token create`.")
        return EXIT_OK
    print_table([{"id": r.token_id, "name": r.name, "starts": f"{r.prefix}…", "scopes": r.scopes,
                  "acts as": r.acts_as, "per minute": r.rate_limit_per_minute, "last used": _ts(r.last_used_at),
                  "revoked": _ts(r.revoked_at)} for r in frame.itertuples()])
    return EXIT_OK


def cmd_token_revoke(args: argparse.Namespace) -> int:
    from empowerment.services import api_tokens

    with opened_db(args) as db:
        api_tokens.revoke_token(db, SYSTEM, args.token_id)
    print(f"Token {args.token_id} revoked; calls with it are refused from now on.")
    return EXIT_OK


def cmd_source_create(args: argparse.Namespace) -> int:
    from empowerment.services import webhooks

    with opened_db(args) as db:
        secret = webhooks.create_source(db, SYSTEM, args.name)
    print(f"Source '{args.name.strip().lower()}' pushes to {settings.current().public_url}/api/v1/webhooks/"
          f"{args.name.strip().lower()}. Its signing secret (not shown again):")
    print(secret)
    return EXIT_OK


def cmd_source_list(args: argparse.Namespace) -> int:
    from empowerment.queries.connections import webhook_sources

    with opened_db(args) as db:
        frame = webhook_sources(db, SYSTEM)
    if frame.empty:
        print("No webhook sources yet; add one with `webhook-source create NAME`.")
        return EXIT_OK
    print_table([{"name": r.name, "created": _ts(r.created_at), "last push": _ts(r.last_received_at),
                  "revoked": _ts(r.revoked_at)} for r in frame.itertuples()])
    return EXIT_OK


def cmd_source_revoke(args: argparse.Namespace) -> int:
    from empowerment.services import webhooks

    with opened_db(args) as db:
        webhooks.revoke_source(db, SYSTEM, args.name)
    print(f"Source '{args.name}' revoked; its pushes are refused from now on.")
    return EXIT_OK


# --- the API's operations ------------------------------------------------------------------------

def cmd_ingest(args: argparse.Namespace) -> int:
    from empowerment.services import ingest

    if not args.file.is_file():
        return fail(f"No file at {args.file}.")
    try:
        data = json.loads(args.file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return fail(f"{args.file} is not JSON: {exc}.")
    rows = data.get("rows") if isinstance(data, dict) else data
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise InvalidInput(f"{args.file} must hold a list of rows (objects), or {{\"rows\": [...]}}.")
    db = open_db(args)
    try:
        result = ingest.upsert_rows(db, SYSTEM, args.kind, rows, valid_rows_only=args.valid_rows_only)
    except ingest.BatchRefused as exc:
        fail(str(exc))
        _print_row_errors(exc.errors)
        return EXIT_REFUSED
    finally:
        db.dispose()
    print(f"{result.rows:,} {args.kind}: {result.inserted:,} added, {result.updated:,} updated, "
          f"{result.unchanged:,} unchanged, {result.rejected:,} refused.")
    for warning in result.warnings:
        print(warning)
    if result.errors:
        _print_row_errors(result.errors)
    return EXIT_OK


def _print_row_errors(errors: list[Any], limit: int = 50) -> None:
    print_table([{"row": e.row, "id": e.id, "field": e.field, "value": e.value, "message": e.message}
                 for e in errors[:limit]], file=sys.stderr)
    if len(errors) > limit:
        print(f"... and {len(errors) - limit:,} more", file=sys.stderr)


def cmd_void(args: argparse.Namespace) -> int:
    from empowerment.services.gestures import void_gesture

    with opened_db(args) as db:
        remaining = void_gesture(db, SYSTEM, args.gesture_id, args.reason)
    print(f"{args.gesture_id} undone; the budget has {format_cents(remaining)} left.")
    return EXIT_OK


def cmd_decide(args: argparse.Namespace) -> int:
    from empowerment.services.gestures import decide_gesture

    with opened_db(args) as db:
        decide_gesture(db, SYSTEM, args.gesture_id, args.approve, args.reason)
    print(f"{args.gesture_id} {'approved: the held money is now spent' if args.approve else 'rejected: the held money is back'}.")
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    from empowerment.queries.customers import customer_history

    with opened_db(args) as db:
        found = customer_history(db, SYSTEM, args.customer_id, limit=max(1, min(args.limit, 500)))
    card = found.customer
    if args.format == "json":
        print_json({"customer": card.__dict__, "visits": found.visits,
                    "lifetime_spend_cents": found.lifetime_spend_cents, "last_visit_at": found.last_visit_at,
                    "open_incidents": found.open_incidents,
                    "events": json.loads(found.events.to_json(orient="records", date_format="iso"))})
        return EXIT_OK
    print(f"{card.label}: {found.visits:,} visits, {format_cents(found.lifetime_spend_cents)} spent, "
          f"last visit {_ts(found.last_visit_at) or 'never'}, {found.open_incidents} open incidents.")
    if not found.events.empty:
        print_table([{"when": _ts(r.incident_at), "what went wrong": r.category, "gesture": r.gesture or "",
                      "cost": format_cents(int(r.cost_cents)) if r.cost_cents == r.cost_cents and r.cost_cents is not None else "",
                      "by": r.by or "", "note": r.note or ""} for r in found.events.itertuples()])
    return EXIT_OK


def cmd_set_email(args: argparse.Namespace) -> int:
    from empowerment.services.notifications.preferences import set_email

    with opened_db(args) as db:
        set_email(db, SYSTEM, args.employee_id, args.email or None)
    print(f"Email of {args.employee_id} {'set' if args.email else 'cleared'}.")
    return EXIT_OK


# --- the notification worker ---------------------------------------------------------------------

EVIDENCE_CHECK_SECONDS = 60  # how often the worker asks whether the stored evidence is due


def _in_background(job: dict[str, Any], name: str, due: Callable[[], bool], work: Callable[[], str],
                   failed: str) -> None:
    """Between notification rounds, at most once a minute: when `due()`, run `work` in a thread of
    this process at low priority (the deliveries go on meanwhile; the app process never runs it)
    and print what it says; a failure is said (`failed`, then why) and tried again later."""
    import threading

    from empowerment.reports import evidence

    running = job.get("thread")
    if running is not None and running.is_alive() or time.monotonic() < job.get("next", 0.0):
        return
    job["next"] = time.monotonic() + EVIDENCE_CHECK_SECONDS
    if not due():
        return

    def run() -> None:
        evidence.yield_to_the_app()
        started = time.perf_counter()
        try:
            said = work()
        except Exception as exc:  # noqa: BLE001 - a help, not the worker's job: say so, try again
            print(f"{failed} ({type(exc).__name__}: {' '.join(str(exc).split())[:300]}); trying again later.",
                  file=sys.stderr, flush=True)
            return
        print(f"{said} in {time.perf_counter() - started:.1f} s.", flush=True)

    job["thread"] = threading.Thread(target=run, daemon=True, name=name)
    job["thread"].start()


def _evidence_round(db: Any, job: dict[str, Any]) -> None:
    """The tablet's stored evidence, when due (`reports.evidence.due`: none yet, or over an hour
    old with new data)."""
    from empowerment.reports import evidence

    _in_background(job, "evidence", lambda: evidence.due(db),
                   lambda: f"What tends to work refreshed: {evidence.refresh(db):,} rows",
                   "What tends to work could not be refreshed")


def _payoff_round(db: Any, job: dict[str, Any], seconds: float | None = None) -> None:
    """The Payoff page's opening view, then the figures read in the last day, when due
    (`reports.computed.due`: none yet, or worked out on other data over five minutes ago), so a
    leader's page or report on any replica reads them. No new figure is started after `seconds`
    (`computed.ROUND_SECONDS`), so the notifications are not kept waiting."""
    from empowerment.reports import computed

    budget = computed.ROUND_SECONDS if seconds is None else seconds
    _in_background(job, "payoff", lambda: computed.due(db), lambda: computed.refresh(db, seconds=budget),
                   "The payoff could not be worked out ahead")


def cmd_worker(args: argparse.Namespace) -> int:
    from empowerment.reports import weekly_digest
    from empowerment.services.notifications import delivery

    config = settings.current()
    db = open_db(args)
    stopping = {"now": False}
    evidence_job: dict[str, Any] = {}
    payoff_job: dict[str, Any] = {}

    def stop(_signum: int, _frame: Any) -> None:
        stopping["now"] = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if not args.once:
        print(f"Notification worker: every {config.notify_poll_seconds} s; email "
              f"{'via ' + config.smtp_host if config.smtp_host else 'off (EMPOWERMENT_SMTP_HOST)'}.", flush=True)
    try:
        while True:
            now = utc_now()
            try:
                if weekly_digest.due(local_time(now), config.digest_at):  # the business's wall clock
                    weekly_digest.send_digests(db, now)
                handled = delivery.run_once(db, now)
                while handled >= delivery.BATCH and not stopping["now"]:  # a backlog: keep going
                    handled = delivery.deliver_due(db)
                if not args.once:  # `--once` is one notification round (the command does the evidence)
                    _evidence_round(db, evidence_job)
                    _payoff_round(db, payoff_job)
            except Exception as exc:  # noqa: BLE001 - e.g. the database restarting: say so, try again
                if args.once:
                    raise
                print(f"{now:%Y-%m-%d %H:%M:%S} notification round failed ({type(exc).__name__}: "
                      f"{' '.join(str(exc).split())[:300]}); trying again.", file=sys.stderr, flush=True)
            if args.once or stopping["now"]:
                break
            for _ in range(config.notify_poll_seconds * 10):
                if stopping["now"]:
                    break
                time.sleep(0.1)
            if stopping["now"]:
                break
    finally:
        db.dispose()
    return EXIT_OK


def cmd_digest(args: argparse.Namespace) -> int:
    from empowerment.reports import weekly_digest

    with opened_db(args) as db:
        count = weekly_digest.send_digests(db)
    print(f"This week's digest recorded for {count} manager{'s' if count != 1 else ''}; the worker sends it.")
    return EXIT_OK
