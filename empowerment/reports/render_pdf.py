"""The joint report as a PDF (reportlab): a title page with the plain-language summary, then the
sections Empowerment, Customer outcomes, Teams side by side and Stories.

Charts are the report's own Altair charts drawn offline by vl-convert (inline data, no URL may be
fetched). Every piece of text that came from people or the database is escaped before it becomes
Paragraph markup, so a note such as "<script>" or "<b>" is printed literally.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd
import reportlab
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    CondPageBreak,
    Image,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from empowerment.analytics.result import Figure
from empowerment.charts.report import to_png
from empowerment.reports import wording
from empowerment.reports.model import (
    MISSING,
    SECTIONS,
    JointReport,
    ReportChart,
    ReportTable,
    currency_symbol,
    format_value,
)

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path(reportlab.__file__).parent / "fonts")
FONT_FILES = (("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"), ("Vera.ttf", "VeraBd.ttf"))
GREEN = colors.HexColor("#1f6f5c")
PALE = colors.HexColor("#eef4f2")
GREY = colors.HexColor("#5b6462")
PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN = 1.8 * cm
CONTENT_WIDTH = PAGE_WIDTH - 2 * MARGIN
CHART_WIDTH = 14 * cm


@lru_cache(maxsize=1)
def fonts() -> tuple[str, str]:
    """(regular, bold): DejaVu Sans where the system has it, else reportlab's bundled Vera (both
    cover accented Latin, Greek and Cyrillic, unlike the built-in Helvetica)."""
    for directory in FONT_DIRS:
        for regular, bold in FONT_FILES:
            if (directory / regular).exists() and (directory / bold).exists():
                pdfmetrics.registerFont(TTFont("Report", str(directory / regular)))
                pdfmetrics.registerFont(TTFont("Report-Bold", str(directory / bold)))
                pdfmetrics.registerFontFamily("Report", normal="Report", bold="Report-Bold",
                                              italic="Report", boldItalic="Report-Bold")
                return "Report", "Report-Bold"
    return "Helvetica", "Helvetica-Bold"  # pragma: no cover - reportlab always ships Vera


@lru_cache(maxsize=1)
def styles() -> dict[str, ParagraphStyle]:
    regular, bold = fonts()
    body = ParagraphStyle("body", fontName=regular, fontSize=10, leading=14, alignment=TA_LEFT)
    return {
        "title": ParagraphStyle("title", parent=body, fontName=bold, fontSize=22, leading=27,
                                textColor=GREEN, spaceAfter=6),
        "subtitle": ParagraphStyle("subtitle", parent=body, fontSize=11, leading=15, textColor=GREY),
        "h1": ParagraphStyle("h1", parent=body, fontName=bold, fontSize=16, leading=20, textColor=GREEN,
                             spaceBefore=4, spaceAfter=8, keepWithNext=1),
        "h2": ParagraphStyle("h2", parent=body, fontName=bold, fontSize=11.5, leading=15, spaceBefore=10,
                             spaceAfter=3),
        "body": body,
        "summary": ParagraphStyle("summary", parent=body, fontSize=11, leading=16, spaceAfter=8),
        "caption": ParagraphStyle("caption", parent=body, fontSize=8, leading=10.5, textColor=GREY,
                                  spaceAfter=5),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8, leading=10),
        "cell_bold": ParagraphStyle("cell_bold", parent=body, fontName=bold, fontSize=8, leading=10),
        "figure": ParagraphStyle("figure", parent=body, fontName=bold, fontSize=17, leading=20, textColor=GREEN),
        "figure_label": ParagraphStyle("figure_label", parent=body, fontSize=8.5, leading=11, textColor=GREY),
        "story": ParagraphStyle("story", parent=body, fontSize=10, leading=14, leftIndent=8),
        "story_by": ParagraphStyle("story_by", parent=body, fontSize=8.5, leading=11, textColor=GREY,
                                   leftIndent=8, spaceAfter=8),
    }


def para(text: object, style: str = "body") -> Paragraph:
    """User or database text, escaped: never markup."""
    return Paragraph(escape(str(text)), styles()[style])


def _footer(report: JointReport):  # type: ignore[no-untyped-def]
    regular, _bold = fonts()
    label = f"{report.title} · {report.scope_label} · confidential: HR and CX leads"

    def draw(canvas, doc) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont(regular, 7.5)
        canvas.setFillColor(GREY)
        canvas.drawString(MARGIN, 1.0 * cm, label[:150])
        canvas.drawRightString(PAGE_WIDTH - MARGIN, 1.0 * cm, f"Page {doc.page}")
        canvas.restoreState()

    return draw


def key_figures(report: JointReport) -> Table:
    payoff = report.payoff
    staff = report.tables["staff"].frame.iloc[-1]
    overall = payoff.overall.raw_incidents
    recovered_share = payoff.recovered.raw_incidents / overall if overall else None
    uplift = payoff.return_uplift
    figures = [
        (format_value(staff["Share who used it"], "percent"), "of front-line staff used their budget"),
        (format_value(recovered_share, "percent"), "of incidents were recovered"),
        _shown(uplift, "points", f"customers back within {report.horizon_days} days, associated with recovery "
               f"({wording.range_text(uplift, 'points')}; observational)"),
        _shown(payoff.incremental_margin_cents, "money",
               f"extra margin, estimated ({wording.range_text(payoff.incremental_margin_cents, 'money')}; "
               f"{payoff.margin_label})"),
        (wording.round_money(payoff.spend_cents), "spent on recovery gestures"),
        _shown(payoff.cost_of_inaction_cents, "money",
               f"cost of inaction, estimated ({wording.range_text(payoff.cost_of_inaction_cents, 'money')}; "
               f"net of gesture cost, {payoff.margin_label})"),
    ]
    cells = [[para(value, "figure"), para(label, "figure_label")] for value, label in figures]
    rows = [[cells[i][0], cells[i + 1][0], cells[i + 2][0]] for i in (0, 3)]
    labels = [[cells[i][1], cells[i + 1][1], cells[i + 2][1]] for i in (0, 3)]
    table = Table([rows[0], labels[0], rows[1], labels[1]], colWidths=[CONTENT_WIDTH / 3] * 3)
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), PALE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 6), ("BOTTOMPADDING", (0, 1), (-1, 1), 10),
        ("LEFTPADDING", (0, 0), (-1, -1), 10),
    ]))
    return table


def _shown(figure: Figure, unit: str, label: str) -> tuple[str, str]:
    """(big value, label): the reason in the label, never a number, when the figure is not reliable."""
    if not figure.shown:
        return MISSING, f"{label.split(' (')[0]}: not shown. {figure.reason}"
    return wording.value_text(figure, unit), label


def title_page(report: JointReport) -> list[object]:
    who = ("Customer names are included at the reader's request; this was recorded in the audit log."
           if report.include_identities else "Customers are shown by stable pseudonyms.")
    flow: list[object] = [
        Spacer(1, 1.2 * cm),
        para(report.title, "title"),
        para(f"{report.window.label} ({report.window.start:%d %b %Y} – {report.window.last_day:%d %b %Y}) · "
             f"{report.location or 'All locations'}", "subtitle"),
        para(f"Generated {report.generated_at:%d %b %Y %H:%M}; purchases seen up to {report.as_of[:10]}. {who}",
             "subtitle"),
        Spacer(1, 0.6 * cm),
        key_figures(report),
        Spacer(1, 0.6 * cm),
        para("Summary", "h1"),
    ]
    flow += [para(paragraph, "summary") for paragraph in report.summary]
    if report.warnings:
        flow.append(para("Notes on the figures", "h2"))
        flow += [para(warning, "caption") for warning in report.warnings]
    flow.append(PageBreak())
    return flow


def _column_widths(table: ReportTable, shown: pd.DataFrame) -> list[float]:
    """Widths from the content: no column narrower than its longest header word or number, the
    rest of the page shared out in proportion to each column's longest text."""
    regular, bold = fonts()
    padding = 14.0
    least, wanted = [], []
    for column in shown.columns:
        words = [pdfmetrics.stringWidth(word, bold, 8)
                 for word in str(column).replace(" %", "\u00a0%").split(" ")] or [0.0]
        values = [pdfmetrics.stringWidth(str(value), bold, 8) for value in shown[column]]
        if table.formats.get(column, "text") == "text":  # wrap between words, never inside one
            values_least = [pdfmetrics.stringWidth(word, bold, 8)
                            for value in shown[column] for word in str(value).split()]
            values_least = [min(max(values_least, default=0.0), 0.3 * CONTENT_WIDTH)]
        else:
            values_least = values
        least.append(max(words + values_least) + padding)
        wanted.append(max([pdfmetrics.stringWidth(str(column), bold, 8)] + values) + padding)
    if sum(wanted) <= CONTENT_WIDTH:
        spare = (CONTENT_WIDTH - sum(wanted)) / len(wanted)
        return [w + spare for w in wanted]
    room = max(CONTENT_WIDTH - sum(least), 0.0)
    extra = [max(w - m, 0.0) for w, m in zip(wanted, least, strict=True)]
    share = room / sum(extra) if sum(extra) else 0.0
    return [m + e * share for m, e in zip(least, extra, strict=True)]


