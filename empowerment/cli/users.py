"""User commands: create-user, set-password, set-pin.

Secrets are read from stdin (`--password-stdin`, `--pin-stdin`: the first line) or asked for with
`getpass`, never taken from the command line, where they would land in shell history and `ps`.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from empowerment.actor import Actor
from empowerment.cli.common import EXIT_OK, add_command, fail, fits, opened_db
from empowerment.models import Role
from empowerment.services import accounts

ROLES = [r.value for r in Role]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    create = add_command(
        subparsers, "create-user", cmd_create_user,
        help="Give a person a sign-in (user name + password, and a PIN for the shared tablet).",
        description="Create a user, or add a sign-in to an existing employee (--employee-id). "
        "The password is asked for, or read from stdin with --password-stdin; with --pin-stdin "
        "the PIN is read from stdin (after the password, on the next line).",
    )
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--username", required=True, type=fits(100, "--username"))
    create.add_argument("--name", required=True, type=fits(200, "--name"), help="the person's full name")
    create.add_argument("--employee-id", dest="employee_id", default=None, type=fits(64, "--employee-id"),
                        help="the organisation's employee id (existing or new)")
    create.add_argument("--team", default=None, type=fits(64, "--team"), help="team id; a manager also manages it")
    create.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    create.add_argument("--pin-stdin", action="store_true",
                        help="read a 4-6 digit PIN from stdin (staff and managers)")
    create.add_argument("--no-password", action="store_true",
                        help="no password (PIN sign-in only; needs --pin-stdin)")

    password = add_command(subparsers, "set-password", cmd_set_password,
                           help="Set a person's password (asked for, or --password-stdin).")
    password.add_argument("--employee-id", dest="employee_id", required=True, type=fits(64, "--employee-id"))
    password.add_argument("--password-stdin", action="store_true")

    pin = add_command(subparsers, "set-pin", cmd_set_pin,
                      help="Set a person's PIN and lift any lock (asked for, or --pin-stdin).")
    pin.add_argument("--employee-id", dest="employee_id", required=True, type=fits(64, "--employee-id"))
    pin.add_argument("--pin-stdin", action="store_true")


def _stdin_line() -> str:
    return sys.stdin.readline().rstrip("\r\n")


def _ask_twice(prompt: str) -> str | None:
    first = getpass.getpass(f"{prompt}: ")
    if getpass.getpass(f"{prompt} again: ") != first:
        return None
    return first


def _read_password(from_stdin: bool) -> str | None:
    return _stdin_line() if from_stdin else _ask_twice("Password")


def cmd_create_user(args: argparse.Namespace) -> int:
    if args.no_password and not args.pin_stdin:
        return fail("--no-password needs --pin-stdin: otherwise nobody could sign in.")
    password = None if args.no_password else _read_password(args.password_stdin)
    if not args.no_password and password is None:
        return fail("The two passwords differ; nothing was created.")
    pin = _stdin_line() if args.pin_stdin else None
    with opened_db(args) as db:
        code = accounts.create_user(
            db, Actor.system("cli"), username=args.username, name=args.name, role=Role(args.role),
            employee_code=args.employee_id, team_code=args.team, password=password, pin=pin)
    print(f"Created sign-in '{args.username}' ({args.role}) for employee {code}.")
    return EXIT_OK


def cmd_set_password(args: argparse.Namespace) -> int:
    password = _read_password(args.password_stdin)
    if password is None:
        return fail("The two passwords differ; nothing changed.")
    with opened_db(args) as db:
        accounts.set_password(db, Actor.system("cli"), args.employee_id, password)
    print(f"Password set for employee {args.employee_id}.")
    return EXIT_OK


def cmd_set_pin(args: argparse.Namespace) -> int:
    pin = _stdin_line() if args.pin_stdin else _ask_twice("PIN")
    if pin is None:
        return fail("The two PINs differ; nothing changed.")
    with opened_db(args) as db:
        accounts.set_pin(db, Actor.system("cli"), args.employee_id, pin)
    print(f"PIN set for employee {args.employee_id}; any lock is lifted.")
    return EXIT_OK
