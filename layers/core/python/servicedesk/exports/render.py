"""A report's file in each format: CSV (through platform.csvexport: RFC 4180, formula-safe),
JSON (the ReportResult itself) or PDF (reports.pdf)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from servicedesk.platform.csvexport import csv_chunks
from servicedesk.reports import pdf
from servicedesk.reports.schemas import ReportResult


def report_table(result: ReportResult) -> tuple[list[str], list[list[Any]]]:
    """Header and rows as GET /v1/reports/{name}?format=csv writes them: bucket, group id,
    group, then one column per measure (raw values: seconds, ratios 0..1)."""
    header = ["bucket", "group_id", "group", *(m.key for m in result.measures)]
    rows = [
        [
            row.bucket.isoformat() if row.bucket else "",
            row.group.id if row.group and row.group.id else "",
            row.group.label if row.group else "",
            *(row.values.get(m.key) for m in result.measures),
        ]
        for row in result.rows
    ]
    return header, rows


def report_chunks(result: ReportResult, fmt: str) -> Iterator[bytes]:
    if fmt == "pdf":
        yield pdf.render(result)
    elif fmt == "json":
        yield result.model_dump_json().encode()
    else:
        header, rows = report_table(result)
        yield from csv_chunks(header, rows)
