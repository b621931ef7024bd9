"""A report's file in each format: CSV (through platform.csvexport: RFC 4180, formula-safe),
JSON (the ReportResult itself) or PDF (reports.pdf)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from servicedesk.platform.csvexport import csv_chunks
from servicedesk.reports import pdf
from servicedesk.reports.schemas import ReportResult


def report_table(result: ReportResult) -> tuple[list[str], list[list[Any]]]:
    """Header and rows: the bucket and/or group columns, then one column per measure (raw
    values: seconds, ratios 0..1), then the totals row."""
    header: list[str] = []
    if result.interval is not None:
        header.append("bucket")
    if result.group_by is not None:
        header += [result.group_by, f"{result.group_by}_id"]
    keys = [m.key for m in result.measures]
    rows: list[list[Any]] = []
    for row in result.rows:
        cells: list[Any] = []
        if result.interval is not None:
            cells.append(row.bucket)
        if result.group_by is not None:
            cells += [row.group.label if row.group else None, row.group.id if row.group else None]
        rows.append(cells + [row.values.get(k) for k in keys])
    if result.totals:
        lead = len(header)
        rows.append(
            (["total"] + [None] * (lead - 1) if lead else []) + [result.totals.get(k) for k in keys]
        )
    return header + keys, rows


def report_chunks(result: ReportResult, fmt: str) -> Iterator[bytes]:
    if fmt == "pdf":
        yield pdf.render(result)
    elif fmt == "json":
        yield result.model_dump_json().encode()
    else:
        header, rows = report_table(result)
        yield from csv_chunks(header, rows)