def data_table(table: ReportTable) -> Table:
    shown = table.formatted()
    header = [para(str(column).replace(" %", "\u00a0%"), "cell_bold") for column in shown.columns]
    last = len(shown) - 1
    body = [
        [para(value, "cell_bold" if table.total_row and row == last else "cell") for value in shown.iloc[row]]
        for row in range(len(shown))
    ]
    grid = Table([header, *body], colWidths=_column_widths(table, shown), repeatRows=1)
    style = [
        ("BACKGROUND", (0, 0), (-1, 0), PALE),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, GREEN),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#d6dedb")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if table.total_row and len(shown):
        style.append(("LINEABOVE", (0, -1), (-1, -1), 0.6, GREEN))
    grid.setStyle(TableStyle(style))
    return grid


def chart_block(chart: ReportChart, png: bytes) -> KeepTogether:
    image = Image(io.BytesIO(png))
    scale = CHART_WIDTH / image.imageWidth
    image.drawWidth, image.drawHeight = CHART_WIDTH, image.imageHeight * scale
    return KeepTogether([para(chart.title, "h2"), image, para(chart.caption, "caption")])


def story_blocks(table: ReportTable) -> list[object]:
    frame, symbol = table.frame, currency_symbol()
    if frame.empty:
        return [para("No recovery stories with a note in this period yet.", "body")]
    flow: list[object] = [para(table.caption, "caption")]
    for _, story in frame.iterrows():
        star = "★ Chosen by a manager · " if story["Chosen by a manager"] else ""
        by = (f"{star}{story['Employee']} ({story['Team']}) · {story['Gesture']}, "
              f"{format_value(story['Cost'], 'money', symbol)} · {story['Customer']} · "
              f"{format_value(story['When'], 'date')}")
        flow.append(KeepTogether([para(f"“{story['Story']}”", "story"), para(by, "story_by")]))
    return flow


