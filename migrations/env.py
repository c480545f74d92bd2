"""Alembic environment: migrations are the schema. URL from `-x url=...`, the config's
`connection`/`sqlalchemy.url` attributes, or EMPOWERMENT_DATABASE_URL."""

from __future__ import annotations

from alembic import context

from empowerment.db import make_engine
from empowerment.models import Base

config = context.config
target_metadata = Base.metadata


def _url() -> str | None:
    x_args = context.get_x_argument(as_dictionary=True)
    if "url" in x_args:
        return x_args["url"]
    configured = config.get_main_option("sqlalchemy.url")
    return configured if configured and "driver://" not in configured else None


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copy
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
