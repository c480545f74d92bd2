"""Engine and unit-of-work setup for SQLite (embedded default) and PostgreSQL, and the schema's
Alembic upgrade (`upgrade`), used by `python -m empowerment init`, the demo and the tests.

SQLite: WAL so readers never block the writer, a bounded busy timeout so concurrent writers queue
instead of failing (`EMPOWERMENT_DB_WAIT_SECONDS`, also the bound of the writers' flock), foreign keys on, and `BEGIN IMMEDIATE` for write units so the read-check-write of a
spend happens under the database's single write lock. PostgreSQL: write units lock the budget row
(`SELECT ... FOR UPDATE`) in the services.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from empowerment import settings
from empowerment.errors import DatabaseBusy, InvalidInput, Unavailable, new_reference

log = logging.getLogger("empowerment.db")

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
        cursor.execute(f"PRAGMA busy_timeout={settings.current().db_wait_seconds * 1000}")
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
        database_file = _sqlite_file(make_url(url))
        if database_file is not None:
            Path(database_file).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": settings.current().db_wait_seconds}, **kwargs)
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    # prepare_threshold=None keeps psycopg 3 usable behind PgBouncer in transaction mode.
    kwargs.setdefault("pool_pre_ping", True)
    config = settings.current()
    engine = create_engine(url, connect_args={"prepare_threshold": None,
                                              "connect_timeout": config.db_connect_timeout_seconds}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # A write waiting on another's row lock gives up after the bounded wait (a plain SET,
        # not a startup option, so it passes through PgBouncer).
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET lock_timeout = '{config.db_wait_seconds}s'")
        dbapi_connection.commit()

    return engine


@contextmanager
def _readable_failures() -> Iterator[None]:
    """Database failures a person can act on (down, locked, read-only) become `Unavailable`."""
    try:
        yield
    except Exception as exc:
        failure = _failure(exc)
        if failure is None:
            raise
        raise failure from exc


def _failure(exc: Exception) -> Exception | None:
    """The readable domain error for a database failure (None: not one we translate). The
    details go to the server's log under the reference the person sees."""
    text = str(getattr(exc, "orig", exc) or exc)
    if isinstance(exc, sa_exc.DataError) and "NUL" in text:
        return InvalidInput("The text contains an invisible NUL character, which cannot be saved; "
                            "remove it (retype the text) and try again.")
    if not isinstance(exc, (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError, TimeoutError)):
        return None
    reference = new_reference()
    log.warning("Database failure %s: %s", reference, text, exc_info=exc)
    lowered = text.lower()
    if isinstance(exc, TimeoutError) or "locked" in lowered or "lock timeout" in lowered or "lock_timeout" in lowered:
        return DatabaseBusy(
            "Another change is being saved and took too long, so nothing was saved this time "
            f"(reference {reference}). What you entered is kept: try again in a moment.", reference)
    if "readonly" in lowered or "read-only" in lowered or "read only" in lowered:
        return Unavailable(
            "The database cannot be written to right now, so nothing was saved "
            f"(reference {reference}). What you entered is kept: tell an admin, then try again.", reference)
    return Unavailable(
        "The database is not answering right now, so nothing was saved or shown "
        f"(reference {reference}). What you entered is kept: try again in a moment.", reference)


class Database:
    """One per process (cached by Streamlit with `st.cache_resource`): owns the engine and hands
    out units of work. Services take a `Database` and open exactly one unit per call."""

    def __init__(self, url: str | None = None, **engine_kwargs: Any) -> None:
        self.engine = make_engine(url, **engine_kwargs)
        self._lock_path = _writer_lock_path(self.engine.url) if self.dialect == "sqlite" else None
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
        with _readable_failures(), self._read_sessions() as session:
            yield session

    @contextmanager
    def write(self, wait_seconds: float | None = None) -> Iterator[Session]:
        """A write unit: commits once at the end, rolls back on any exception. A database that is
        down, locked past the bounded wait or read-only raises `Unavailable` with a sentence.
        `wait_seconds` shortens the wait for SQLite's writer turn (a write that may be skipped,
        such as a read mark, must not wait behind a long import)."""
        with (_readable_failures(), self._sqlite_writer_turn(wait_seconds), self._write_sessions() as session,
              session.begin()):
            yield session

    def writer_turn(self) -> Any:
        """The writers' turn without a unit (SQLite; nothing on PostgreSQL): a restore copies
        the database file back while no write unit of this installation runs."""
        return self._sqlite_writer_turn()

    @contextmanager
    def _sqlite_writer_turn(self, wait_seconds: float | None = None) -> Iterator[None]:
        """SQLite has one writer at a time. Waiting in SQLite's busy handler sleeps with backoff
        (we measured 8.7 s worst case with 16 writers); a blocking flock on a side file queues
        writers in the kernel and wakes the next one the moment the lock is free. Each unit opens
        its own descriptor, so threads in one process queue too."""
        if self._lock_path is None:
            yield
            return
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            _flock_within(fd, settings.current().db_wait_seconds if wait_seconds is None else wait_seconds)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def dispose(self) -> None:
        self.engine.dispose()


def _writer_lock_path(url: URL) -> str | None:
    """The side file beside the SQLite database that queues writers; none in memory."""
    database_file = _sqlite_file(url)
    return None if database_file is None else f"{database_file}.writelock"


def _sqlite_file(url: URL) -> str | None:
    """The SQLite database's file path, or None in memory.

    A URI-style name (`file:/path/db?mode=ro&uri=true`) names the same file as its plain path, so
    its folder and lock are that file's, not a relative folder called `file:`."""
    database_file = url.database
    if database_file in (None, "", ":memory:"):
        return None
    if url.query.get("uri") == "true" and database_file.startswith("file:"):
        database_file = database_file.removeprefix("file:").split("?", 1)[0]
        if database_file.startswith("//"):  # file://host/path: the host part is empty or localhost
            database_file = "/" + database_file[2:].split("/", 1)[-1]
        if database_file in ("", ":memory:") or url.query.get("mode") == "memory":
            return None
    return database_file


def _flock_within(fd: int, seconds: float) -> None:
    """Take the writer lock, waiting at most `seconds` (then `TimeoutError`): at once when it is
    free, else polling every 0.5-5 ms (a wait measured in writers' turns, not SQLite's 100 ms
    backoff), so a stuck writer elsewhere never makes a tablet wait forever."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    deadline, pause = time.monotonic() + seconds, 0.0005
    while True:
        time.sleep(pause)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the SQLite writer lock was held for more than {seconds} s") from None
            pause = min(pause * 2, 0.005)


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
