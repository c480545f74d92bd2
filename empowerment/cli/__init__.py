"""`python -m empowerment`: the command line.

Each module in `COMMAND_MODULES` (`empowerment/cli/<name>.py`) adds its subcommands with
`register(subparsers)`; see `empowerment/cli/common.py` for the helpers and the handler contract.
`COMMAND_OWNERS` says which module registers which command, so a run imports only the module it
needs (the report module alone pulls in Altair and the PDF and XLSX writers: about a second).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from empowerment import settings
from empowerment.cli.common import EXIT_REFUSED, EXIT_UNEXPECTED, fail
from empowerment.errors import EmpowermentError

COMMAND_MODULES = ("core", "users", "payoff", "report", "connect", "integrity", "care")
COMMAND_OWNERS = {
    "init": "core", "outcomes-rebuild": "core", "demo": "core", "import": "core", "export": "core", "policy": "core",
    "log": "core", "balance": "core",
    "create-user": "users", "set-password": "users", "set-pin": "users",
    "payoff": "payoff",
    "report": "report",
    "api-token": "connect", "webhook-source": "connect", "ingest": "connect", "void": "connect",
    "decide": "connect", "history": "connect", "set-email": "connect", "notify-worker": "connect",
    "notify-digest": "connect",
    "verify": "integrity", "backup": "integrity", "restore": "integrity", "erase-customer": "integrity",
    "care-list": "care", "follow-up": "care", "friction": "care", "vocabulary": "care", "value-tags": "care",
    "follow-ups": "care", "evidence-refresh": "care",
    "location-zone": "integrity", "location-currency": "integrity",
}


def _load_command_modules(names: Sequence[str] = COMMAND_MODULES) -> list[ModuleType]:
    modules: list[ModuleType] = []
    for name in names:
        full_name = f"{__name__}.{name}"
        try:
            modules.append(importlib.import_module(full_name))
        except ModuleNotFoundError as exc:
            if exc.name != full_name:  # a missing dependency inside the module is a real error
                raise
    return modules


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; given a known `command`, with only the module that owns it (help and usage
    errors get every module)."""
    parser = argparse.ArgumentParser(
        prog="python -m empowerment",
        description="Empowerment: front-line recovery budgets, gestures and their payoff.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    owner = COMMAND_OWNERS.get(command or "")
    for module in _load_command_modules((owner,) if owner else COMMAND_MODULES):
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(argv) if argv is not None else sys.argv[1:]
    parser = build_parser(next((a for a in arguments if not a.startswith("-")), None))
    try:
        args = parser.parse_args(arguments)
    except SystemExit as exc:  # --help, or a usage error argparse already printed
        return exc.code if isinstance(exc.code, int) else EXIT_REFUSED
    except EmpowermentError as exc:  # an argument's own check (`common.fits`): one sentence
        return fail(str(exc))
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_REFUSED
    try:
        settings.current()  # a bad setting stops every command, with the variable named
        return int(handler(args))
    except EmpowermentError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, exit 1
        detail = " ".join(str(exc).split())
        fail(f"unexpected {type(exc).__name__}: {detail[:300]}")
        return EXIT_UNEXPECTED
