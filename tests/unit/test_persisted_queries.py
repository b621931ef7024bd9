"""The persisted-query registry and the web app's typed operations are generated from the
``.graphql`` documents (scripts/persisted_queries.py): the committed files equal a fresh
generation, and the check catches drift in both directions."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import persisted_queries as pq  # noqa: E402

from servicedesk.graphql import persisted  # noqa: E402


def test_committed_registry_and_operations_equal_a_fresh_generation() -> None:
    assert pq.differences(pq.generate(), pq.REGISTRY, pq.OPERATIONS) == []
    assert pq.main(["--check"]) == 0


def test_every_document_is_registered_by_the_hash_of_its_exact_text() -> None:
    registered = persisted.registered()
    documents = pq.sources(pq.WEB_DOCUMENTS, pq.BENCH_DOCUMENTS)
    assert {p.stem for p in documents} >= {"QueueTickets", "TicketScreen"}
    for path in documents:
        text = path.read_text(encoding="utf-8")
        assert registered[hashlib.sha256(text.encode()).hexdigest()] == text
    assert len(registered) == len(documents)


def test_the_web_operations_carry_hashes_and_no_query_text() -> None:
    text = pq.OPERATIONS.read_text(encoding="utf-8")
    for path in pq.sources(pq.WEB_DOCUMENTS):
        query = path.read_text(encoding="utf-8")
        assert f'hash: "{hashlib.sha256(query.encode()).hexdigest()}"' in text
        assert "tickets(filter" not in text and "query " + path.stem not in text


@pytest.fixture
def copies(tmp_path: Path) -> tuple[Path, Path, Path, Path]:
    """The documents and the outputs, copied where the test may change them."""
    web, bench = tmp_path / "web", tmp_path / "bench"
    shutil.copytree(pq.WEB_DOCUMENTS, web, ignore=shutil.ignore_patterns("*.ts"))
    shutil.copytree(pq.BENCH_DOCUMENTS, bench)
    registry, operations = tmp_path / "persisted.json", tmp_path / "operations.ts"
    shutil.copy(pq.REGISTRY, registry)
    shutil.copy(pq.OPERATIONS, operations)
    return web, bench, registry, operations


def test_a_document_not_registered_is_caught(copies: tuple[Path, Path, Path, Path]) -> None:
    web, bench, registry, operations = copies
    (web / "MyName.graphql").write_text("query MyName {\n  me { id name }\n}\n")
    found = pq.differences(pq.generate(web, bench), registry, operations)
    assert any("(MyName) is not registered" in line for line in found)
    assert any("operations.ts" in line for line in found)


def test_a_registered_query_without_its_document_is_caught(
    copies: tuple[Path, Path, Path, Path],
) -> None:
    web, bench, registry, operations = copies
    (bench / "TicketScreen.graphql").unlink()
    found = pq.differences(pq.generate(web, bench), registry, operations)
    assert found == [f"persisted.json: {_key('TicketScreen')} (TicketScreen) has no document"]


def test_an_edited_document_is_caught(copies: tuple[Path, Path, Path, Path]) -> None:
    web, bench, registry, operations = copies
    path = web / "QueueTickets.graphql"
    path.write_text(path.read_text().replace("        title\n", "        title\n        tags\n"))
    found = pq.differences(pq.generate(web, bench), registry, operations)
    assert any("(QueueTickets) is not registered" in line for line in found)
    assert any(f"{_key('QueueTickets')} (QueueTickets) has no document" in line for line in found)
    assert any("operations.ts" in line for line in found)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("query Bad {\n  tickets { edges { node { nope } } }\n}\n", "Cannot query field 'nope'"),
        (
            "query Bad($n: String) {\n  tickets(first: $n) { pageInfo { hasNextPage } }\n}\n",
            "Variable '.n' of type 'String' used in position expecting type 'Int!'",
        ),
        ("query Other {\n  me { id }\n}\n", "must be named Bad"),
        ("query Bad {\n  me { ...F }\n}\nfragment F on User { id }\n", "no fragments"),
        (
            "query Bad {\n  tickets(first: 100) { edges { node { comments(first: 100) { edges {"
            " node { author { id } } } } } } }\n  b: tickets(first: 100) { edges { node {"
            " comments(first: 100) { edges { node { author { id } } } } } } }\n}\n",
            "cost",
        ),
    ],
)
def test_documents_the_api_would_refuse_are_refused_here(
    copies: tuple[Path, Path, Path, Path], text: str, reason: str
) -> None:
    web, bench, _, _ = copies
    (web / "Bad.graphql").write_text(text)
    with pytest.raises(pq.DocumentError, match=reason):
        pq.generate(web, bench)


def test_the_types_follow_the_schema(copies: tuple[Path, Path, Path, Path]) -> None:
    web, bench, _, _ = copies
    (web / "Typed.graphql").write_text(
        "query Typed($id: ID!) {\n  ticket(id: $id) { number tags slaDueAt"
        " assignee { name } allowedTransitions }\n}\n"
    )
    text = pq.generate(web, bench)["operations"]
    block = text[text.index("export interface TypedVariables") :]
    assert "  id: string;\n" in block
    assert "  ticket: {\n" in block and "  } | null;" in block  # ticket(id) is nullable
    assert "    tags: Array<string>;\n" in block
    assert "    slaDueAt: string | null;\n" in block
    assert "    assignee: {\n      name: string;\n    } | null;\n" in block
    assert "    allowedTransitions: Array<string>;\n" in block


def _key(name: str) -> str:
    return next(
        k for k, query in json.loads(pq.REGISTRY.read_text()).items() if f"query {name}" in query
    )
