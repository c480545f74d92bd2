"""Core commands: init, outcomes-rebuild, demo, import, export, policy set, log, balance."""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path
from typing import Any

from empowerment import settings
from empowerment.actor import Actor
from empowerment.cli.common import (
    EXIT_OK,
    EXIT_REFUSED,
    add_command,
    confirmed,
    database_parent,
    fail,
    fits,
    open_db,
    opened_db,
    print_json,
    print_table,
)
from empowerment.csvformat import DATE_FORMATS, EXPORT_KINDS, IMPORT_KINDS, FileFormat
from empowerment.db import Database, upgrade
from empowerment.errors import ImportFailed, InvalidInput
from empowerment.models import (
    BudgetPolicy,
    Employee,
    Gesture,
    GestureStatus,
    Incident,
    Period,
    Role,
    Rollover,
)
from empowerment.money import format_cents, format_money
from empowerment.services import organisation, outcomes

MAX_PROBLEM_LINES = 50
SEPARATORS = {"comma": ",", "semicolon": ";", "tab": "\t"}
DECIMAL_MARK_WORDS = {"dot": ".", "comma": ","}
CODE = Employee.__table__.c.code  # every id (code) column holds as many characters as this one


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    add_command(
        subparsers, "init", cmd_init,
        help="Create or upgrade the database schema (Alembic upgrade head).",
    )
    add_command(
        subparsers, "outcomes-rebuild", cmd_outcomes_rebuild,
        help="Link every incident to the purchases after it again (the outcomes table).",
        description="Compute the outcomes table from scratch: each incident's first return after the "
        "recovery window, its revenue in each follow-up window and the year before. Writers keep it "
        "current; run this after changing the recovery window or restoring a backup.",
    )

    demo = add_command(
        subparsers, "demo", cmd_demo,
        help="Fill an empty database with a realistic demo organisation.",
        description="Create the schema if needed and fill an EMPTY database with demo data: "
        "3 hotels, ~60 employees, ~5,000 customers, two years of visits, incidents and "
        "recovery gestures with a known true effect. Prints the demo sign-ins at the end.",
    )
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.add_argument(
        "--scale", type=float, default=1.0,
        help="size relative to the standard demo (default 1.0: about 5,000 customers)",
    )
    when = demo.add_mutually_exclusive_group()
    when.add_argument(
        "--force", action="store_true",
        help="ERASE every table of a non-empty database first, then fill it",
    )
    demo.add_argument("--yes", action="store_true",
                      help="with --force: erase without asking (for scripts)")
    when.add_argument(
        "--if-empty", action="store_true",
        help="fill only an empty database and only when EMPOWERMENT_DEMO_ON_EMPTY=1 (the "
        "default); otherwise say so and exit 0 (used by `make run`)",
    )

    kinds = ", ".join(IMPORT_KINDS)  # the ledger is export-only: import_csv explains why
    imp = add_command(
        subparsers, "import", cmd_import,
        help="Import a CSV file (all rows or none).",
        description=f"Import a CSV file of KIND ({kinds}). The file is checked whole first; "
        "one bad row refuses the import and every problem is listed.",
    )
    imp.add_argument("kind", choices=EXPORT_KINDS, metavar="KIND", help=kinds)
    imp.add_argument("file", type=Path, metavar="FILE.csv")
    imp.add_argument("--dry-run", action="store_true", help="check only; write nothing")
    imp.add_argument(
        "--map", action="append", default=[], metavar="CANONICAL=HEADER",
        help="read column CANONICAL from the file's column HEADER (repeatable)",
    )
    imp.add_argument("--separator", choices=tuple(SEPARATORS), default=None,
                     help="what separates the cells (default: detected from the header line)")
    imp.add_argument("--decimal-mark", choices=tuple(DECIMAL_MARK_WORDS), default=None,
                     help="the decimal mark of amounts: dot (12.50) or comma (12,50); default: "
                     "detected from the amounts")
    imp.add_argument("--date-format", choices=tuple(DATE_FORMATS), default="iso",
                     help="how dates are written: " + "; ".join(
                         f"{key} = {label}" for key, label in DATE_FORMATS.items()))
    imp.add_argument("--valid-rows-only", action="store_true",
                     help="import the rows without a problem and write the others, with the "
                     "reasons, to the rejects file (default: all rows or none)")
    imp.add_argument("--rejects", type=Path, metavar="FILE",
                     help="with --valid-rows-only: where the rejected rows go (default: "
                     "FILE-rejects.csv beside the file)")

    exp = add_command(
        subparsers, "export", cmd_export,
        help="Export a CSV file.",
        description=f"Export KIND ({', '.join(EXPORT_KINDS)}) as CSV, to stdout or --out.",
    )
    exp.add_argument("kind", choices=EXPORT_KINDS, metavar="KIND", help=", ".join(EXPORT_KINDS))
    exp.add_argument("--out", metavar="FILE", help="write here instead of stdout; a directory "
                     "(an existing one, or a path ending in /) gets KIND.csv inside it")

    policy = subparsers.add_parser(
        "policy", help="Budget policies.", description="Budget policies.",
        parents=[database_parent()],
    )
    policy.set_defaults(handler=lambda _args: _print_help(policy))
    policy_sub = policy.add_subparsers(dest="policy_command", metavar="ACTION", title="actions")
    pset = add_command(
        policy_sub, "set", cmd_policy_set,
        help="Create a budget policy or a new version of one.",
        description="Create a budget policy, or a new version of an existing one (it applies "
        "from the next period unless --immediate). Without --team/--role/--employee the "
        "policy is the organisation's default.",
    )
    pset.add_argument("name", metavar="NAME", type=fits(BudgetPolicy.__table__.c.name, "the policy name"))
    pset.add_argument("--allowance", required=True, metavar="AMOUNT",
                      help="in the currency of whom it is for (a team's or person's location's, else the "
                      "installation's): e.g. 500 or 500.00")
    pset.add_argument("--period", required=True, choices=[p.value for p in Period])
    scope = pset.add_mutually_exclusive_group()
    scope.add_argument("--team", metavar="TEAM_ID", type=fits(CODE, "--team"))
    scope.add_argument("--role", choices=[r.value for r in Role])
    scope.add_argument("--employee", metavar="EMPLOYEE_ID", type=fits(CODE, "--employee"))
    pset.add_argument(
        "--customer-daily-cap", metavar="AMOUNT",
        help="most one person may spend on one customer per day (default: the standard 2,000.00; "
        "200,000 in a currency without decimals)",
    )
    pset.add_argument("--review-above", metavar="AMOUNT", help="gestures above this get a review")
    pset.add_argument(
        "--approval-above", metavar="AMOUNT", help="gestures above this wait for approval"
    )
    pset.add_argument("--rollover", choices=[r.value for r in Rollover], default="none")
    pset.add_argument(
        "--immediate", action="store_true", help="apply a changed policy from today"
    )

    log = add_command(
        subparsers, "log", cmd_log,
        help="Log a recovery gesture.",
        description="Log a recovery gesture against the employee's budget. A repeated --key "
        "logs once.",
    )
    log.add_argument("--employee", required=True, metavar="EMPLOYEE_ID", type=fits(CODE, "--employee"))
    log.add_argument("--customer", required=True, metavar="CUSTOMER_ID", type=fits(CODE, "--customer"))
    log.add_argument("--type", required=True, metavar="TYPE", dest="gesture_type",
                     help="refund, comp, upgrade, gift, voucher, personal_note, time or other")
    log.add_argument("--amount", required=True, metavar="AMOUNT",
                     help="in the currency of the employee's location, to its minor unit: e.g. 25.50 "
                     "(dollars, euros), 1250 (yen), 12.345 (dinars)",
                     type=fits(32, "--amount"))
    what = log.add_mutually_exclusive_group()
    what.add_argument("--incident", metavar="INCIDENT_ID", help="an existing incident",
                      type=fits(Incident.__table__.c.code, "--incident"))
    what.add_argument("--category", metavar="CATEGORY", help="what went wrong (new incident)",
                      type=fits(Incident.__table__.c.category, "--category"))
    log.add_argument("--note", metavar="TEXT", type=fits(2000, "--note", strip=False))
    log.add_argument("--minutes", metavar="MINUTES", type=int, dest="staff_minutes",
                     help="staff time only: the minutes it took (default 15)")
    log.add_argument("--key", metavar="KEY", help="idempotency key: a retry logs once",
                     type=fits(Gesture.__table__.c.idempotency_key, "--key"))

    balance = add_command(
        subparsers, "balance", cmd_balance, help="Show an employee's budget for this period."
    )
    balance.add_argument("--employee", required=True, metavar="EMPLOYEE_ID", type=fits(CODE, "--employee"))
    balance.add_argument("--format", choices=("table", "json"), default="table")


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_REFUSED


