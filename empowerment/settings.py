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


def _locale(raw: str) -> str:
    from babel.core import Locale, UnknownLocaleError

    try:
        return str(Locale.parse(raw.strip().replace("-", "_")))
    except (ValueError, UnknownLocaleError):
        raise ValueError("give a locale such as en_US, en_GB, de_DE or fr_FR") from None


def _whole(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        if not raw.strip().isdigit() or not low <= int(raw) <= high:
            raise ValueError(f"give a whole number from {low:,} to {high:,}")
        return int(raw)

    return parse


def _margin(raw: str) -> float:
    try:
        value = float(raw.strip())
    except ValueError:
        value = -1.0
    if not 0 < value <= 100:
        raise ValueError("give a percentage above 0 and at most 100, such as 30")
    return value / 100.0


def _public_url(raw: str) -> str:
    value = raw.strip().rstrip("/")
    if not re.fullmatch(r"https?://[^\s/]+(/\S*)?", value):
        raise ValueError("give the address people open the app at, such as https://empowerment.example.org")
    return value


def _optional_url(raw: str) -> str:
    return "" if not raw.strip() else _public_url(raw)


def _smtp_security(raw: str) -> str:
    value = raw.strip().lower()
    if value not in ("starttls", "ssl", "none"):
        raise ValueError("give starttls, ssl or none")
    return value


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _digest_at(raw: str) -> tuple[int, int, int] | None:
    """'mon 08:00' -> (weekday 0-6, hour, minute); 'off' -> None."""
    value = raw.strip().lower()
    if value == "off":
        return None
    match = re.fullmatch(r"([a-z]{3})[a-z]*\s+([01]?\d|2[0-3]):([0-5]\d)", value)
    if not match or match.group(1) not in _WEEKDAYS:
        raise ValueError("give a weekday and a time such as 'mon 08:00', or 'off'")
    return _WEEKDAYS.index(match.group(1)), int(match.group(2)), int(match.group(3))


def _time_zone(raw: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    value = raw.strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("give an IANA time zone name such as Europe/London or America/New_York") from None
    return value


def _secure_cookie(raw: str) -> str:
    value = raw.strip().lower()
    if value not in ("auto", "always", "never"):
        raise ValueError("give auto, always or never")
    return value


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
        "EMPOWERMENT_REPORTING_CURRENCY", "reporting_currency", "",
        "ISO currency code cross-location figures (payoff, joint report, Team across locations) are "
        "converted into at daily rates (the exchange_rates import); empty: EMPOWERMENT_CURRENCY.",
        lambda raw: _currency(raw) if raw.strip() else "",
    ),
    SettingSpec(
        "EMPOWERMENT_LOCALE", "locale", "en_US",
        "How people type numbers: the decimal mark of amounts typed at the tablet follows it "
        "(en_US 12.50, de_DE 12,50).", _locale,
    ),
    SettingSpec(
        "EMPOWERMENT_TIME_ZONE", "time_zone", "UTC",
        "The business's time zone (IANA name, e.g. Europe/London): daily caps, budget periods and "
        "report dates follow it; a location's own zone overrides it. Times are stored in UTC.",
        _time_zone,
    ),
    SettingSpec(
        "EMPOWERMENT_DEMO_ON_EMPTY", "demo_on_empty", "1",
        "When 1, `make run` fills an empty database with demo data.", _flag,
    ),
    SettingSpec(
        "EMPOWERMENT_PUBLIC_URL", "public_url", "http://localhost:8501",
        "The address people open the app at: the links in notifications and the company "
        "sign-in's return address are built on it.", _public_url,
    ),
    SettingSpec(
        "EMPOWERMENT_API_RATE_LIMIT_PER_MINUTE", "api_rate_limit_per_minute", "600",
        "Calls a new API token may make per minute (each token keeps its own count, in the "
        "database, so the limit holds across replicas).", _whole(1, 1_000_000),
    ),
    SettingSpec(
        "EMPOWERMENT_SMTP_HOST", "smtp_host", "",
        "Mail server for email notifications; empty turns email off.",
    ),
    SettingSpec("EMPOWERMENT_SMTP_PORT", "smtp_port", "587", "Mail server port.", _whole(1, 65535)),
    SettingSpec(
        "EMPOWERMENT_SMTP_SECURITY", "smtp_security", "starttls",
        "starttls (port 587), ssl (port 465) or none (a local relay only).", _smtp_security,
    ),
    SettingSpec("EMPOWERMENT_SMTP_USERNAME", "smtp_username", "", "Mail server user name, if it needs one."),
    SettingSpec("EMPOWERMENT_SMTP_PASSWORD", "smtp_password", "", "Mail server password, if it needs one."),
    SettingSpec(
        "EMPOWERMENT_SMTP_FROM", "smtp_from", "empowerment@localhost",
        "The sender address of email notifications.",
    ),
    SettingSpec(
        "EMPOWERMENT_NOTIFY_TIMEOUT_SECONDS", "notify_timeout_seconds", "10",
        "How long the notification worker waits for a mail server or webhook before it gives "
        "up on that try.", _whole(1, 300),
    ),
    SettingSpec(
        "EMPOWERMENT_NOTIFY_POLL_SECONDS", "notify_poll_seconds", "2",
        "How often the notification worker looks for new events.", _whole(1, 3600),
    ),
    SettingSpec(
        "EMPOWERMENT_DIGEST_AT", "digest_at", "mon 08:00",
        "When managers get the weekly digest of under-used budgets (weekday and local time), "
        "or off.", _digest_at,
    ),
    SettingSpec(
        "EMPOWERMENT_OIDC_ISSUER", "oidc_issuer", "",
        "Company sign-in: the OpenID Connect provider's issuer URL (its "
        "/.well-known/openid-configuration is read); empty turns company sign-in off.", _optional_url,
    ),
    SettingSpec("EMPOWERMENT_OIDC_CLIENT_ID", "oidc_client_id", "", "Company sign-in: this app's client id."),
    SettingSpec(
        "EMPOWERMENT_OIDC_CLIENT_SECRET", "oidc_client_secret", "", "Company sign-in: this app's client secret.",
    ),
    SettingSpec(
        "EMPOWERMENT_OIDC_MATCH_CLAIM", "oidc_match_claim", "email",
        "Company sign-in: the ID token claim that finds the employee: email (only when the "
        "provider marks it verified) or another claim holding the employee id.",
    ),
    SettingSpec(
        "EMPOWERMENT_OIDC_BUTTON_LABEL", "oidc_button_label", "Sign in with your company account",
        "Company sign-in: the button's words on the sign-in screen.",
    ),
    SettingSpec(
        "EMPOWERMENT_RECOVERY_WINDOW_HOURS", "recovery_window_hours", "72",
        "Payoff: a gesture counts as recovering an incident only within this many hours after it; "
        "follow-up for every incident starts when the window ends.", _whole(1, 24 * 30),
    ),
    SettingSpec(
        "EMPOWERMENT_CONTRIBUTION_MARGIN_PERCENT", "contribution_margin", "30",
        "Payoff: the share of revenue left after the cost of serving it, in percent; every money "
        "figure and the return on spend are worked out on it.", _margin,
    ),
    SettingSpec(
        "EMPOWERMENT_BIND_ADDRESS", "bind_address", "127.0.0.1",
        "The address `make run` listens on: this computer only by default; 0.0.0.0 to serve "
        "the network (then put it behind HTTPS).",
    ),
    SettingSpec(
        "EMPOWERMENT_COOKIE_SECURE", "cookie_secure", "auto",
        "Whether sign-in cookies are marked Secure (sent over HTTPS only): auto (when the request "
        "or the proxy's X-Forwarded-Proto is https, or EMPOWERMENT_PUBLIC_URL is https), always "
        "or never.", _secure_cookie,
    ),
    SettingSpec(
        "EMPOWERMENT_DB_WAIT_SECONDS", "db_wait_seconds", "10",
        "The longest a write waits for another writer's lock (SQLite's writer lock, PostgreSQL "
        "row locks) before it gives up with a message to try again.", _whole(1, 600),
    ),
    SettingSpec(
        "EMPOWERMENT_DB_CONNECT_TIMEOUT_SECONDS", "db_connect_timeout_seconds", "5",
        "The longest the app waits to reach a PostgreSQL server before saying the database is "
        "unavailable.", _whole(1, 120),
    ),
)


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str  # as configured; empty means "generated into data/secret.key" (see secret_key())
    idle_timeout_minutes: int
    currency: str
    reporting_currency: str  # "" means the installation's currency (see reporting_currency())
    locale: str
    time_zone: str
    demo_on_empty: bool
    public_url: str
    api_rate_limit_per_minute: int
    smtp_host: str
    smtp_port: int
    smtp_security: str
    smtp_username: str
    smtp_password: str
    smtp_from: str
    notify_timeout_seconds: int
    notify_poll_seconds: int
    digest_at: tuple[int, int, int] | None  # (weekday, hour, minute)
    oidc_issuer: str
    oidc_client_id: str
    oidc_client_secret: str
    oidc_match_claim: str
    oidc_button_label: str
    recovery_window_hours: int
    contribution_margin: float  # a fraction: 30 % is 0.30
    bind_address: str
    cookie_secure: str  # auto | always | never
    db_wait_seconds: int
    db_connect_timeout_seconds: int

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer and self.oidc_client_id)


