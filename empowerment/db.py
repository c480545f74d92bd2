"""Engine and unit-of-work setup for SQLite (embedded default) and PostgreSQL, and the schema's
Alembic upgrade (`upgrade`), used by `python -m empowerment init`, the demo and the tests.

SQLite: WAL so readers never block the writer, a busy timeout so concurrent writers queue instead
of failing, foreign keys on, and `BEGIN IMMEDIATE` for write units so the read-check-write of a
spend happens under the database's single write lock. PostgreSQL: write units lock the budget row
(`SELECT ... FOR UPDATE`) in the services.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from empowerment import settings

_WRITE_OPTION = "empowerment_write_unit"


def _casefold(text: str | None) -> str | None:
    return text.casefold() if isinstance(text, str) else text


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control away from pysqlite so our BEGIN statements are the real ones.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()
        # SQLite's lower() only knows ASCII; customer search uses this for other scripts.
        dbapi_connection.create_function("casefold", 1, _casefold, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        write = conn.get_execution_options().get(_WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    url = url or settings.database_url()
    if url.startswith("sqlite"):
        if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
            from pathlib import Path

            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30}, **kwargs)
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # prepare_threshold=None keeps psycopg 3 usable behind PgBouncer in transaction mode.
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, connect_args={"prepare_threshold": None}, **kwargs)


class Database:
    """One per process (cached by Streamlit with `st.cache_resource`): owns the engine and hands
    out units of work. Services take a `Database` and open exactly one unit per call."""

    def __init__(self, url: str | None = None, **engine_kwargs: Any) -> None:
        self.engine = make_engine(url, **engine_kwargs)
        database_file = self.engine.url.database if self.dialect == "sqlite" else None
        self._lock_path = f"{database_file}.writelock" if database_file not in (None, "", ":memory:") else None
        self._read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(
            self.engine.execution_options(**{_WRITE_OPTION: True}), expire_on_commit=False
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit: never commits. Closing ends the transaction without expiring what was
        loaded, so results stay readable after the unit."""
        with self._read_sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write unit: commits once at the end, rolls back on any exception."""
        with self._sqlite_writer_turn(), self._write_sessions() as session, session.begin():
            yield session

    def writer_turn(self) -> Any:
        """The writers' turn without a unit (SQLite; nothing on PostgreSQL): a restore copies
        the database file back while no write unit of this installation runs."""
        return self._sqlite_writer_turn()

    @contextmanager
    def _sqlite_writer_turn(self) -> Iterator[None]:
        """SQLite has one writer at a time. Waiting in SQLite's busy handler sleeps with backoff
        (we measured 8.7 s worst case with 16 writers); a blocking flock on a side file queues
        writers in the kernel and wakes the next one the moment the lock is free. Each unit opens
        its own descriptor, so threads in one process queue too."""
        if self._lock_path is None:
            yield
            return
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def dispose(self) -> None:
        self.engine.dispose()


def alembic_config(url: str) -> Any:
    """Alembic's configuration for `url` (imported here: Alembic costs a CLI run 0.1 s)."""
    from alembic.config import Config

    config = Config(str(settings.PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(settings.PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(db: Database) -> None:
    """Create or upgrade the schema to the newest migration (`alembic upgrade head`)."""
    from alembic import command

    with db.engine.begin() as connection:
        config = alembic_config(db.url)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
