"""The PDF renderer: the document opens (PDFium, the engine Chrome uses), its pages render
to pixels that are not blank, the chart is drawn where the chart goes, the table's header
is repeated on every page, and measures read as their units say."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pypdfium2 as pdfium
import pytest

from servicedesk.reports import pdf
from servicedesk.reports.schemas import GroupKey, Measure, ReportResult, ReportRow

SINCE = datetime(2026, 3, 1, tzinfo=UTC)


def _volume(days: int = 14, *, chart: str = "line") -> ReportResult:
    rows = [
        ReportRow(
            bucket=date(2026, 3, 1) + timedelta(days=n),
            values={"created": 10 + n, "resolved": 5 + n % 4, "reopened": n % 2},
        )
        for n in range(days)
    ]
    return ReportResult(
        report="volume",
        title="Ticket volume",
        since=SINCE,
        until=SINCE + timedelta(days=days),
        tz="Europe/Paris",
        interval="day",
        filters={"team_id": "7c2d5a1e-0000-4000-8000-000000000001", "priority": "high"},
        measures=[
            Measure(key="created", label="Created", unit="count"),
            Measure(key="resolved", label="Resolved", unit="count"),
            Measure(key="reopened", label="Reopened", unit="count"),
        ],
        rows=rows,
        totals={"created": sum(r.values["created"] or 0 for r in rows)},
        chart=chart,  # type: ignore[arg-type]
        generated_at=datetime(2026, 3, 20, 8, 30, tzinfo=UTC),
        notes=["Created counts tickets by their creation in the range."],
    )


def _by_agent(agents: int) -> ReportResult:
    return ReportResult(
        report="agent-performance",
        title="Agent performance",
        since=SINCE,
        until=SINCE + timedelta(days=30),
        tz="UTC",
        group_by="agent",
        measures=[
            Measure(key="handled", label="Handled", unit="count"),
            Measure(key="median_response", label="Median first response", unit="seconds"),
            Measure(key="sla", label="SLA met", unit="ratio"),
            Measure(key="csat", label="CSAT", unit="score"),
        ],
        rows=[
            ReportRow(
                group=GroupKey(id=str(n), label=f"Agent <{n}> & co"),
                values={
                    "handled": 100 + n,
                    "median_response": 3600 * 3 + 25 * 60,
                    "sla": 0.935,
                    "csat": 4.25 if n % 3 else None,
                },
            )
            for n in range(agents)
        ],
        chart="bar",
        generated_at=datetime(2026, 3, 31, tzinfo=UTC),
    )


def _pages(data: bytes) -> list[tuple[str, int]]:
    """(text, non-white pixels) of each page, rendered by PDFium at 1x."""
    document = pdfium.PdfDocument(data)
    try:
        out = []
        for page in document:
            image = page.render(scale=1, grayscale=True).to_pil().convert("L")
            ink = sum(1 for value in image.tobytes() if value < 200)
            text = page.get_textpage().get_text_range()
            out.append((text, ink))
        return out
    finally:
        document.close()


def _chart_ink(data: bytes) -> int:
    """Coloured (non-grey) pixels on the first page: the chart's lines or bars."""
    document = pdfium.PdfDocument(data)
    try:
        image = document[0].render(scale=1).to_pil().convert("RGB")
        raw = image.tobytes()
        return sum(
            1 for i in range(0, len(raw), 3) if max(raw[i : i + 3]) - min(raw[i : i + 3]) > 60
        )
    finally:
        document.close()


def test_line_report_opens_and_renders_title_chart_and_table():
    data = pdf.render(_volume())
    assert data.startswith(b"%PDF-")
    pages = _pages(data)
    assert all(ink > 500 for _, ink in pages)  # no blank page
    assert pages[0][1] > 2000
    text = "".join(text for text, _ in pages)
    for expected in (
        "Ticket volume",
        "Europe/Paris",
        "2026-03-01 01:00 CET",
        "priority = high",
        "2026-03-14",
        "Total",
    ):
        assert expected in text
    assert _chart_ink(data) > 500  # coloured lines: the chart is drawn


def test_table_only_report_draws_no_chart():
    data = pdf.render(_volume(chart="table"))
    assert _chart_ink(data) < 50
    assert "Created" in _pages(data)[0][0]


def test_long_table_paginates_with_header_repeated():
    data = pdf.render(_by_agent(120))
    pages = _pages(data)
    assert len(pages) >= 3
    for text, ink in pages:
        assert ink > 500
        assert "Median first response" in text  # the header on every page
    everything = "".join(text for text, _ in pages)
    assert "Agent <119> & co" in everything  # escaped markup, shown as written
    assert len(re.findall(r"Agent <\s*\d+> &\s*co\s+\d+\s+3h 25m\s+93\.5%", everything)) == 120


def test_bars_by_group_are_drawn():
    assert _chart_ink(pdf.render(_by_agent(5))) > 500


def test_stacked_bars_and_series_by_group_over_buckets():
    result = _volume(7, chart="stacked_bar").model_copy(update={"group_by": "team"})
    rows = []
    for row in result.rows:
        for team in ("Network", "Desk"):
            rows.append(row.model_copy(update={"group": GroupKey(id=team, label=team)}))
    result = result.model_copy(update={"rows": rows})
    categories, names, series = pdf.chart_data(result)
    assert names == ["Network", "Desk"] and len(categories) == 7
    assert series[0][0] == 10
    assert _chart_ink(pdf.render(result)) > 500


def test_empty_report_still_renders():
    result = _volume(0)
    text, ink = _pages(pdf.render(result))[0]
    assert "No data in this range" in text and ink > 500


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (3600 * 3 + 25 * 60, "seconds", "3h 25m"),
        (45 * 60, "seconds", "45m"),
        (40, "seconds", "40s"),
        (2 * 86400 + 3 * 3600 + 59, "seconds", "2d 3h"),
        (0.935, "ratio", "93.5%"),
        (1, "ratio", "100.0%"),
        (4.25, "score", "4.25"),
        (12345, "count", "12,345"),
        (None, "count", "\u2014"),
    ],
)
def test_values_read_in_their_units(value, unit, shown):
    assert pdf.format_value(value, unit) == shown


def test_units_in_the_rendered_table():
    text = _pages(pdf.render(_by_agent(2)))[0][0]
    assert "3h 25m" in text and "93.5%" in text and "4.25" in text
