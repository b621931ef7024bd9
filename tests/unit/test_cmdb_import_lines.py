"""The import's streaming reader (``cmdb.imports.lines``): the lines a CSV reader gets are
the same whatever the chunks, with CRLF, a BOM or a character cut between two chunks, and
the first byte that is not UTF-8 is named with its offset in the file."""

from __future__ import annotations

import csv

import pytest

from servicedesk.cmdb.imports import lines
from servicedesk.platform.errors import ValidationProblem

SAMPLE = (
    "\ufeffexternal_id,name,class\r\n"
    'a-1,"Gr\u00fc\u00dfe, \u00e9t\u00e9\r\nzwei Zeilen",hardware\r\n'
    "a-2,\u65e5\u672c\u8a9e,software\rb-3,Mac,hardware\n"
    "c-4,last,hardware"
).encode()


def _chunks(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, len(SAMPLE)])
def test_any_chunking_reads_the_same_records(size):
    whole = list(csv.reader(lines([SAMPLE]), strict=True))
    assert whole[0] == ["external_id", "name", "class"]
    assert whole[1][1] == "Gr\u00fc\u00dfe, \u00e9t\u00e9\r\nzwei Zeilen"
    assert [r[0] for r in whole] == ["external_id", "a-1", "a-2", "b-3", "c-4"]
    assert list(csv.reader(lines(_chunks(SAMPLE, size)), strict=True)) == whole
    assert "".join(lines(_chunks(SAMPLE, size))) == SAMPLE.decode("utf-8-sig")


@pytest.mark.parametrize("size", [1, 4, 1024])
def test_the_first_bad_byte_is_named_with_its_offset(size):
    data = "id,name\r\nx,\u00e9\r\n".encode() + b"y,\xff\r\n"
    with pytest.raises(ValidationProblem) as refused:
        list(lines(_chunks(data, size)))
    (error,) = refused.value.errors or []
    assert error["field"] == "file"
    bad = data.index(b"\xff")
    assert error["detail"] == f"not UTF-8 (byte {bad} of the file)"


def test_a_character_cut_at_the_end_of_the_file_is_not_utf8():
    with pytest.raises(ValidationProblem):
        list(lines([b"id\r\n\xc3"]))