# --- init / demo -------------------------------------------------------------------------


def cmd_init(args: argparse.Namespace) -> int:
    with opened_db(args, require_schema=False) as db:
        upgrade(db)
        sealed_rows = organisation.ensure_audit_seal(db)
        if sealed_rows:  # said aloud: a seal missing from a used log may also mean it was removed
            print(f"The audit log had no seal; sealed it at its {sealed_rows:,} rows.")
        print(f"Schema is up to date ({db.engine.url.render_as_string(hide_password=True)}).")
        if not outcomes.is_built(db):
            rows = outcomes.rebuild(db, Actor.system("cli"))
            print(f"Outcomes built: {rows:,} incident{'' if rows == 1 else 's'} linked to the purchases after them.")
        _evidence_once(db)
    return EXIT_OK


def _evidence_once(db: Database, again: bool = False) -> None:
    """The tablet's "what tends to work" stored once, when none is yet (or `again`, after the demo
    filled the database); the notification worker keeps it current afterwards. A failure is said,
    never fatal to `init` or the demo."""
    from empowerment.queries.care import evidence_state
    from empowerment.reports import evidence

    if not again and evidence_state(db) is not None:
        return
    try:
        rows = evidence.refresh(db, Actor.system("cli"))
    except Exception as exc:  # noqa: BLE001 - a help for the tablet; the worker tries again
        print(f"What tends to work was not worked out yet ({type(exc).__name__}); the notification worker "
              "will try again.", file=sys.stderr)
        return
    print(f"What tends to work: {rows:,} row{'' if rows == 1 else 's'} stored for the tablet.")


