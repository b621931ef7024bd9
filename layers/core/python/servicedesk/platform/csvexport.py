"""Exports as CSV or JSON, streamed: the one writer every export route uses.

CSV is RFC 4180 through Python's csv module (comma, CRLF, quotes doubled), UTF-8 with a
header row. A text cell beginning with = + - @ TAB or CR is prefixed with a single quote
(OWASP, CSV injection), so a spreadsheet never reads a requester's title as a formula;
numbers are written as numbers (a number cannot carry a formula).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # the writers serve the export worker too, which loads no web framework
    from fastapi.responses import StreamingResponse

ExportFormat = Literal["csv", "json"]
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Rows per chunk written to the response: small enough to keep memory flat, large enough
# that a chunk is not one tiny write per row.
ROWS_PER_CHUNK = 200


def neutralise(text: str) -> str:
    """The cell as a spreadsheet may show it: never the start of a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def cell(value: Any) -> str | int | float:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return neutralise(";".join(str(v) for v in value))
    return neutralise(str(value))


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The header, then the rows, as UTF-8 CSV, a chunk every ``ROWS_PER_CHUNK`` rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(name) for name in header])
    pending = 1
    for row in rows:
        writer.writerow([cell(value) for value in row])
        pending += 1
        if pending >= ROWS_PER_CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue().encode()


def json_chunks(items: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    """``{"items": [...]}``, one item at a time."""
    yield b'{"items":['
    first = True
    for item in items:
        yield (b"" if first else b",") + json.dumps(item, default=_jsonable).encode()
        first = False
    yield b"]}"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def export_response(
    fmt: ExportFormat,
    filename: str,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
) -> StreamingResponse:
    """The rows streamed as an attachment: CSV, or JSON objects keyed by the header."""
    from fastapi.responses import StreamingResponse

    if fmt == "csv":
        body = csv_chunks(header, rows)
        media_type = CSV_MEDIA_TYPE
    else:
        body = json_chunks(dict(zip(header, row, strict=True)) for row in rows)
        media_type = "application/json"
    return StreamingResponse(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'},
    )


def openapi_responses(
    description: str, columns: Sequence[str] = ()
) -> dict[int | str, dict[str, Any]]:
    """The 200 of an export route: JSON or CSV text. With ``columns``, the JSON is
    ``{"items": [{column: value}, ...]}``; without, the route's response model says it."""
    json_content: dict[str, Any] = {}
    if columns:
        item = {"type": "object", "properties": {name: {} for name in columns}}
        json_content["schema"] = {
            "type": "object",
            "required": ["items"],
            "properties": {"items": {"type": "array", "items": item}},
        }
    return {
        200: {
            "description": description,
            "content": {
                "application/json": json_content,
                "text/csv": {"schema": {"type": "string"}},
            },
        }
    }
