"""`python -m empowerment`: the command line.

Each module in `COMMAND_MODULES` (`empowerment/cli/<name>.py`) adds its subcommands with
`register(subparsers)`; see `empowerment/cli/common.py` for the helpers and the handler contract.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from empowerment.cli.common import EXIT_REFUSED, EXIT_UNEXPECTED, fail
from empowerment.errors import EmpowermentError

COMMAND_MODULES = ("core", "users", "payoff", "report")


def _load_command_modules() -> list[ModuleType]:
    modules: list[ModuleType] = []
    for name in COMMAND_MODULES:
        full_name = f"{__name__}.{name}"
        try:
            modules.append(importlib.import_module(full_name))
        except ModuleNotFoundError as exc:
            if exc.name != full_name:  # a missing dependency inside the module is a real error
                raise
    return modules


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m empowerment",
        description="Empowerment: front-line recovery budgets, gestures and their payoff.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for module in _load_command_modules():
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # --help, or a usage error argparse already printed
        return exc.code if isinstance(exc.code, int) else EXIT_REFUSED
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_REFUSED
    try:
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
