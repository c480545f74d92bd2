"""`python -m empowerment report`: the joint HR / CX report as a file.

    python -m empowerment report --period 2026-Q3 --format pdf --out q3.pdf
    python -m empowerment report --from 2026-07-01 --to 2026-08-15 --location Harbour \\
        --format xlsx --out summer.xlsx
    python -m empowerment report --period 2026 --format csv --table teams --out teams.csv

Runs as the system actor ("cli"). `--include-identities` puts real customer names beside the
pseudonyms and is recorded in the audit log.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from empowerment.actor import Actor
from empowerment.cli.common import add_command, fail, fits, known_location, opened_db
from empowerment.clock import business_today
from empowerment.errors import InvalidInput
from empowerment.periods import resolve_window
from empowerment.reports.assemble import ReportRequest, build_joint_report
from empowerment.reports.model import JointReport

FORMATS = ("pdf", "xlsx", "html", "csv")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = add_command(
        subparsers, "report", handler,
        help="Write the joint HR / CX report (PDF, XLSX, HTML or CSV).",
        description="The joint report: how empowered people are, and what it did for customers.",
    )
    parser.add_argument("--period", help="2026-Q3, 2026-07 or 2026 (default: the current quarter)")
    parser.add_argument("--from", dest="date_from", metavar="YYYY-MM-DD", help="first day (instead of --period)")
    parser.add_argument("--to", dest="date_to", metavar="YYYY-MM-DD", help="last day, inclusive")
    parser.add_argument("--location", help="one location (code or name); default: all",
                        type=fits(200, "--location"))
    parser.add_argument("--format", choices=FORMATS, default=None,
                        help="file format (default: from the --out extension)")
    parser.add_argument("--table", default="rows",
                        help="for --format csv: a table key (staff, budget_bands, turnaround, "
                        "outcome_groups, payoff, teams, stories) or rows (default)")
    parser.add_argument("--out", required=True, metavar="FILE", help="where to write the report ('-' for stdout)")
    parser.add_argument("--include-identities", action="store_true",
                        help="show real customer names (recorded in the audit log)")


def _format(args: argparse.Namespace) -> str | None:
    if args.format:
        return str(args.format)
    suffix = Path(args.out).suffix.lower().lstrip(".")
    return suffix if suffix in FORMATS else None


def render(report: JointReport, fmt: str, table: str = "rows") -> bytes:
    if fmt == "pdf":
        from empowerment.reports.render_pdf import render_pdf

        return render_pdf(report)
    if fmt == "xlsx":
        from empowerment.reports.render_xlsx import render_xlsx

        return render_xlsx(report)
    if fmt == "html":
        from empowerment.reports.render_html import render_html

        return render_html(report)
    from empowerment.reports.render_csv import render_csv

    return render_csv(report, table)


def handler(args: argparse.Namespace) -> int:
    fmt = _format(args)
    if fmt is None:
        return fail(f"Say which format to write with --format ({', '.join(FORMATS)}).")
    if fmt == "csv" and args.table != "rows":
        from empowerment.reports.model import TABLE_KEYS

        if args.table not in TABLE_KEYS:
            return fail(f"No table '{args.table}'; use one of: rows, {', '.join(TABLE_KEYS)}.")
    window = resolve_window(args.period, args.date_from, args.date_to)  # a bad period: one sentence
    if window.start > business_today():
        raise InvalidInput(
            f"{window.label} starts on {window.start:%d %b %Y}, after today: there is nothing to "
            "report yet. Choose a period that has begun."
        )
    started = time.perf_counter()
    with opened_db(args) as db:
        if args.location:
            known_location(db, args.location)
        report = build_joint_report(
            db, Actor.system("cli"), ReportRequest(period=args.period, date_from=args.date_from, date_to=args.date_to,
            location=args.location, include_identities=args.include_identities))
        data = render(report, fmt, args.table)
    if args.out == "-":
        sys.stdout.buffer.write(data)
        return 0
    Path(args.out).write_bytes(data)
    print(f"Wrote {args.out} ({len(data):,} bytes, {fmt}) for {report.scope_label} "
          f"in {time.perf_counter() - started:.1f} s.", file=sys.stderr)
    return 0
