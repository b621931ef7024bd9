"""The embedded server's pgvector works on this CPU: distances and an HNSW index over
vectors wide enough to take pgvector's vectorised code paths (the wheel's build used
AVX-512 unconditionally and killed the server with SIGILL elsewhere; local/pgvector.py
rebuilds it portably, and `make` runs it)."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from local import pgvector


def test_distances_and_an_hnsw_index_work_on_this_cpu(database):
    rng = random.Random(7)
    rows = [[rng.uniform(-1, 1) for _ in range(256)] for _ in range(300)]
    literal = "[" + ",".join(f"{x:.6f}" for x in rows[42]) + "]"
    with database.connect("owner") as conn:
        conn.execute("CREATE TEMP TABLE probe (id int PRIMARY KEY, v vector(256))")
        conn.execute("CREATE INDEX ON probe USING hnsw (v vector_cosine_ops)")
        with conn.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO probe VALUES (%s, %s::vector)",
                [(i, "[" + ",".join(f"{x:.6f}" for x in v) + "]") for i, v in enumerate(rows)],
            )
        conn.execute("SET enable_seqscan = off")
        nearest = conn.execute(
            "SELECT id, v <=> %s::vector AS d FROM probe ORDER BY v <=> %s::vector LIMIT 3",
            (literal, literal),
        ).fetchall()
        l2, inner = conn.execute(
            "SELECT %s::vector <-> %s::vector, %s::vector <#> %s::vector",
            ("[3,4]", "[0,0]", "[1,2]", "[3,4]"),
        ).fetchone()
    assert nearest[0][0] == 42 and nearest[0][1] == pytest.approx(0, abs=1e-6)
    assert (l2, inner) == (5.0, -11.0)


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="a server of its own")
def test_the_embedded_server_loads_the_portable_build():
    config = pgvector.pg_config()
    libdir = Path(pgvector._query(config, "--pkglibdir"))
    marker = libdir / pgvector.MARKER
    assert marker.exists(), "run `make` (local/pgvector.py) to rebuild pgvector for any CPU"
    assert marker.read_text(encoding="ascii").strip() == pgvector._digest(libdir / "vector.so")
