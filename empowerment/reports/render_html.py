"""The joint report as one self-contained HTML file: no script, no external request.

Every piece of text goes through `html.escape`; charts are PNG data URIs drawn offline by
vl-convert; a Content-Security-Policy forbids scripts and any fetch, so even a mistake in
escaping could not run code or call out when the file is opened.
"""

from __future__ import annotations

import base64
from html import escape

from empowerment.charts.report import to_png
from empowerment.reports.model import SECTIONS, JointReport, ReportChart, ReportTable

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
CSS = """
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;color:#1d2423;max-width:60rem;margin:2rem auto;
padding:0 1rem;line-height:1.45}
h1{color:#1f6f5c;margin-bottom:.2rem}h2{color:#1f6f5c;border-bottom:2px solid #1f6f5c;padding-bottom:.2rem;
margin-top:2.5rem}h3{margin:1.6rem 0 .2rem}.muted,.caption{color:#5b6462;font-size:.85rem}
table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.4rem 0 1rem}
th{background:#eef4f2;text-align:left;border-bottom:2px solid #1f6f5c}
th,td{padding:.3rem .45rem;vertical-align:top}td{border-bottom:1px solid #d6dedb}
td.n{text-align:right;white-space:nowrap}tr.total td{font-weight:bold;border-top:2px solid #1f6f5c}
.summary p{font-size:1.05rem}img{max-width:100%;height:auto}
"""
NUMERIC = {"int", "money", "percent", "points", "number", "number2", "hours", "days"}


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def table_html(table: ReportTable) -> str:
    shown = table.formatted()
    head = "".join(f"<th>{_e(column)}</th>" for column in shown.columns)
    rows = []
    last = len(shown) - 1
    for row in range(len(shown)):
        cells = "".join(
            f'<td class="{"n" if table.cell_format(row, column) in NUMERIC else "t"}">{_e(shown.iloc[row, i])}</td>'
            for i, column in enumerate(shown.columns)
        )
        css = ' class="total"' if table.total_row and row == last else ""
        rows.append(f"<tr{css}>{cells}</tr>")
    return (f"<h3>{_e(table.title)}</h3><p class=\"caption\">{_e(table.caption)}</p>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def chart_html(chart: ReportChart) -> str:
    data = base64.b64encode(to_png(chart.chart, scale=2)).decode("ascii")
    return (f"<figure><h3>{_e(chart.title)}</h3><img alt=\"{_e(chart.title)}\" "
            f"src=\"data:image/png;base64,{data}\"><figcaption class=\"caption\">{_e(chart.caption)}"
            "</figcaption></figure>")


def render_html(report: JointReport) -> bytes:
    who = ("Customer names are included at the reader's request (recorded in the audit log)."
           if report.include_identities else "Customers are shown by stable pseudonyms.")
    parts = [
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">",
        "<meta name=\"referrer\" content=\"no-referrer\">",
        f"<title>{_e(report.title)} · {_e(report.scope_label)}</title><style>{CSS}</style></head><body>",
        f"<h1>{_e(report.title)}</h1>",
        f"<p class=\"muted\">{_e(report.window.label)} ({report.window.start:%d %b %Y} – "
        f"{report.window.last_day:%d %b %Y}) · {_e(report.location or 'All locations')} · generated "
        f"{report.generated_at:%d %b %Y %H:%M}; purchases seen up to {_e(report.as_of[:10])}. {_e(who)}</p>",
        "<section class=\"summary\"><h2>Summary</h2>",
        *(f"<p>{_e(paragraph)}</p>" for paragraph in report.summary),
        *(f"<p class=\"caption\">{_e(warning)}</p>" for warning in report.warnings),
        "</section>",
    ]
    for name in SECTIONS:
        parts.append(f"<section><h2>{_e(name)}</h2>")
        parts += [chart_html(chart) for chart in report.charts_in(name)]
        parts += [table_html(table) for table in report.tables_in(name)]
        parts.append("</section>")
    parts.append("</body></html>")
    return "".join(parts).encode("utf-8")
