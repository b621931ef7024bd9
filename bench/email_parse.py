"""Parser micro-benchmark: messages per second over the inbound mail corpus.

Parses every message of ``tests/fixtures/email/`` (placeholders filled as the corpus README
says) ``--rounds`` times in this process, after one warm-up round, and prints messages/s,
MB/s and the per-message median, p95 and slowest (CPU time, ``time.process_time``, which
does not grow while the process waits for a core on a shared machine; wall time beside it).
Also times the HTML → text step alone over the corpus's HTML parts.

    .venv/bin/python bench/email_parse.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

# Run as a script, bench/ comes first on sys.path, where bench/email.py (the intake's
# benchmark) would shadow the standard library's email package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from servicedesk.mail import html as html_text  # noqa: E402 - after the sys.path fix
from servicedesk.mail.message import Unparseable  # noqa: E402
from servicedesk.mail.parsing import parse  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "email"
FILL = {
    b"{{TO}}": b"acme@mail.example.test",
    b"{{REPLY_ADDRESS}}": b"reply+TCK-2026-0042.0123456789abcdef@reply.example.test",
    b"{{IN_REPLY_TO}}": b"<evt-6a1f0c2e9b@reply.example.test>",
    b"{{NUMBER}}": b"TCK-2026-0042",
    b"{{FROM}}": b"dana@customer.example",
}


def corpus() -> dict[str, bytes]:
    messages = {}
    for path in sorted(CORPUS.glob("*.eml")):
        raw = path.read_bytes()
        for placeholder, value in FILL.items():
            raw = raw.replace(placeholder, value)
        messages[path.stem] = raw
    return messages


def parse_once(raw: bytes) -> str | None:
    try:
        return parse(raw).html
    except Unparseable:
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    messages = corpus()
    htmls = [h for h in (parse_once(raw) for raw in messages.values()) if h]  # warm-up
    per_message: dict[str, list[float]] = {name: [] for name in messages}
    cpu_started, wall_started = time.process_time(), time.perf_counter()
    for _ in range(args.rounds):
        for name, raw in messages.items():
            started = time.process_time()
            parse_once(raw)
            per_message[name].append(time.process_time() - started)
    cpu, wall = time.process_time() - cpu_started, time.perf_counter() - wall_started
    count = len(messages) * args.rounds
    size = sum(len(raw) for raw in messages.values()) * args.rounds
    medians = sorted((statistics.median(times), name) for name, times in per_message.items())
    every = sorted(t for times in per_message.values() for t in times)
    html_started = time.process_time()
    for _ in range(args.rounds):
        for markup in htmls:
            html_text.to_text(markup)
    html_cpu = time.process_time() - html_started
    print(f"load average: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    kib = size / args.rounds / 1024
    print(f"corpus: {len(messages)} messages, {kib:.0f} KiB; rounds: {args.rounds}")
    print(f"messages/s: {count / cpu:.0f} (CPU), {count / wall:.0f} (wall)")
    print(f"MB/s: {size / cpu / 1e6:.1f} (CPU)")
    print(
        f"per message (CPU ms): median {statistics.median(every) * 1000:.2f}, "
        f"p95 {every[int(len(every) * 0.95)] * 1000:.2f}, max {every[-1] * 1000:.2f}"
    )
    print("slowest (median CPU ms): " + ", ".join(f"{n} {t * 1000:.2f}" for t, n in medians[-3:]))
    print(
        f"HTML -> text alone: {len(htmls) * args.rounds / html_cpu:.0f} parts/s "
        f"({len(htmls)} HTML parts)"
    )


if __name__ == "__main__":
    main()