def section(report: JointReport, name: str, images: dict[str, bytes]) -> list[object]:
    """A section: charts without a table of their own first, then each table after its chart."""
    tables = report.tables_in(name)
    table_keys = {table.key for table in tables}
    flow: list[object] = [CondPageBreak(8 * cm), para(name, "h1")]
    flow += [chart_block(c, images[c.key]) for c in report.charts_in(name) if c.key not in table_keys]
    for table in tables:
        if table.key in report.charts:
            flow.append(chart_block(report.charts[table.key], images[table.key]))
        if table.key == "stories":
            flow += story_blocks(table)
            continue
        # A long table may split across pages (its header repeats); its title never sits alone.
        flow += [CondPageBreak(4.5 * cm), para(table.title, "h2"), para(table.caption, "caption"),
                 data_table(table)]
    return flow


def render_pdf(report: JointReport) -> bytes:
    images = {key: to_png(chart.chart, scale=2) for key, chart in report.charts.items()}
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=MARGIN, rightMargin=MARGIN, topMargin=MARGIN, bottomMargin=MARGIN,
        title=report.title, subject=report.scope_label, author="Empowerment",
    )
    flow = title_page(report)
    for name in SECTIONS:
        flow += section(report, name, images)
    footer = _footer(report)
    document.build(flow, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
