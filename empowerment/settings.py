"""Every setting, declared once: name, default and a line of help, read from the environment.

`tests/unit/test_settings.py` fails if a setting is missing from the README's table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class SettingSpec:
    env: str
    default: str
    help: str


SPECS: tuple[SettingSpec, ...] = (
    SettingSpec(
        "EMPOWERMENT_DATABASE_URL",
        f"sqlite:///{PROJECT_ROOT / 'data' / 'empowerment.db'}",
        "SQLAlchemy URL of the database; SQLite file in data/ by default, "
        "postgresql+psycopg://... for a server.",
    ),
    SettingSpec(
        "EMPOWERMENT_SECRET_KEY",
        "",
        "Secret that signs sign-in cookies and keys customer pseudonyms; "
        "generated once into data/secret.key when empty.",
    ),
    SettingSpec(
        "EMPOWERMENT_IDLE_TIMEOUT_MINUTES",
        "15",
        "Minutes of inactivity after which a signed-in session ends (shared tablets "
        "return to the switch-user screen).",
    ),
    SettingSpec(
        "EMPOWERMENT_CURRENCY",
        "USD",
        "ISO currency code used to format money on screen and in reports.",
    ),
    SettingSpec(
        "EMPOWERMENT_DEMO_ON_EMPTY",
        "1",
        "When 1, `make run` fills an empty database with demo data.",
    ),
)


def _get(env: str) -> str:
    spec = next(s for s in SPECS if s.env == env)
    return os.environ.get(env, spec.default)


def database_url() -> str:
    return _get("EMPOWERMENT_DATABASE_URL")


def idle_timeout_minutes() -> int:
    return int(_get("EMPOWERMENT_IDLE_TIMEOUT_MINUTES"))


def currency() -> str:
    return _get("EMPOWERMENT_CURRENCY")


def demo_on_empty() -> bool:
    return _get("EMPOWERMENT_DEMO_ON_EMPTY") == "1"


def secret_key() -> str:
    """The installation's secret: from the environment, else a file created once in data/."""
    configured = _get("EMPOWERMENT_SECRET_KEY")
    if configured:
        return configured
    key_file = PROJECT_ROOT / "data" / "secret.key"
    if not key_file.exists():
        import secrets

        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()