SECRETS_FILE = PROJECT_ROOT / ".streamlit" / "secrets.toml"


def file_values(path: Path = SECRETS_FILE) -> dict[str, str]:
    """Settings written in `.streamlit/secrets.toml` (top-level keys named like the environment
    variables, e.g. `EMPOWERMENT_OIDC_CLIENT_SECRET = "..."`); the environment wins over them."""
    if not path.is_file():
        return {}
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsInvalid(f"{path} cannot be read as TOML: {exc}.") from exc
    known = {spec.env for spec in SPECS}
    return {key: str(value) for key, value in data.items() if key in known}


def load(environ: Mapping[str, str] | None = None, from_file: Mapping[str, str] | None = None) -> Settings:
    """Parse and check every setting (environment first, then `.streamlit/secrets.toml`);
    SettingsInvalid lists every bad one."""
    environ = os.environ if environ is None else environ
    written = {} if from_file is None else from_file
    values: dict[str, Any] = {}
    problems: list[str] = []
    for spec in SPECS:
        raw = environ.get(spec.env, written.get(spec.env, spec.default))
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
        found = _cache[key] = load(from_file=file_values())
    return found


def database_url() -> str:
    return current().database_url


def idle_timeout_minutes() -> int:
    return current().idle_timeout_minutes


def currency() -> str:
    return current().currency


def reporting_currency() -> str:
    """The currency cross-location figures are in: EMPOWERMENT_REPORTING_CURRENCY, else EMPOWERMENT_CURRENCY."""
    found = current()
    return found.reporting_currency or found.currency


def locale() -> str:
    return current().locale


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
