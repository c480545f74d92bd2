"""Shared fixtures: a fresh, migrated database on SQLite and (when reachable) PostgreSQL.

PostgreSQL tests skip with a visible notice when no server answers; on CI (`CI=true`) they are
mandatory and a missing server fails the run instead.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from empowerment.db import Database, upgrade

PG_ADMIN_URL = os.environ.get(
    "EMPOWERMENT_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), connect_timeout=3):
            return True
    except Exception:
        return False


PG_AVAILABLE = _pg_available()


def pytest_report_header(config: pytest.Config) -> str:
    if PG_AVAILABLE:
        return f"PostgreSQL tests: on ({PG_ADMIN_URL})"
    return "PostgreSQL tests: SKIPPED - no server at " + PG_ADMIN_URL


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not PG_AVAILABLE and os.environ.get("CI") == "true":
        raise pytest.UsageError(f"CI requires PostgreSQL at {PG_ADMIN_URL} but none answered.")


@pytest.fixture(autouse=True)
def _clear_streamlit_caches() -> Iterator[None]:
    yield
    try:
        import streamlit as st

        st.cache_data.clear()
    except Exception:  # pragma: no cover - streamlit absent in some runs
        pass


def make_pg_database() -> tuple[str, str]:
    """A new empty database on the test server; returns (url, name)."""
    import psycopg

    name = f"emp_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name, name


def drop_pg_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One migrated SQLite file; each test gets a copy (much faster than migrating each time)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    database = Database(f"sqlite:///{path}")
    upgrade(database)
    with database.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return str(path)


@pytest.fixture(scope="session")
def _pg_session_database() -> Iterator[str]:
    url, name = make_pg_database()
    database = Database(url)
    upgrade(database)
    database.dispose()
    yield url
    drop_pg_database(name)


def _truncate_all(database: Database) -> None:
    """Empty every table and restart the ids, as TRUNCATE ... RESTART IDENTITY would: DELETE of
    the few rows a test leaves is about 14 times faster than TRUNCATE of 40-odd tables (72 ms per
    test, over 300 PostgreSQL tests)."""
    from empowerment.models import Base

    with database.engine.begin() as conn:
        # The ledger and the audit log refuse deletes; a superuser's replica role skips triggers
        # (and foreign keys, so the order does not matter).
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for table in reversed(Base.metadata.sorted_tables):
            conn.exec_driver_sql(f'DELETE FROM "{table.name}"')
        conn.exec_driver_sql(
            "DO $$ DECLARE s record; BEGIN FOR s IN SELECT schemaname, sequencename FROM pg_sequences"
            " WHERE last_value IS NOT NULL AND schemaname = current_schema() LOOP"
            " EXECUTE format('ALTER SEQUENCE %%I.%%I RESTART', s.schemaname, s.sequencename);"
            " END LOOP; END $$")


def fresh_sqlite(template: str, tmp_path: Path) -> Database:
    target = tmp_path / "test.db"
    shutil.copyfile(template, target)
    return Database(f"sqlite:///{target}")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path, _sqlite_template: str) -> Iterator[Database]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        database = fresh_sqlite(_sqlite_template, tmp_path)
        yield database
        database.dispose()
        return
    if not PG_AVAILABLE:
        pytest.skip("PostgreSQL not reachable at " + PG_ADMIN_URL)
    url = request.getfixturevalue("_pg_session_database")
    database = Database(url)
    _truncate_all(database)
    yield database
    database.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path, _sqlite_template: str) -> Iterator[Database]:
    database = fresh_sqlite(_sqlite_template, tmp_path)
    yield database
    database.dispose()


@pytest.fixture
def pg_db(request: pytest.FixtureRequest) -> Iterator[Database]:
    if not PG_AVAILABLE:
        pytest.skip("PostgreSQL not reachable at " + PG_ADMIN_URL)
    database = Database(request.getfixturevalue("_pg_session_database"))
    _truncate_all(database)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium shared by tests/e2e and tests/cluster (see tests.e2e.conftest)."""
    from tests.e2e.conftest import open_browser

    yield from open_browser()
