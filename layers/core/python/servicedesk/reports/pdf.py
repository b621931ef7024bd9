"""A report as PDF: a title block (report, range, time zone, filters, generated at), a chart
drawn server-side with reportlab's own graphics (no matplotlib: the Lambda layer stays
lean), then the table, paginated with its header repeated on every page.

Reads only ``ReportResult`` (reports/schemas.py). Every text that came from a tenant (team,
agent, category names) is escaped before it reaches reportlab's paragraph markup. The
standard PDF fonts cover Latin-1; other scripts show as missing glyphs (embedding a
Unicode TTF would add megabytes to the layer).
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from datetime import date, datetime
from html import escape
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import (
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

from servicedesk.reports.schemas import Measure, ReportResult, ReportRow

MEDIA_TYPE = "application/pdf"
# Series and categories a chart shows at most: past that it is unreadable; the table has all.
MAX_SERIES = 8
MAX_CATEGORIES = 60
# Category labels shown along the axis at most (every n-th beyond that).
MAX_AXIS_LABELS = 16
PALETTE = (
    colors.HexColor("#2563eb"),
    colors.HexColor("#16a34a"),
    colors.HexColor("#dc2626"),
    colors.HexColor("#9333ea"),
    colors.HexColor("#ea580c"),
    colors.HexColor("#0891b2"),
    colors.HexColor("#ca8a04"),
    colors.HexColor("#4b5563"),
)
PAGE = landscape(A4)
MARGIN = 15 * mm
CHART_HEIGHT = 70 * mm
DASH = "\u2014"


def duration(seconds: float) -> str:
    """``2d 3h``, ``3h 25m``, ``45m``, ``40s``: at most two units."""
    total = round(seconds)
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes}m"
    if minutes:
        return f"{sign}{minutes}m"
    return f"{sign}{secs}s"


def format_value(value: float | int | None, unit: str) -> str:
    """A measure's value as a reader wants it: durations as h/m, ratios as %."""
    if value is None:
        return DASH
    if unit == "seconds":
        return duration(float(value))
    if unit == "ratio":
        return f"{float(value) * 100:.1f}%"
    if unit == "score":
        return f"{float(value):.2f}"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def _stamp(value: datetime, tz: str | None = None) -> str:
    """In the report's time zone (as the report counts), else as given."""
    if tz is not None:
        with contextlib.suppress(ZoneInfoNotFoundError, ValueError):
            value = value.astimezone(ZoneInfo(tz))
    return value.strftime("%Y-%m-%d %H:%M %Z").strip()


def _bucket_label(bucket: date | None, interval: str | None) -> str:
    if bucket is None:
        return ""
    if interval == "month":
        return bucket.strftime("%Y-%m")
    return bucket.isoformat()


def _row_label(row: ReportRow, result: ReportResult) -> tuple[str, ...]:
    cells: list[str] = []
    if result.interval is not None:
        cells.append(_bucket_label(row.bucket, result.interval))
    if result.group_by is not None:
        cells.append(row.group.label if row.group else DASH)
    return tuple(cells)


def _chart_measures(result: ReportResult) -> list[Measure]:
    """The measures drawn together: those sharing the first measure's unit (one axis)."""
    if not result.measures:
        return []
    unit = result.measures[0].unit
    return [m for m in result.measures if m.unit == unit][:MAX_SERIES]


def _axis_value(value: float | int | None, unit: str) -> float | None:
    if value is None:
        return None
    if unit == "seconds":
        return float(value) / 3600  # hours on the axis
    if unit == "ratio":
        return float(value) * 100
    return float(value)


def _axis_title(unit: str) -> str:
    return {"seconds": "hours", "ratio": "%", "score": "score"}.get(unit, "count")


