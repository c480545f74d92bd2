"""Shared pieces for command modules.

A command module (`empowerment/cli/<name>.py`) exposes `register(subparsers)` and adds its
commands with `add_command`, which gives every subcommand `--database-url` and sets its handler:

    from empowerment.cli.common import add_command, opened_db, print_json, fail

    def register(subparsers):
        parser = add_command(subparsers, "create-user", handler, help="Add a person who signs in.")
        parser.add_argument("--username", required=True)

    def handler(args) -> int:
        with opened_db(args) as db:  # disposed however the command ends
            ...
        return 0

Handlers return the exit code. Raise an `EmpowermentError` (or return `fail("...")`) to refuse:
`main` prints it as one line `error: ...` on stderr and exits 2; anything unexpected exits 1.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache
from typing import Any

from sqlalchemy import inspect

from empowerment import settings
from empowerment.db import Database
from empowerment.errors import InvalidInput, InvalidState

Handler = Callable[[argparse.Namespace], int]

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_REFUSED = 2


@lru_cache(maxsize=1)
def database_parent() -> argparse.ArgumentParser:
    """Parent parser giving a subcommand `--database-url` (pass it in `parents=[...]`)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--database-url",
        metavar="URL",
        default=None,
        help="SQLAlchemy URL of the database (default: $EMPOWERMENT_DATABASE_URL, "
        "else the SQLite file data/empowerment.db)",
    )
    return parent


def add_command(
    subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
    name: str,
    handler: Handler,
    *,
    help: str,
    description: str | None = None,
    **kwargs: Any,
) -> argparse.ArgumentParser:
    """Add subcommand `name` with `--database-url` and `handler` as its entry point."""
    parser = subparsers.add_parser(
        name,
        help=help,
        description=description or help,
        parents=[database_parent()],
        **kwargs,
    )
    parser.set_defaults(handler=handler)
    return parser


# --- argument checks shared by the commands: refused by argparse with one sentence (exit 2) ----


def fits(most: int | Any, flag: str, *, strip: bool = True) -> Callable[[str], str]:
    """An argparse `type=`: text at most `most` characters (or as long as the database column
    `most` holds), without NUL characters; surrounding spaces removed unless `strip` is False.
    Refuses with InvalidInput, which `main` prints as one line (exit 2)."""
    length = most if isinstance(most, int) else getattr(getattr(most, "type", None), "length", None)

    def check(text: str) -> str:
        if "\x00" in text:
            raise InvalidInput(f"{flag} contains a NUL character; remove it.")
        text = text.strip() if strip else text
        if length is not None and len(text) > length:
            raise InvalidInput(f"{flag} is {len(text):,} characters long; the most is {length:,}.")
        return text

    return check


_STARTS_LIKE_A_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def day_or_time(text: str | None, flag: str) -> datetime | None:
    """An ISO 8601 day or time given on the command line (None stays None). Words ("now",
    "today") are refused: they would mean a different moment each time the command runs."""
    if text is None:
        return None
    value = text.strip()
    if not _STARTS_LIKE_A_DATE.match(value):
        raise InvalidInput(f"{flag} '{text}' is not a date; use YYYY-MM-DD or an ISO time like 2026-03-31T14:05.")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"{flag} '{text}' is not a date; use YYYY-MM-DD or an ISO time like 2026-03-31T14:05.") from None


def known_location(db: Database, text: str) -> str:
    """A location given by code or name -> its name; InvalidInput naming the locations there are."""
    from empowerment.queries.report_metrics import location_name

    with db.read() as session:
        return location_name(session, text) or text


def database_url(args: argparse.Namespace) -> str:
    return getattr(args, "database_url", None) or settings.database_url()


def open_db(args: argparse.Namespace, *, require_schema: bool = True) -> Database:
    """The database named by `--database-url` (or the settings). With `require_schema`, refuse
    with a hint when the schema has not been created yet."""
    db = Database(database_url(args))
    if require_schema and "alembic_version" not in inspect(db.engine).get_table_names():
        shown = db.engine.url.render_as_string(hide_password=True)
        db.dispose()
        raise InvalidState(
            f"The database {shown} has no tables yet; run `python -m empowerment init` first."
        )
    return db


@contextmanager
def opened_db(args: argparse.Namespace, *, require_schema: bool = True) -> Iterator[Database]:
    """`open_db` for the length of a `with` block: the command's connections are closed however
    it ends."""
    db = open_db(args, require_schema=require_schema)
    try:
        yield db
    finally:
        db.dispose()


def confirmed(args: argparse.Namespace, what: str, word: str = "yes") -> bool:
    """A destructive command goes ahead with `--yes`, or when a person at a terminal types
    `word`; without a terminal (a script, a pipe) it needs `--yes`. The caller refuses otherwise."""
    if getattr(args, "yes", False):
        return True
    if not sys.stdin.isatty():
        fail(f"{what}. Nothing was changed: add --yes to confirm.")
        return False
    print(f"{what}.", file=sys.stderr)
    try:
        answer = input(f"Type {word} to go ahead: ")
    except EOFError:
        answer = ""
    if answer.strip().lower() != word.lower():
        fail("Not confirmed; nothing was changed.")
        return False
    return True


def add_yes(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--yes", action="store_true", help="confirm; do not ask (for scripts)")


def fail(message: str) -> int:
    """Print one line `error: message` on stderr and return the refusal exit code (2)."""
    one_line = " ".join(str(message).split())
    print(f"error: {one_line}", file=sys.stderr)
    return EXIT_REFUSED


def _json_default(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "as_dict"):
        return value.as_dict()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def print_json(obj: Any) -> None:
    """Pretty JSON on stdout (dates as ISO strings, enums by value, non-ASCII kept)."""
    print(json.dumps(obj, indent=2, ensure_ascii=False, default=_json_default))


def print_table(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None,
                *, file: Any = None, max_width: int = 60) -> None:
    """A plain aligned text table; cells longer than `max_width` are cut with '…'."""
    out = file or sys.stdout
    if not rows:
        return
    columns = list(columns or rows[0].keys())

    def cell(value: Any) -> str:
        text = "" if value is None else " ".join(str(value).split())
        return text if len(text) <= max_width else text[: max_width - 1] + "…"

    body = [[cell(row.get(column)) for column in columns] for row in rows]
    widths = [max(len(column), *(len(line[i]) for line in body)) for i, column in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip(), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for line in body:
        print("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip(), file=out)
