"""The joint report at scale: a year of the large demo data, as a PDF, end to end.

    python benchmarks/bench_report.py [--scale 20] [--keep] [--screenshot docs/screenshots/report-page1.png]

1. Generates the demo organisation (`empowerment.demo.generate_demo`, seed 7) at `--scale` into a
   SQLite file under /tmp (kept with `--keep`, reused when it is already there).
2. Times `python -m empowerment report --format pdf` for the 365 days ending on the last incident,
   in a child process: imports, SQL reads, linking, the adjusted payoff with its bootstrap, the
   empowerment SQL, three charts through vl-convert (cold) and the PDF. Target: <= 15 s.
3. Times the same build in this process, split into "assemble" and each renderer, and checks the
   PDF opens and the workbook's totals match the report's tables.
4. Times "assemble" once more with the payoff read from the store (`reports.computed`: what a
   reader gets when someone, or the worker, worked the figures out on this data already).
Both timed builds first forget the stored figures, so they measure working the payoff out.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from empowerment.actor import Actor  # noqa: E402
from empowerment.db import Database  # noqa: E402
from empowerment.queries import report_metrics  # noqa: E402

TARGET_SECONDS = 15.0


def demo_database(scale: float, keep: bool) -> tuple[Path, float | None]:
    path = Path(tempfile.gettempdir()) / f"empowerment-bench-report-s{scale:g}.db"
    if keep and path.exists():
        return path, None
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    from empowerment.demo import generate_demo

    started = time.perf_counter()
    database = Database(f"sqlite:///{path}")
    generate_demo(database, seed=7, scale=scale)
    database.dispose()
    return path, time.perf_counter() - started


def counts(database: Database) -> dict[str, int]:
    from sqlalchemy import func, select

    from empowerment.models import Customer, Gesture, Incident, Transaction

    with database.read() as session:
        return {model.__tablename__: int(session.scalar(select(func.count()).select_from(model)) or 0)
                for model in (Customer, Incident, Gesture, Transaction)}


def cli_seconds(url: str, first: str, last: str, out: Path) -> tuple[float, float, float]:
    """Wall time, CPU time (user + system: what the wall time would be on an idle core; the
    machine may be shared) and peak RSS of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "empowerment", "report", "--database-url", url, "--from", first, "--to", last,
         "--format", "pdf", "--out", str(out)],
        cwd=ROOT, check=True, capture_output=True,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, after.ru_maxrss / 1024


def clear_stored(database: Database) -> None:
    """Forget the stored figures (a kept file, or the run before, has some): the next build works out."""
    with database.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM computed_results")


def in_process(database: Database, first: str, last: str, screenshot: Path | None) -> dict[str, float]:
    from openpyxl import load_workbook
    from pypdf import PdfReader

    from empowerment.reports.assemble import ReportRequest, build_joint_report
    from empowerment.reports.render_html import render_html
    from empowerment.reports.render_pdf import render_pdf
    from empowerment.reports.render_xlsx import SHEET_NAMES, render_xlsx

    times: dict[str, float] = {}
    clear_stored(database)
    started = time.perf_counter()
    report = build_joint_report(database, Actor.system("bench"), ReportRequest(date_from=first, date_to=last))
    times["assemble"] = time.perf_counter() - started
    started = time.perf_counter()
    build_joint_report(database, Actor.system("bench"), ReportRequest(date_from=first, date_to=last))
    times["assemble_stored"] = time.perf_counter() - started
    outputs = {}
    for name, render in (("pdf", render_pdf), ("xlsx", render_xlsx), ("html", render_html)):
        started = time.perf_counter()
        outputs[name] = render(report)
        times[name] = time.perf_counter() - started
    pages = len(PdfReader(io.BytesIO(outputs["pdf"])).pages)
    workbook = load_workbook(io.BytesIO(outputs["xlsx"]), read_only=True)
    staff = list(workbook[SHEET_NAMES["staff"]].values)
    spent_column = staff[0].index("Spent")
    assert abs(staff[-1][spent_column] - report.tables["staff"].frame.iloc[-1]["Spent"]) < 0.005
    times["pages"] = pages
    times["rows"] = len(report.rows)
    if screenshot is not None:
        import pypdfium2 as pdfium

        document = pdfium.PdfDocument(outputs["pdf"])
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        document[0].render(scale=1.5).to_pil().save(screenshot)
        document.close()
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=20.0, help="demo scale (20 = the largest)")
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the demo database")
    parser.add_argument("--screenshot", type=Path, help="save page 1 of the PDF as a PNG here")
    args = parser.parse_args()
    path, generated = demo_database(args.scale, args.keep)
    url = f"sqlite:///{path}"
    database = Database(url)
    with database.read() as session:
        span = report_metrics.incident_span(session)
    assert span is not None, "the demo wrote no incidents"
    last = span[1]
    first = last - timedelta(days=364)
    sizes = counts(database)
    made = f"generated in {generated:.0f} s" if generated is not None else "reused"
    print(f"report: demo scale {args.scale:g} ({made}): {sizes['customers']:,} customers, "
          f"{sizes['incidents']:,} incidents, {sizes['gestures']:,} gestures, "
          f"{sizes['transactions']:,} transactions; report year {first} to {last}")
    clear_stored(database)
    with tempfile.TemporaryDirectory() as folder:
        seconds, cpu, peak_mb = cli_seconds(url, first.isoformat(), last.isoformat(), Path(folder) / "report.pdf")
    verdict = "OK" if seconds <= TARGET_SECONDS else "OVER TARGET"
    load = os.getloadavg()[0]
    print(f"report: `python -m empowerment report --format pdf` for the year: {seconds:.1f} s end to end "
          f"(target <= {TARGET_SECONDS:.0f} s: {verdict}), {cpu:.1f} s of CPU; child peak RSS {peak_mb:.0f} MB; "
          f"load average {load:.1f} on {os.cpu_count()} cores")
    times = in_process(database, first.isoformat(), last.isoformat(), args.screenshot)
    print(f"report: in process: assemble {times['assemble']:.1f} s, PDF {times['pdf']:.1f} s "
          f"({times['pages']:.0f} pages), XLSX {times['xlsx']:.1f} s ({times['rows']:,.0f} incident rows), "
          f"HTML {times['html']:.1f} s; assemble with the payoff read from the store {times['assemble_stored']:.1f} s")
    database.dispose()
    if not args.keep:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return 0 if seconds <= TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