def chart_data(result: ReportResult) -> tuple[list[str], list[str], list[list[float | None]]]:
    """(categories, series names, values per series) as the chart draws them.

    Rows in buckets: categories are the buckets; the series are the groups (first measure)
    or, without groups, the measures of the first measure's unit. Rows by group only:
    categories are the groups, the series the measures.
    """
    measures = _chart_measures(result)
    if not measures:
        return [], [], []
    unit = measures[0].unit
    bucketed = result.interval is not None and any(r.bucket for r in result.rows)
    if bucketed:
        buckets = sorted({r.bucket for r in result.rows if r.bucket is not None})[-MAX_CATEGORIES:]
        index = {b: n for n, b in enumerate(buckets)}
        categories = [_bucket_label(b, result.interval) for b in buckets]
        if result.group_by is not None:
            names, values = _series_by_group(result, measures[0], index)
            return categories, names, values
        series: list[list[float | None]] = [[None] * len(buckets) for _ in measures]
        for row in result.rows:
            if row.bucket in index:
                for s, measure in enumerate(measures):
                    series[s][index[row.bucket]] = _axis_value(row.values.get(measure.key), unit)
        return categories, [m.label for m in measures], series
    rows = result.rows[:MAX_CATEGORIES]
    categories = [r.group.label if r.group else DASH for r in rows]
    values = [[_axis_value(r.values.get(m.key), unit) for r in rows] for m in measures]
    return categories, [m.label for m in measures], values


def _series_by_group(
    result: ReportResult, measure: Measure, index: dict[date, int]
) -> tuple[list[str], list[list[float | None]]]:
    """One series per group (the first ``MAX_SERIES`` met) of ``measure`` over the buckets."""
    by_group: dict[str, list[float | None]] = {}
    for row in result.rows:
        if row.bucket is None or row.bucket not in index:
            continue
        label = row.group.label if row.group else DASH
        if label not in by_group:
            if len(by_group) >= MAX_SERIES:
                continue
            by_group[label] = [None] * len(index)
        by_group[label][index[row.bucket]] = _axis_value(row.values.get(measure.key), measure.unit)
    return list(by_group), list(by_group.values())


