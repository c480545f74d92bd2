"""Create or upgrade the schema with Alembic (`upgrade head`), from code or the CLI."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

from empowerment.db import Database
from empowerment.settings import PROJECT_ROOT


def alembic_config(url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(db: Database) -> None:
    with db.engine.begin() as connection:
        config = alembic_config(db.url)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def is_empty(db: Database) -> bool:
    """True when the schema is missing or holds no employees yet."""
    if "employees" not in inspect(db.engine).get_table_names():
        return True
    with db.engine.connect() as conn:
        return conn.exec_driver_sql("SELECT COUNT(*) FROM employees").scalar() == 0
