"""`import_csv`: read, check, then write in one unit of work, or refuse the whole file."""

from __future__ import annotations

from collections.abc import Mapping

from empowerment import access, audit
from empowerment.actor import Actor
from empowerment.clock import utc_now
from empowerment.csvformat import IMPORT_KINDS, KINDS, FileFormat
from empowerment.db import Database
from empowerment.errors import ImportFailed
from empowerment.services.importing import writing
from empowerment.services.importing.job import Job
from empowerment.services.importing.kinds import IDS_CHECKED_BY_THE_DATABASE, IMPORTERS
from empowerment.services.importing.problems import Problems
from empowerment.services.importing.reading import Source, decode, parse, read_source
from empowerment.services.importing.rejects import rejected_rows
from empowerment.services.importing.summary import ImportSummary, Progress, ProgressCallback
from empowerment.services.importing.validation import validate
from empowerment.services.importing.vocabulary_step import apply_vocabulary
from empowerment.services.importing.writing import INTEGRITY_ERRORS


def import_csv(
    db: Database,
    kind: str,
    source: Source,
    *,
    actor: Actor,
    dry_run: bool = False,
    column_mapping: Mapping[str, str] | None = None,
    progress: ProgressCallback | None = None,
    file_format: FileFormat | None = None,
    valid_rows_only: bool = False,
    value_mapping: Mapping[str, Mapping[str, str]] | None = None,
) -> ImportSummary:
    """Import one CSV file of `kind` (employees, customers, transactions, incidents, gestures).

    `source`: a path (str or Path), the file's bytes, or an open file / upload (binary or text).
    `file_format`: the separator, decimal mark and date format (detected where not given).
    All or nothing by default: raises `ImportFailed(message, problems)` and writes nothing when
    anything is wrong. With `valid_rows_only` the rows without a problem are written (in one
    transaction too) and the others come back in `summary.rejects` / `summary.problems`; only a
    file that cannot be read at all (encoding, header) is still refused whole.
    Words that name vocabulary terms (a gesture's type, an incident's category) are read as the
    organisation's words first; unknown ones need a mapping (`value_mapping` {column: {word:
    code}}, see `vocabulary_step`) and refuse the file as `UnknownValues`.
    """
    access.require(actor, "data.import")
    _check_kind(kind)
    spec = KINDS[kind]
    file_format = file_format or FileFormat()
    report = Progress(progress)
    filename, data = read_source(source, kind)
    report(0.0, f"Reading {filename}")
    data, text = decode(data, filename)
    summary = ImportSummary(kind=kind, dry_run=dry_run, date_format=file_format.date_format)
    raw, lines, problems, summary.delimiter = parse(
        data, text, spec, column_mapping, filename, summary.warnings, file_format
    )
    nul_bytes = "\x00" in text
    del text, data
    summary.rows = len(raw) + problems.count  # so far: one problem per unreadable record
    report(0.1, f"Checking {len(raw):,} rows")
    spec = apply_vocabulary(db, spec, raw, lines, value_mapping, problems, summary.warnings)
    # a big load of new transactions: their codes' unique index, built again, is the duplicate check
    ids_later = (kind in IDS_CHECKED_BY_THE_DATABASE and not dry_run and not valid_rows_only
                 and len(raw) >= writing.REBUILD_INDEXES_FROM_ROWS)
    frame, summary.decimal_mark = validate(
        raw, lines, spec, problems, summary.warnings, file_format, nul_bytes=nul_bytes, check_ids=not ids_later
    )
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
        now=utc_now(),
        progress=report,
        valid_rows_only=valid_rows_only,
        ids_checked=not ids_later,
    )
    if valid_rows_only:
        job.file_raw, job.file_lines = raw, lines
        _set_aside(job)
    try:
        _run(db, job, actor)
    except INTEGRITY_ERRORS as exc:
        raise _refused_by_the_database(filename, exc) from exc
    if valid_rows_only:
        _finish_rejects(job)
    report(1.0, "Checked, nothing written" if dry_run else "Done")
    return summary


def _set_aside(job: Job) -> None:
    """Importing the valid rows only: the rows with a problem so far leave the job (kept in
    `job.set_aside`); the job goes on with the others and a fresh problem list."""
    if not job.problems:
        return
    job.set_aside.append(job.problems)
    bad_lines = job.problems.lines()
    job.summary.rejected += len(bad_lines)
    keep = ~job.frame["line"].isin(bad_lines).to_numpy()
    job.frame = job.frame.loc[keep].reset_index(drop=True)
    job.raw = job.raw.loc[keep].reset_index(drop=True)
    job.problems = Problems(job.spec.names)
    summary = job.summary
    summary.inserted = summary.updated = summary.unchanged = 0
    summary.customers_created = summary.teams_created = summary.locations_created = 0


def _finish_rejects(job: Job) -> None:
    assert job.file_raw is not None and job.file_lines is not None
    every = Problems(job.spec.names)
    for part in job.set_aside:
        every.extend(part)
    job.summary.problems = every.as_list()
    job.summary.rejects = rejected_rows(job.file_raw, job.file_lines, every)


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
        _import_valid_rows(job) if job.valid_rows_only else IMPORTERS[kind](job)
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


def _import_valid_rows(job: Job) -> None:
    """Inside the import's one unit of work: rows the importer refuses (an unknown employee, a
    gesture logged in the app) are set aside and the importer runs again on the others. An
    importer refuses before it writes anything, so the unit holds only the final run's rows."""
    for _ in range(_MAX_SET_ASIDE_ROUNDS):
        if job.frame.empty:
            return
        try:
            IMPORTERS[job.spec.name](job)
            return
        except ImportFailed:
            if not job.problems:
                raise
            _set_aside(job)
    raise ImportFailed(f"{job.filename} kept showing new problems; nothing was imported. Try again.")


_MAX_SET_ASIDE_ROUNDS = 4  # references are checked against the database, so one more run is clean


def _refused_by_the_database(filename: str, exc: Exception) -> ImportFailed:
    orig = getattr(exc, "orig", None) or exc
    first_line = (str(orig).strip().splitlines() or [type(orig).__name__])[0]
    return ImportFailed(
        f"{filename} could not be saved because the database refused a row "
        f"({first_line}). This can happen when someone else changed the same records at the "
        "same time; nothing was imported. Try again.",
    )
