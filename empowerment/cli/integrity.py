"""Integrity commands: verify, backup, restore, erase-customer; a location's zone and currency."""

from __future__ import annotations

import argparse
from pathlib import Path

from empowerment.actor import Actor
from empowerment.cli.common import EXIT_OK, EXIT_REFUSED, add_command, add_yes, confirmed, opened_db

EXIT_TAMPERED = 3  # verify found a problem (2 stays "refused", 1 "unexpected")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    add_command(
        subparsers, "verify", cmd_verify,
        help="Check every balance against the ledger and the audit log's hash chain.",
        description="Check that every budget's balance equals the sum of its ledger entries, that "
        "each entry moves money the way its type says, and that the audit log's hash chain is "
        "whole. Names each row that fails; exits 3 if any does, 0 if all is well.",
    )
    backup = add_command(
        subparsers, "backup", cmd_backup,
        help="Write a restorable backup of the whole database to FILE.",
        description="SQLite: the online backup API (people may keep working). PostgreSQL: pg_dump "
        "in its custom format (the client tools must be installed). Never overwrites a file.",
    )
    backup.add_argument("file", type=Path, metavar="FILE")
    restore = add_command(
        subparsers, "restore", cmd_restore,
        help="Replace the whole database with a backup, then check it.",
        description="Replace EVERY table with the contents of FILE (made by `backup`), upgrade the "
        "schema, then run verify. Asks first unless --yes.",
    )
    restore.add_argument("file", type=Path, metavar="FILE")
    add_yes(restore)
    erase = add_command(
        subparsers, "erase-customer", cmd_erase_customer,
        help="Erase a customer's personal data on request (keeps amounts and dates).",
        description="Remove the customer's name, id, contact details, room and every free text about "
        "their visits; amounts, dates and categories stay, so budgets and the payoff still add up. "
        "Cannot be undone. Asks first unless --yes.",
    )
    erase.add_argument("customer", metavar="CUSTOMER_ID")
    erase.add_argument("--reference", required=True, metavar="TEXT",
                       help="on what request (a ticket or letter reference; never the name)")
    add_yes(erase)
    zone = add_command(
        subparsers, "location-zone", cmd_location_zone,
        help="Set a location's time zone (daily caps, periods and 'today' follow it).",
        description="Give the location (id or name) an IANA time zone such as Europe/London; "
        "--installation makes it follow EMPOWERMENT_TIME_ZONE again. Times stay stored in UTC.",
    )
    zone.add_argument("location", metavar="LOCATION")
    which = zone.add_mutually_exclusive_group(required=True)
    which.add_argument("time_zone", nargs="?", metavar="ZONE")
    which.add_argument("--installation", action="store_true", help="follow the installation's zone")
    money = add_command(
        subparsers, "location-currency", cmd_location_currency,
        help="Set a location's currency (ISO 4217) and the locale its people type amounts in.",
        description="Give the location (id or name) a currency such as EUR or JPY: its budgets, caps, "
        "gestures and its customers' purchases are in it (the yen has no decimals). Refused once money "
        "is recorded there. --locale fr_FR makes its tablet read and show 12,50 €; --installation-locale "
        "follows EMPOWERMENT_LOCALE again.",
    )
    money.add_argument("location", metavar="LOCATION")
    money.add_argument("currency", metavar="CURRENCY")
    how = money.add_mutually_exclusive_group()
    how.add_argument("--locale", metavar="LOCALE", help="a Babel locale such as fr_FR, de_DE or ja_JP")
    how.add_argument("--installation-locale", action="store_true", help="follow EMPOWERMENT_LOCALE")


def cmd_verify(args: argparse.Namespace) -> int:
    from empowerment.queries.integrity import verify

    with opened_db(args) as db:
        result = verify(db, Actor.system("cli"))
    print(result.as_text())
    return EXIT_OK if result.ok else EXIT_TAMPERED


def cmd_backup(args: argparse.Namespace) -> int:
    from empowerment.services.backup import backup

    with opened_db(args) as db:
        print(backup(db, Actor.system("cli"), args.file).as_text())
    return EXIT_OK


def cmd_restore(args: argparse.Namespace) -> int:
    from empowerment.queries.integrity import verify
    from empowerment.services.backup import restore

    with opened_db(args, require_schema=False) as db:
        shown = db.engine.url.render_as_string(hide_password=True)
        if not args.file.is_file():
            from empowerment.errors import InvalidInput

            raise InvalidInput(f"No backup file at {args.file}.")
        if not confirmed(args, f"restore REPLACES every table of {shown} with {args.file}", word="restore"):
            return EXIT_REFUSED
        restore(db, Actor.system("cli"), args.file)
        result = verify(db, Actor.system("cli"))
    print(f"Restored {args.file}.")
    print(result.as_text())
    return EXIT_OK if result.ok else EXIT_TAMPERED


def cmd_erase_customer(args: argparse.Namespace) -> int:
    from empowerment.services.erasure import erase_customer

    with opened_db(args) as db:
        if not confirmed(args, f"erase-customer removes {args.customer}'s personal data for good", word="erase"):
            return EXIT_REFUSED
        result = erase_customer(db, Actor.system("cli"), args.customer, args.reference)
    print(result.as_text())
    return EXIT_OK


def cmd_location_zone(args: argparse.Namespace) -> int:
    from empowerment.services.organisation import set_location_time_zone

    with opened_db(args) as db:
        in_force = set_location_time_zone(db, Actor.system("cli"), args.location,
                                          None if args.installation else args.time_zone)
    follows = " (the installation's)" if args.installation else ""
    print(f"{args.location} keeps business time in {in_force}{follows}.")
    return EXIT_OK


def cmd_location_currency(args: argparse.Namespace) -> int:
    from empowerment.money import currency_name
    from empowerment.services.organisation import set_location_money

    with opened_db(args) as db:
        here = set_location_money(db, Actor.system("cli"), args.location, args.currency,
                                  "" if args.installation_locale else args.locale)
    print(f"{args.location} keeps its money in {currency_name(here.currency)} ({here.currency}); "
          f"amounts are typed and shown as in {here.locale}.")
    return EXIT_OK
