"""Proactive care on the command line (issue 13):

    python -m empowerment care-list [--location L] [--format json] [--as-of T]
    python -m empowerment follow-up --employee E1 --incident I-1 --kind called [--note ...]
    python -m empowerment friction [--location L] [--weeks 26] [--format json]
    python -m empowerment vocabulary export|import FILE | map KIND WORD=CODE...
    python -m empowerment value-tags export|import [FILE]
    python -m empowerment follow-ups export|import [FILE]
    python -m empowerment evidence-refresh [--if-due]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from empowerment.actor import Actor
from empowerment.cli.common import add_command, opened_db, print_json, print_table
from empowerment.errors import InvalidInput
from empowerment.models.vocabulary import KINDS
from empowerment.money import format_cents

SYSTEM = Actor.system("cli")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    care = add_command(subparsers, "care-list", care_list,
                       help="Customers at risk, ranked by value at risk, with the reason in words.")
    care.add_argument("--location", help="the location's name or id (default: every location)")
    care.add_argument("--as-of", dest="as_of", metavar="T", help="the list as it was at T (default: now)")
    care.add_argument("--format", choices=("table", "json"), default="table")
    care.add_argument("--limit", type=int, default=50, help="at most this many entries (default 50)")

    refresh = add_command(subparsers, "evidence-refresh", evidence_refresh,
                          help="Work out the tablet's \"what tends to work\" again and store it.",
                          description="Compute the payoff's adjusted breakdown per incident category and gesture "
                          "type from the data as it is now and store it for the tablet (the notification worker "
                          "does this hourly; the tablet only reads the stored rows).")
    refresh.add_argument("--if-due", action="store_true",
                         help="only when nothing is stored yet, or it is over an hour old and the data changed")

    follow = add_command(subparsers, "follow-up", follow_up, help="Record a follow-up after an incident.")
    follow.add_argument("--employee", required=True, help="who followed up (employee id)")
    follow.add_argument("--incident", required=True, help="the incident id")
    follow.add_argument("--kind", required=True, help="called, checked in or wrote")
    follow.add_argument("--note")

    friction = add_command(subparsers, "friction", friction_cmd,
                           help="Incidents by touchpoint and category per week, and the alerts that fired.")
    friction.add_argument("--location")
    friction.add_argument("--weeks", type=int, default=26)
    friction.add_argument("--format", choices=("table", "json"), default="table")

    vocab = add_command(subparsers, "vocabulary", vocabulary_cmd,
                        help="Export, import or map the organisation's words (gesture types, categories, values).")
    vocab.add_argument("action", choices=("export", "import", "map"))
    vocab.add_argument("items", nargs="*", help="export: [FILE]; import: FILE; map: KIND WORD=CODE ...")

    for name, what in (("value-tags", "the values gestures were tagged with"), ("follow-ups", "follow-ups")):
        io_parser = add_command(subparsers, name, io_cmd, help=f"Export or import {what} as CSV.")
        io_parser.add_argument("action", choices=("export", "import"))
        io_parser.add_argument("file", nargs="?", help="import: the CSV; export: where to write (default stdout)")
        io_parser.set_defaults(kind=name)


def care_list(args: argparse.Namespace) -> int:
    from empowerment.queries.care import care_list as read_list

    with opened_db(args) as db:
        listed = read_list(db, SYSTEM, args.location, as_of=args.as_of)
    entries = listed.entries.head(args.limit)
    if args.format == "json":
        print_json({"as_of": listed.as_of.isoformat(), "location": listed.location, "rule": listed.explanation,
                    "estimate": listed.model, "entries": [
                        {"rank": int(r.rank), "customer_id": r.customer_code, "customer": r.customer,
                         "incident_id": r.incident_code, "reason": r.reason,
                         "chance_not_returning": round(float(r.chance_not_returning), 3),
                         "typical_revenue": format_cents(int(r.typical_revenue_cents)),
                         "value_at_risk": format_cents(int(r.value_at_risk_cents))}
                        for r in entries.itertuples()]})
        return 0
    where = listed.location or "every location"
    if entries.empty:
        print(f"Nobody is at risk at {where} on {listed.as_of:%Y-%m-%d}.")
        return 0
    print(f"Care list for {where}, {listed.as_of:%Y-%m-%d %H:%M} ({len(listed.entries)} customers).")
    print_table([{"#": int(r.rank), "customer": f"{r.customer} ({r.customer_code})",
                  "value at risk": (format_cents(int(r.value_at_risk_cents)) if int(r.typical_revenue_cents) > 0
                                    else "no purchases on record"),
                  "chance not back": f"{r.chance_not_returning:.0%}", "why": r.reason}
                 for r in entries.itertuples()], max_width=90)
    print(f"\nRule: {listed.explanation}")
    return 0


def evidence_refresh(args: argparse.Namespace) -> int:
    import time

    from empowerment.reports import evidence

    with opened_db(args) as db:
        if args.if_due and not evidence.due(db):
            print("The stored evidence is recent; nothing to do.")
            return 0
        evidence.yield_to_the_app()
        started = time.perf_counter()
        rows = evidence.refresh(db, SYSTEM)
    print(f"What tends to work: {rows:,} row{'' if rows == 1 else 's'} (category and gesture type) stored in "
          f"{time.perf_counter() - started:.1f} s.")
    return 0


def follow_up(args: argparse.Namespace) -> int:
    from empowerment.services.care import FollowUpRequest, record_follow_up

    with opened_db(args) as db:
        code = record_follow_up(db, SYSTEM, FollowUpRequest(args.employee, args.incident, args.kind, args.note,
                                                            source="cli"))
    print(f"Follow-up {code} recorded.")
    return 0


def friction_cmd(args: argparse.Namespace) -> int:
    from empowerment.queries.friction import friction_map

    with opened_db(args) as db:
        result = friction_map(db, SYSTEM, args.location, weeks=args.weeks)
    alerts = result.alerts
    if args.format == "json":
        print_json({"rule": result.rule, "alerts": alerts.to_dict(orient="records"),
                    "counts": result.counts.to_dict(orient="records")})
        return 0
    print(f"Rule: {result.rule}")
    if alerts.empty:
        print("No category is running above its baseline.")
    else:
        print_table(alerts.to_dict(orient="records"))
    return 0


def _write(text: str, target: str | None) -> None:
    if target:
        Path(target).write_text(text, encoding="utf-8")
        print(f"Wrote {target}.", file=sys.stderr)
    else:
        sys.stdout.write(text)


def vocabulary_cmd(args: argparse.Namespace) -> int:
    from empowerment.services import care_io, vocabulary

    with opened_db(args) as db:
        if args.action == "export":
            _write(care_io.export_vocabulary(db, SYSTEM), args.items[0] if args.items else None)
        elif args.action == "import":
            if len(args.items) != 1:
                raise InvalidInput("Give the CSV file to import.")
            count = care_io.import_vocabulary(db, SYSTEM, Path(args.items[0]).read_text(encoding="utf-8"))
            print(f"Saved {count} terms.")
        else:
            if len(args.items) < 2 or args.items[0] not in KINDS:
                raise InvalidInput(f"Use: vocabulary map KIND WORD=CODE ... (KIND: {', '.join(KINDS)}).")
            pairs = [item.split("=", 1) for item in args.items[1:]]
            if any(len(p) != 2 for p in pairs):
                raise InvalidInput("Write each mapping as WORD=CODE, for example \"Comp'd meal=comp\".")
            added = vocabulary.map_values(db, SYSTEM, args.items[0], {w: c for w, c in pairs})
            print(f"Mapped {len(added)} word{'s' if len(added) != 1 else ''}.")
    return 0


def io_cmd(args: argparse.Namespace) -> int:
    from empowerment.services import care_io

    with opened_db(args) as db:
        if args.action == "export":
            export = care_io.export_value_tags if args.kind == "value-tags" else care_io.export_follow_ups
            _write(export(db, SYSTEM), args.file)
        else:
            if not args.file:
                raise InvalidInput("Give the CSV file to import.")
            text = Path(args.file).read_text(encoding="utf-8")
            load = care_io.import_value_tags if args.kind == "value-tags" else care_io.import_follow_ups
            print(f"Imported {load(db, SYSTEM, text)} new {args.kind.replace('-', ' ')}.")
    return 0
