"""Shared fixtures: a fresh, migrated database on SQLite and (when reachable) PostgreSQL.

PostgreSQL tests skip with a visible notice when no server answers; on CI (`CI=true`) they are
mandatory and a missing server fails the run instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from empowerment.db import Database
from empowerment.schema import upgrade

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


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path}/test.db")
        upgrade(database)
        yield database
        database.dispose()
        return
    if not PG_AVAILABLE:
        pytest.skip("PostgreSQL not reachable at " + PG_ADMIN_URL)
    url, name = make_pg_database()
    database = Database(url)
    upgrade(database)
    yield database
    database.dispose()
    drop_pg_database(name)


@pytest.fixture
def sqlite_db(tmp_path) -> Iterator[Database]:  # type: ignore[no-untyped-def]
    database = Database(f"sqlite:///{tmp_path}/test.db")
    upgrade(database)
    yield database
    database.dispose()
