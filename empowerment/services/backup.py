"""Backups that restore: `python -m empowerment backup FILE` and `restore FILE`.

- SQLite: SQLite's online backup API (`sqlite3.Connection.backup`, in one step), which copies a
  consistent snapshot while people keep writing (WAL: the copy reads, writers carry on). The
  restore copies the file back over the live database with the same API, under the writers' file
  lock, so no write unit interleaves with it.
- PostgreSQL: `pg_dump --format=custom` (one consistent snapshot, as pg_dump always takes) and
  `pg_restore --clean --if-exists --single-transaction`, so a failed restore changes nothing. The
  password goes to the tools through the environment, never on the command line.

Both check what they are given: a restore refuses a file that is not an Empowerment backup for this
kind of database. After a restore the schema is upgraded to this version (a backup may be older).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from empowerment import access, audit
from empowerment.actor import Actor
from empowerment.db import Database, upgrade
from empowerment.errors import InvalidInput, InvalidState

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HEADER = b"PGDMP"
PG_TOOL_TIMEOUT_SECONDS = 3600


@dataclass(frozen=True)
class BackupResult:
    path: Path
    size_bytes: int
    dialect: str

    def as_text(self) -> str:
        return f"Backup written to {self.path} ({self.size_bytes:,} bytes, {self.dialect})."


def backup(db: Database, actor: Actor, target: Path) -> BackupResult:
    """Write a restorable copy of the whole database to `target` (never over an existing file)."""
    access.require(actor, "database.backup", anywhere=True)
    target = Path(target)
    if target.is_dir() or str(target).endswith(os.sep):
        raise InvalidInput(f"{target} is a folder; give a file name, e.g. {target / 'empowerment.backup'}.")
    if target.exists():
        raise InvalidInput(f"{target} already exists; give a new file name (a backup never overwrites).")
    if not target.parent.is_dir():
        raise InvalidInput(f"There is no folder {target.parent}; create it first.")
    with db.write() as session:  # the backup itself is on the record
        audit.record(session, actor, "database.backup_started", "database", None, dict(file=target.name))
    partial = target.with_name(target.name + ".partial")
    try:
        if db.dialect == "sqlite":
            _sqlite_backup(_sqlite_path(db), partial)
        else:
            _pg_run(db, ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={partial}"])
        partial.replace(target)  # whole or not at all
    finally:
        partial.unlink(missing_ok=True)
    return BackupResult(target, target.stat().st_size, db.dialect)


def restore(db: Database, actor: Actor, source: Path) -> None:
    """Replace the whole database with the backup in `source`, then upgrade its schema."""
    access.require(actor, "database.backup", anywhere=True)
    source = Path(source)
    if not source.is_file():
        raise InvalidInput(f"No backup file at {source}.")
    with source.open("rb") as handle:
        header = handle.read(16)
    if db.dialect == "sqlite":
        if header != SQLITE_HEADER:
            raise InvalidInput(f"{source} is not a SQLite backup of Empowerment.")
        _check_sqlite_backup(source)
        _sqlite_restore(db, source)
    else:
        if not header.startswith(PG_DUMP_HEADER):
            raise InvalidInput(f"{source} is not a PostgreSQL backup (pg_dump custom format) of Empowerment.")
        db.engine.dispose()  # our own pooled connections would hold locks on the tables pg_restore drops
        _pg_run(db, ["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges",
                     "--single-transaction", "--exit-on-error", "--dbname", "{dsn}", str(source)])
    upgrade(db)
    with db.write() as session:
        audit.record(session, actor, "database.restored", "database", None, dict(file=source.name))


# --- SQLite -----------------------------------------------------------------------------------------

def _sqlite_path(db: Database) -> str:
    path = db.engine.url.database
    if not path or path == ":memory:":
        raise InvalidState("An in-memory database cannot be backed up; it disappears with the process.")
    return path


def _sqlite_backup(source: str, target: Path) -> None:
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)  # pages=-1: one step, one consistent snapshot
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        dst.close()
        src.close()


def _check_sqlite_backup(source: Path) -> None:
    connection = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        check = connection.execute("PRAGMA quick_check").fetchone()
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(f"{source} cannot be read as a database: {exc}.") from None
    finally:
        connection.close()
    if not check or check[0] != "ok":
        raise InvalidInput(f"{source} is damaged (SQLite quick_check: {check[0] if check else 'no answer'}).")
    if not {"alembic_version", "ledger_entries", "audit_events"} <= tables:
        raise InvalidInput(f"{source} is a SQLite file but not an Empowerment backup.")


def _sqlite_restore(db: Database, source: Path) -> None:
    live = _sqlite_path(db)
    db.engine.dispose()
    with db.writer_turn():  # no write unit of this installation interleaves with the copy
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(live, timeout=30)
        try:
            dst.execute("PRAGMA busy_timeout=30000")
            src.backup(dst)
            dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            dst.close()
            src.close()


# --- PostgreSQL -------------------------------------------------------------------------------------

def _pg_run(db: Database, command: list[str]) -> None:
    tool = command[0]
    if shutil.which(tool) is None:
        raise InvalidState(f"{tool} is not installed; install the PostgreSQL client tools "
                           "(the same major version as the server or newer).")
    url = make_url(db.url)
    env = {**os.environ, "PGHOST": url.host or "localhost", "PGPORT": str(url.port or 5432),
           "PGUSER": url.username or "", "PGDATABASE": url.database or "", "PGCONNECT_TIMEOUT": "10"}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    dsn = f"dbname={url.database}"
    arguments = [part.replace("{dsn}", dsn) for part in command]
    if tool == "pg_dump":
        arguments.append(url.database or "")
    with tempfile.TemporaryFile() as errors:
        finished = subprocess.run(arguments, env=env, stdout=subprocess.DEVNULL, stderr=errors,
                                  timeout=PG_TOOL_TIMEOUT_SECONDS, check=False)
        if finished.returncode != 0:
            errors.seek(0)
            detail = " ".join(errors.read().decode("utf-8", "replace").split())[:400]
            raise InvalidState(f"{tool} failed (exit {finished.returncode}): {detail}")