def cmd_outcomes_rebuild(args: argparse.Namespace) -> int:
    with opened_db(args) as db:
        started = time.perf_counter()
        rows = outcomes.rebuild(db, Actor.system("cli"))
    print(f"Outcomes rebuilt: {rows:,} incident{'' if rows == 1 else 's'} linked to the purchases after them "
          f"in {time.perf_counter() - started:.1f} s.")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from empowerment import demo

    if not 0.01 <= args.scale <= 20:
        return fail("--scale must be between 0.01 and 20.")
    if args.if_empty and not settings.demo_on_empty():
        print("EMPOWERMENT_DEMO_ON_EMPTY is not 1; no demo data added.")
        return EXIT_OK
    with opened_db(args, require_schema=False) as db:
        if not demo.database_is_empty(db):
            if args.if_empty:
                print("The database already has data; no demo data added.")
                return EXIT_OK
            if not args.force:
                return fail(demo.NOT_EMPTY_MESSAGE + " Use --force to erase it first.")
            shown = db.engine.url.render_as_string(hide_password=True)
            if not confirmed(args, f"--force ERASES every table of {shown}, the ledger and the audit "
                                   "log included (take a backup first: python -m empowerment backup FILE)",
                             word="erase"):
                return EXIT_REFUSED
            print("Erasing every table first (--force).", flush=True)
            demo.erase_database(db)
        upgrade(db)
        started = time.perf_counter()

        def progress(message: str) -> None:
            print(f"[{time.perf_counter() - started:5.1f}s] {message}", flush=True)

        summary = demo.generate_demo(db, seed=args.seed, progress=progress, scale=args.scale)
        progress("Working out what tends to work for the tablet")
        _evidence_once(db, again=True)
        print(summary.as_text())
    return EXIT_OK


