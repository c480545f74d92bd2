"""`import_csv`: read, check, then write in one unit of work, or refuse the whole file."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.exc import IntegrityError

from empowerment import access, audit
from empowerment.actor import Actor
from empowerment.csvformat import IMPORT_KINDS, KINDS
from empowerment.db import Database
from empowerment.errors import ImportFailed
from empowerment.services.importing.job import Job
from empowerment.services.importing.kinds import IMPORTERS
from empowerment.services.importing.reading import Source, decode, parse, read_source
from empowerment.services.importing.summary import ImportSummary, Progress, ProgressCallback
from empowerment.services.importing.validation import validate
from empowerment.services.importing.vocabulary_step import apply_vocabulary

try:  # COPY runs on the raw psycopg connection, whose errors SQLAlchemy does not wrap
    from psycopg.errors import IntegrityError as _PsycopgIntegrityError

    _INTEGRITY_ERRORS: tuple[type[Exception], ...] = (IntegrityError, _PsycopgIntegrityError)
except ImportError:  # pragma: no cover - psycopg is a requirement
    _INTEGRITY_ERRORS = (IntegrityError,)


def import_csv(
    db: Database,
    kind: str,
    source: Source,
    *,
    actor: Actor,
    dry_run: bool = False,
    column_mapping: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
    value_mapping: Mapping[str, Mapping[str, str]] | None = None,
) -> ImportSummary:
    """Import one CSV file of `kind` (employees, customers, transactions, incidents, gestures).

    `source`: a path (str or Path), the file's bytes, or an open file / upload (binary or text).
    Raises `ImportFailed(message, problems)` and writes nothing when anything is wrong;
    `UnknownValues` (an ImportFailed) when words need mapping first (`value_mapping`
    {column: {word: code}}, see `vocabulary_step`).
    """
    access.require(actor, "data.import")
    _check_kind(kind)
    spec = KINDS[kind]
    report = Progress(progress)
    filename, data = read_source(source, kind)
    report(0.0, f"Reading {filename}")
    data, text = decode(data, filename)
    summary = ImportSummary(kind=kind, dry_run=dry_run)
    raw, lines, problems = parse(data, text, spec, column_mapping, filename, summary.warnings)
    del text
    summary.rows = len(raw)
    report(0.1, f"Checking {len(raw):,} rows")
    spec = apply_vocabulary(db, spec, raw, lines, value_mapping, problems, summary.warnings)
    frame = validate(raw, lines, spec, problems, summary.warnings)
    report(0.3, "Looking up existing records")
    job = Job(
        spec=spec,
        filename=filename,
        frame=frame,
        raw=raw,
        problems=problems,
        summary=summary,
        dry_run=dry_run,
        actor_id=actor.employee_id,
        now=datetime.now(),
        progress=report,
    )
    try:
        _run(db, job, actor)
    except _INTEGRITY_ERRORS as exc:
        raise _refused_by_the_database(filename, exc) from exc
    report(1.0, "Checked, nothing written" if dry_run else "Done")
    return summary


def _check_kind(kind: str) -> None:
    if kind == "ledger":
        raise ImportFailed(
            "The ledger cannot be imported: it is append-only and written only by the app "
            "(allocations, gestures, approvals, corrections). Export it to read it; record budget "
            "corrections as adjustments in the app."
        )
    if kind not in IMPORT_KINDS:
        raise ImportFailed(f"Unknown import '{kind}'. Choose one of: {', '.join(IMPORT_KINDS)}.")


def _run(db: Database, job: Job, actor: Actor) -> None:
    """The kind's importer and the audit event, in one write unit (a read unit for a dry run)."""
    kind = job.spec.name
    # With problems already found, only look things up (to report them all at once), then refuse.
    unit = db.read() if job.dry_run or job.problems else db.write()
    with unit as session:
        job.session = session
        IMPORTERS[kind](job)
        if job.dry_run:
            return
        audit.record(
            session,
            actor,
            f"import.{kind}",
            kind,
            entity_id=job.filename[:64],
            detail={"file": job.filename, **job.summary.counts(), "warnings": len(job.summary.warnings)},
            at=job.now,
        )
        job.progress(0.97, "Saving")


def _refused_by_the_database(filename: str, exc: Exception) -> ImportFailed:
    orig = getattr(exc, "orig", None) or exc
    first_line = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    return ImportFailed(
        f"{filename} could not be saved because the database refused a row "
        f"({first_line}). This can happen when someone else changed the same records at the "
        "same time; nothing was imported. Try again.",
    )
