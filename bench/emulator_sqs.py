"""The local emulator's SQS with and without local/moto_sqs.py, by queue depth.

For each variant (the emulator as `make dev` runs it, and with ``--moto-sqs-as-is``), on a
fresh emulator (state in a temporary directory, written through as in `make dev`):
SendMessageBatch from 8 threads into an empty queue, then the same with ``--depth``
messages waiting; then ReceiveMessage + DeleteMessageBatch rounds (10 a round) with that
backlog. What counts is the ratio deep/empty within a variant (1.0: no degradation).

    .venv/bin/python bench/emulator_sqs.py [--depth 5000] [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402

from local import aws  # noqa: E402

THREADS = 8


def _client(endpoint: str) -> Any:
    return boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


def _start(data: Path, *, as_is: bool) -> tuple[subprocess.Popen[bytes], str]:
    port = aws.free_port()
    command = [sys.executable, "-m", "local.emulator", "--port", str(port), "--data", str(data)]
    if as_is:
        command.append("--moto-sqs-as-is")
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    aws.wait_until_up(url, process)
    return process, url


def _batch(n: int) -> list[dict[str, Any]]:
    return [{"Id": str(i), "MessageBody": '{"event": "x"}' * 20} for i in range(n)]


def send_rate(endpoint: str, url: str, seconds: float) -> float:
    """Messages a second, SendMessageBatch of 10 from THREADS threads."""
    sent = [0] * THREADS
    stop = time.monotonic() + seconds

    def work(n: int) -> None:
        sqs = _client(endpoint)
        while time.monotonic() < stop:
            sqs.send_message_batch(QueueUrl=url, Entries=_batch(10))
            sent[n] += 10

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(sent) / (time.monotonic() - started)


def fill(endpoint: str, url: str, depth: int) -> None:
    sqs = _client(endpoint)
    for _ in range(depth // 10):
        sqs.send_message_batch(QueueUrl=url, Entries=_batch(10))


def drain_rate(endpoint: str, url: str, seconds: float) -> float:
    """Messages a second through receive (10) + delete batch, one consumer."""
    sqs = _client(endpoint)
    done = 0
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            break
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(got)
            ],
        )
        done += len(got)
    return done / (time.monotonic() - started)


def measure(*, as_is: bool, depth: int, seconds: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="sd-emu-") as data:
        process, endpoint = _start(Path(data), as_is=as_is)
        try:
            sqs = _client(endpoint)
            empty = sqs.create_queue(QueueName="empty")["QueueUrl"]
            deep = sqs.create_queue(QueueName="deep")["QueueUrl"]
            result = {"send_empty": send_rate(endpoint, empty, seconds)}
            sqs.purge_queue(QueueUrl=empty)
            fill(endpoint, deep, depth)
            result["send_deep"] = send_rate(endpoint, deep, seconds)
            result["drain_deep"] = drain_rate(endpoint, deep, seconds)
            return result
        finally:
            process.terminate()
            process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}; depth {args.depth}; {THREADS} sending threads")
    for label, as_is in (("patched (make dev)", False), ("moto as is", True)):
        r = measure(as_is=as_is, depth=args.depth, seconds=args.seconds)
        print(
            f"{label:20} send empty {r['send_empty']:7.0f} msg/s | send with {args.depth} waiting"
            f" {r['send_deep']:7.0f} msg/s (x{r['send_deep'] / r['send_empty']:.2f})"
            f" | receive+delete with backlog {r['drain_deep']:6.0f} msg/s",
            flush=True,
        )
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
