"""Every setting, declared once: its environment variable, default, a line of help and how it is
parsed and checked. `current()` parses and validates them all together (once per environment) and
refuses a bad value with a message naming the variable and what it accepts; the command line checks
them before any command (`make run` starts with `init`), and `app.py` before the first page.

`tests/unit/test_settings.py` fails if a setting is missing from the README's table.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from empowerment.errors import EmpowermentError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class SettingsInvalid(EmpowermentError):
    """One or more settings have values the app cannot use; the message lists each."""


def _database_url(raw: str) -> str:
    if not raw.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
        raise ValueError("give a SQLAlchemy URL starting with sqlite:/// or postgresql+psycopg://")
    return raw


def _minutes(raw: str) -> int:
    if not raw.strip().isdigit() or not 1 <= int(raw) <= 24 * 60:
        raise ValueError("give a whole number of minutes from 1 to 1440")
    return int(raw)


def _currency(raw: str) -> str:
    if not re.fullmatch(r"[A-Za-z]{3}", raw.strip()):
        raise ValueError("give a three-letter ISO 4217 code such as USD, EUR or GBP")
    return raw.strip().upper()


def _flag(raw: str) -> bool:
    value = raw.strip().lower()
    if value not in ("0", "1", "true", "false", "yes", "no"):
        raise ValueError("give 1 or 0")
    return value in ("1", "true", "yes")


@dataclass(frozen=True)
class SettingSpec:
    env: str
    name: str  # the field of `Settings`
    default: str
    help: str
    parse: Callable[[str], Any] = str


SPECS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "EMPOWERMENT_DATABASE_URL", "database_url",
        f"sqlite:///{PROJECT_ROOT / 'data' / 'empowerment.db'}",
        "SQLAlchemy URL of the database; SQLite file in data/ by default, "
        "postgresql+psycopg://... for a server.", _database_url,
    ),
    SettingSpec(
        "EMPOWERMENT_SECRET_KEY", "secret_key", "",
        "Secret that signs sign-in cookies and keys customer pseudonyms; "
        "generated once into data/secret.key when empty.",
    ),
    SettingSpec(
        "EMPOWERMENT_IDLE_TIMEOUT_MINUTES", "idle_timeout_minutes", "15",
        "Minutes of inactivity after which a signed-in session ends (shared tablets "
        "return to the switch-user screen).", _minutes,
    ),
    SettingSpec(
        "EMPOWERMENT_CURRENCY", "currency", "USD",
        "ISO currency code used to format money on screen and in reports.", _currency,
    ),
    SettingSpec(
        "EMPOWERMENT_DEMO_ON_EMPTY", "demo_on_empty", "1",
        "When 1, `make run` fills an empty database with demo data.", _flag,
    ),
)


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str  # as configured; empty means "generated into data/secret.key" (see secret_key())
    idle_timeout_minutes: int
    currency: str
    demo_on_empty: bool


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Parse and check every setting; SettingsInvalid lists every bad one."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    problems: list[str] = []
    for spec in SPECS:
        raw = environ.get(spec.env, spec.default)
        try:
            values[spec.name] = spec.parse(raw)
        except ValueError as exc:
            problems.append(f"{spec.env} is '{raw}': {exc}.")
    if problems:
        raise SettingsInvalid("Some settings cannot be used: " + " ".join(problems))
    return Settings(**values)


_cache: dict[tuple[str | None, ...], Settings] = {}


def current() -> Settings:
    """The settings of this process's environment, parsed once per distinct environment."""
    key = tuple(os.environ.get(spec.env) for spec in SPECS)
    found = _cache.get(key)
    if found is None:
        found = _cache[key] = load()
    return found


def database_url() -> str:
    return current().database_url


def idle_timeout_minutes() -> int:
    return current().idle_timeout_minutes


def currency() -> str:
    return current().currency


def demo_on_empty() -> bool:
    return current().demo_on_empty


def secret_key() -> str:
    """The installation's secret: from the environment, else a file created once in data/."""
    configured = current().secret_key
    if configured:
        return configured
    key_file = PROJECT_ROOT / "data" / "secret.key"
    if not key_file.exists():
        import secrets

        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def field_names() -> list[str]:
    return [f.name for f in fields(Settings)]