def _thin(labels: list[str]) -> list[str]:
    step = max(1, -(-len(labels) // MAX_AXIS_LABELS))
    return [label if n % step == 0 else "" for n, label in enumerate(labels)]


def _short(label: str, limit: int = 18) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "\u2026"


def chart(result: ReportResult, width: float) -> Drawing | None:
    """The report's chart (``result.chart``), or None for a table or nothing to draw."""
    if result.chart == "table":
        return None
    categories, names, series = chart_data(result)
    if not categories or not series:
        return None
    unit = _chart_measures(result)[0].unit
    drawing = Drawing(width, CHART_HEIGHT)
    plot: HorizontalLineChart | VerticalBarChart
    if result.chart == "line":
        plot = HorizontalLineChart()
        plot.joinedLines = 1
        for n in range(len(series)):
            plot.lines[n].strokeColor = PALETTE[n % len(PALETTE)]
            plot.lines[n].strokeWidth = 1.5
    else:
        plot = VerticalBarChart()
        if result.chart == "stacked_bar":
            plot.categoryAxis.style = "stacked"
        for n in range(len(series)):
            plot.bars[n].fillColor = PALETTE[n % len(PALETTE)]
            plot.bars[n].strokeColor = None
    plot.x, plot.y = 40, 30
    plot.width = int(width - 40 - 150)
    plot.height = int(CHART_HEIGHT - 45)
    # reportlab skips None points in lines; bars need numbers.
    plot.data = [
        tuple(v if v is not None or result.chart == "line" else 0 for v in s) for s in series
    ]
    plot.categoryAxis.categoryNames = _thin([_short(c) for c in categories])
    plot.categoryAxis.labels.fontSize = 6
    plot.categoryAxis.labels.angle = 30 if len(categories) > 6 else 0
    plot.categoryAxis.labels.boxAnchor = "ne" if len(categories) > 6 else "n"
    plot.valueAxis.labels.fontSize = 7
    plot.valueAxis.forceZero = 1
    if all(v is None for s in series for v in s):
        plot.valueAxis.valueMin, plot.valueAxis.valueMax = 0, 1
    drawing.add(plot)
    drawing.add(String(0, CHART_HEIGHT - 10, _axis_title(unit), fontSize=7))
    legend = Legend()
    legend.x, legend.y = int(width - 140), int(CHART_HEIGHT - 15)
    legend.fontSize = 7
    legend.alignment = "right"
    legend.colorNamePairs = [
        (PALETTE[n % len(PALETTE)], _short(name, 24)) for n, name in enumerate(names)
    ]
    drawing.add(legend)
    return drawing


def _filters(result: ReportResult) -> str:
    if not result.filters:
        return "none"
    return ", ".join(f"{key} = {value}" for key, value in sorted(result.filters.items()))


def _title_block(result: ReportResult, styles: Any) -> list[Flowable]:
    small = ParagraphStyle("meta", parent=styles["Normal"], fontSize=9, leading=12)
    lines = [
        ("Report", result.report),
        (
            "Range",
            f"{_stamp(result.since, result.tz)} to {_stamp(result.until, result.tz)}"
            " (end excluded)",
        ),
        ("Time zone", result.tz),
        ("Interval", result.interval or DASH),
        ("Grouped by", result.group_by or DASH),
        ("Filters", _filters(result)),
        ("Generated at", _stamp(result.generated_at)),
    ]
    block: list[Flowable] = [Paragraph(escape(result.title), styles["Title"])]
    block += [Paragraph(f"<b>{escape(k)}:</b> {escape(v)}", small) for k, v in lines]
    return block


def _table(result: ReportResult, width: float) -> LongTable | None:
    label_columns: list[str] = []
    if result.interval is not None:
        label_columns.append(result.interval.capitalize())
    if result.group_by is not None:
        label_columns.append(result.group_by.capitalize())
    header = label_columns + [m.label for m in result.measures]
    if not header:
        return None
    body: list[Sequence[str]] = [
        (
            *_row_label(row, result),
            *(format_value(row.values.get(m.key), m.unit) for m in result.measures),
        )
        for row in result.rows
    ]
    if result.totals:
        pad = ["Total"] + [""] * (len(label_columns) - 1) if label_columns else []
        body.append(
            (*pad, *(format_value(result.totals.get(m.key), m.unit) for m in result.measures))
        )
    cell = ParagraphStyle("cell", fontName="Helvetica", fontSize=8, leading=10)
    head = ParagraphStyle("head", parent=cell, fontName="Helvetica-Bold")
    number = ParagraphStyle("number", parent=cell, alignment=TA_RIGHT)
    head_number = ParagraphStyle("head_number", parent=head, alignment=TA_RIGHT)
    labels = len(label_columns)
    data = [
        [Paragraph(escape(h), head if n < labels else head_number) for n, h in enumerate(header)]
    ]
    data += [
        [Paragraph(escape(c), cell if n < labels else number) for n, c in enumerate(row)]
        for row in body
    ]
    table = LongTable(data, colWidths=[width / len(header)] * len(header), repeatRows=1)
    style: list[Any] = [
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e5e7eb")),
        ("LINEBELOW", (0, 0), (-1, 0), 0.75, colors.HexColor("#6b7280")),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f9fafb")]),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if result.totals:
        style.append(("LINEABOVE", (0, -1), (-1, -1), 0.75, colors.HexColor("#6b7280")))
    table.setStyle(TableStyle(style))
    return table


def _footer(canvas: Any, doc: Any) -> None:
    canvas.saveState()
    canvas.setFont("Helvetica", 7)
    canvas.setFillColor(colors.HexColor("#6b7280"))
    canvas.drawRightString(PAGE[0] - MARGIN, MARGIN / 2, f"Page {doc.page}")
    canvas.drawString(MARGIN, MARGIN / 2, doc.title)
    canvas.restoreState()


def render(result: ReportResult) -> bytes:
    """The report as PDF bytes."""
    styles = getSampleStyleSheet()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=result.title,
        author="Servicedesk",
        subject=f"{result.report} report",
        creator="Servicedesk",
    )
    width = PAGE[0] - 2 * MARGIN
    story: list[Flowable] = _title_block(result, styles)
    story.append(Spacer(1, 6 * mm))
    drawing = chart(result, width)
    if drawing is not None:
        story += [drawing, Spacer(1, 6 * mm)]
    table = _table(result, width)
    if table is not None:
        story.append(table)
    if not result.rows:
        story.append(Paragraph("No data in this range.", styles["Normal"]))
    for note in result.notes:
        story.append(Paragraph(escape(note), styles["Italic"]))
    doc.build(story, onFirstPage=_footer, onLaterPages=_footer)
    return out.getvalue()