# --- import / export ---------------------------------------------------------------------


def _parse_mapping(pairs: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        canonical, sep, header = pair.partition("=")
        if not sep or not canonical.strip() or not header.strip():
            raise InvalidInput(f"--map '{pair}' should look like canonical=Header In File.")
        mapping[canonical.strip()] = header.strip()
    return mapping


def _optional_module(*names: str) -> Any:
    for name in names:
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return None


def print_problems(problems: list[dict[str, object]], limit: int = MAX_PROBLEM_LINES) -> None:
    """The refused rows as a table on stderr, at most `limit` lines, then '... and N more'."""
    rows = [
        {key: problem.get(key) for key in ("line", "column", "value", "reason")}
        for problem in problems[:limit]
    ]
    print_table(rows, ("line", "column", "value", "reason"), file=sys.stderr)
    if len(problems) > limit:
        print(f"... and {len(problems) - limit:,} more", file=sys.stderr)


def cmd_import(args: argparse.Namespace) -> int:
    importing = _optional_module("empowerment.services.importing")
    if importing is None:
        return fail("CSV import is not available in this version.")
    if not args.file.is_file():
        return fail(f"No file at {args.file}.")
    if args.rejects is not None and not args.valid_rows_only:
        return fail("--rejects goes with --valid-rows-only (without it, an import is all rows or none).")
    mapping = _parse_mapping(args.map)
    file_format = FileFormat(
        delimiter=SEPARATORS.get(args.separator or ""),
        decimal_mark=DECIMAL_MARK_WORDS.get(args.decimal_mark or ""),
        date_format=args.date_format,
    )
    db = open_db(args)

    def progress(fraction: float, message: str) -> None:
        print(f"[{fraction:4.0%}] {message}", file=sys.stderr, flush=True)

    try:
        summary = importing.import_csv(
            db, args.kind, args.file, actor=Actor.system("cli"), dry_run=args.dry_run,
            column_mapping=mapping or None, progress=progress, file_format=file_format,
            valid_rows_only=args.valid_rows_only,
        )
    except ImportFailed as exc:
        fail(str(exc))
        print_problems(exc.problems)
        return EXIT_REFUSED
    finally:
        db.dispose()
    print(summary.as_text())
    if summary.rejected and summary.rejects is not None:
        target = args.rejects or args.file.with_name(f"{args.file.stem}-rejects.csv")
        target.write_bytes(importing.rejects_csv(args.kind, summary.rejects))
        print(f"The {summary.rejected:,} rejected row{'s' if summary.rejected != 1 else ''}, with the "
              f"reasons, are in {target}.")
        print_problems(summary.problems)
    return EXIT_OK


def export_target(out: str, kind: str) -> Path:
    """`--out`: a file, or a directory (existing, or named with a trailing /) that gets KIND.csv."""
    path = Path(out)
    if out.endswith(("/", "\\")) or path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
        return path / f"{kind}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def cmd_export(args: argparse.Namespace) -> int:
    module = _optional_module("empowerment.services.exporting", "empowerment.services.importing")
    export_csv = getattr(module, "export_csv", None)
    if export_csv is None:
        return fail("CSV export is not available in this version.")
    with opened_db(args) as db:
        if args.out is None:
            rows = export_csv(db, args.kind, sys.stdout, actor=Actor.system("cli"))
            sys.stdout.flush()
            print(f"Exported {rows:,} rows of {args.kind}.", file=sys.stderr)
        else:
            target = export_target(args.out, args.kind)
            rows = export_csv(db, args.kind, target, actor=Actor.system("cli"))
            print(f"Exported {rows:,} rows of {args.kind} to {target}.")
    return EXIT_OK


# --- policy / log / balance --------------------------------------------------------------


def cmd_policy_set(args: argparse.Namespace) -> int:
    from empowerment.models import Employee, Team
    from empowerment.models.lookups import policy_money
    from empowerment.services.policies import DEFAULT_CUSTOMER_DAILY_CAP_CENTS, PolicyRequest, set_policy

    with opened_db(args) as db:
        policy = set_policy(db, Actor.system("cli"), PolicyRequest(  # amounts read in the policy's currency
            name=args.name, allowance_cents=args.allowance, period=Period(args.period), team_code=args.team,
            role=Role(args.role) if args.role else None, employee_code=args.employee,
            customer_daily_cap_cents=args.customer_daily_cap or DEFAULT_CUSTOMER_DAILY_CAP_CENTS,
            review_above_cents=args.review_above, approval_above_cents=args.approval_above,
            rollover=Rollover(args.rollover), immediate=args.immediate,
        ))
        with db.read() as session:
            here = policy_money(session, session.get(Team, policy.team_id) if policy.team_id else None,
                                session.get(Employee, policy.employee_id) if policy.employee_id else None)

    def money(cents: int) -> str:
        return format_money(cents, here.currency, here.locale)

    allowance, cap = policy.allowance_cents, policy.customer_daily_cap_cents
    review, approval = policy.review_above_cents, policy.approval_above_cents
    scope = (
        f"team {args.team}" if args.team else f"role {args.role}" if args.role
        else f"employee {args.employee}" if args.employee else "everyone (default)"
    )
    extras = [f"customer daily cap {money(cap)}"]
    if review is not None:
        extras.append(f"review above {money(review)}")
    if approval is not None:
        extras.append(f"approval above {money(approval)}")
    print(
        f"Policy '{policy.name}' saved: {money(allowance)} per {args.period} for {scope}, "
        f"{', '.join(extras)}, rollover {args.rollover}; effective from "
        f"{policy.effective_from:%d %b %Y}."
    )
    return EXIT_OK


def cmd_log(args: argparse.Namespace) -> int:
    from empowerment.services.gestures import LogRequest, log_gesture

    request = LogRequest(
        employee_code=args.employee,
        customer_code=args.customer,
        gesture_type=args.gesture_type,
        amount=args.amount,
        incident_code=args.incident,
        category=args.category,
        note=args.note,
        idempotency_key=args.key,
        source="cli",
        staff_minutes=args.staff_minutes,
    )
    with opened_db(args) as db:
        result = log_gesture(db, Actor.system("cli"), request)
    if result.already_logged:
        print(f"{result.gesture_code}: already logged with this key; nothing was added.")
        return EXIT_OK
    print(f"{result.gesture_code} (incident {result.incident_code}): {result.message}")
    if result.status == GestureStatus.PENDING_APPROVAL:
        print("It appears in the manager's approval queue.")
    return EXIT_OK


def cmd_balance(args: argparse.Namespace) -> int:
    from empowerment.queries.budgets import budget_status

    with opened_db(args) as db:
        status = budget_status(db, Actor.system("cli"), args.employee)
    if args.format == "json":
        print_json(status.as_dict())
        return EXIT_OK

    def money(cents: int | None) -> str:
        return format_cents(cents) if cents is not None else "none"

    rows = [
        ("Employee", f"{status.employee_name} ({status.employee_code})"),
        ("Policy", status.policy_name),
        ("Period", f"{status.period_label} (until {status.period_end:%d %b %Y}, exclusive)"),
        ("Allocated", money(status.allocated_cents)),
        ("Spent", f"{money(status.spent_cents)} ({status.used_share:.0%})"),
        ("Held for approval", money(status.held_cents)),
        ("Remaining", money(status.remaining_cents)),
        ("Per customer per day", money(status.customer_daily_cap_cents)),
        ("Review above", money(status.review_above_cents)),
        ("Approval above", money(status.approval_above_cents)),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label.ljust(width)}  {value}")
    return EXIT_OK
