"""Migrations are the schema: after `upgrade head` the models and the database must agree."""

from __future__ import annotations

from alembic import command

from empowerment.db import Database, alembic_config


def test_models_and_migrations_do_not_drift(db: Database) -> None:
    with db.engine.begin() as connection:
        config = alembic_config(db.url)
        config.attributes["connection"] = connection
        command.check(config)  # raises if autogenerate would emit any operation
