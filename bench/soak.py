"""The local runtime under sustained load: a fresh `make dev`, tickets created for minutes.

Starts ``python -m local.dev`` as `make dev` does, but on a data directory of its own (a
temporary directory: ``SERVICEDESK_LOCAL_DATA``; its own embedded PostgreSQL, emulator state
and caught mail), a free port and no demo desk (accounts only). Signs in as one requester
(``employee@acme.example``) and creates tickets through the API at concurrency 8 (threads,
one keep-alive client each) for ``--minutes``. Each minute it prints creates/s, the 5xx (and
transport errors), the p95 latency, each queue's depth (ApproximateNumberOfMessages, and in
flight) and the resident memory of the runtime's processes (dev.py with its ticker threads,
the API server, the emulator, the queue pollers, PostgreSQL). When the load stops it waits
up to ``--drain`` seconds for the queues to empty, stops `make dev` as Ctrl-C would, checks
that none of its processes is left, and prints a verdict:

- steady: the last minute's rate at least 90% of the first minute's;
- backlog: the queues' depth at the end of the load no more than 10 seconds of production
  (events the load made per second), so the consumers drain at least as fast as the API
  produces, and how long the rest took to drain;
- errors: no 5xx, no transport error.

    .venv/bin/python bench/soak.py [--minutes 10] [--concurrency 8] [--drain 120]
                                   [--email-pollers N]

Exit status 1 when the verdict is not met. Load average (1 min) is printed beside each
minute: the machine is shared, so compare figures of the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import httpx
import psutil  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from local import aws  # noqa: E402

REQUESTER = "employee@acme.example"
PASSWORD = "demo-password-123"
CHANNELS = ("email", "webhook", "realtime")
# Events a ticket create puts on the queues: ticket.created (e-mail, webhook, realtime) and
# the requester's ticket.received (e-mail).
MESSAGES_PER_CREATE = 4


@dataclass
class Sample:
    finished: float
    status: int  # 0: transport error
    seconds: float


@dataclass
class Load:
    samples: list[Sample] = field(default_factory=list)
    stopped: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)

    def window(self, start: float, end: float) -> list[Sample]:
        with self.lock:
            return [s for s in self.samples if start <= s.finished < end]


def _p95(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


# --- the runtime --------------------------------------------------------------------------


@dataclass
class Runtime:
    process: subprocess.Popen[bytes]
    data: Path
    port: int
    log: Path
    endpoint: str = ""
    started_in: float = 0.0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start(data: Path, *, email_pollers: int | None = None) -> Runtime:
    port = aws.free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SERVICEDESK_")}
    env.pop("DATABASE_URL", None)  # its own embedded PostgreSQL, under `data`
    env.pop("AWS_ENDPOINT_URL", None)  # its own emulator
    env.update(
        {
            "SERVICEDESK_LOCAL_DATA": str(data),
            "SERVICEDESK_DEMO_DATA": "0",
            **(
                {"SERVICEDESK_LOCAL_EMAIL_POLLERS": str(email_pollers)}
                if email_pollers is not None
                else {}
            ),
            "PORT": str(port),
            "PYTHONPATH": str(ROOT / "layers" / "core" / "python"),
        }
    )
    log = data.parent / "dev.log"
    started = time.monotonic()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.dev"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, stopped as a whole at the end
        )
    runtime = Runtime(process, data, port, log)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"make dev exited with {process.returncode}; see {log}")
        found = re.search(
            r"AWS emulator: (http://127\.0\.0\.1:\d+)", log.read_text("utf-8", "replace")
        )
        if found:
            try:
                if httpx.get(runtime.base + "/v1/health", timeout=2).status_code == 200:
                    runtime.endpoint = found.group(1)
                    runtime.started_in = time.monotonic() - started
                    return runtime
            except httpx.HTTPError:
                pass
        time.sleep(0.5)
    raise RuntimeError(f"make dev did not come up in 300 s; see {log}")


def processes(runtime: Runtime) -> dict[str, list[psutil.Process]]:
    """The runtime's processes by role (PostgreSQL: the postmaster on its data directory
    and its backends)."""
    roles: dict[str, list[psutil.Process]] = {}
    try:
        root = psutil.Process(runtime.process.pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        tree = []
    for proc in tree:
        try:
            command = " ".join(proc.cmdline())
        except psutil.Error:
            continue
        if "local.dev" in command:
            role = "dev.py"
        elif "uvicorn" in command:
            role = "api"
        elif "local.emulator" in command:
            role = "emulator"
        elif "local.queues" in command:
            channel = re.search(r"--channel (\w+)", command)
            role = f"poll-{channel.group(1) if channel else '?'}"
        else:
            role = "other"
        roles.setdefault(role, []).append(proc)
    for proc in psutil.process_iter(["cmdline"]):
        command = " ".join(proc.info["cmdline"] or [])
        if "postgres" in command and str(runtime.data) in command and "-D" in command:
            with_children = [proc, *proc.children(recursive=True)]
            roles.setdefault("postgres", []).extend(with_children)
    return roles


def rss_mb(runtime: Runtime) -> dict[str, float]:
    result: dict[str, float] = {}
    for role, procs in processes(runtime).items():
        total = 0
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        result[role] = total / 2**20
    return result


def cpu_seconds(runtime: Runtime) -> dict[str, float]:
    """CPU time (user + system) used so far by each role's processes alive now."""
    result: dict[str, float] = {}
    for role, procs in processes(runtime).items():
        total = 0.0
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
        result[role] = total
    return result


def stop(runtime: Runtime) -> list[str]:
    """Stop `make dev` as Ctrl-C does; the processes of its tree still there afterwards."""
    try:
        tree = psutil.Process(runtime.process.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        tree = []
    runtime.process.send_signal(signal.SIGINT)
    try:
        runtime.process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(runtime.process.pid, signal.SIGKILL)
        runtime.process.wait()
    time.sleep(1)
    left = [f"{p.pid} {' '.join(p.cmdline())[:80]}" for p in tree if _alive(p)]
    for proc in tree:
        if _alive(proc):
            proc.kill()
    return left


def _alive(proc: psutil.Process) -> bool:
    try:
        return bool(proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False


# --- queues -------------------------------------------------------------------------------


def queue_depths(sqs: Any, urls: dict[str, str]) -> dict[str, tuple[int, int]]:
    """(waiting, in flight) per channel."""
    depths = {}
    for channel, url in urls.items():
        attributes = sqs.get_queue_attributes(
            QueueUrl=url,
            AttributeNames=[
                "ApproximateNumberOfMessages",
                "ApproximateNumberOfMessagesNotVisible",
            ],
        )["Attributes"]
        depths[channel] = (
            int(attributes["ApproximateNumberOfMessages"]),
            int(attributes["ApproximateNumberOfMessagesNotVisible"]),
        )
    return depths


def total(depths: dict[str, tuple[int, int]]) -> int:
    return sum(waiting + flight for waiting, flight in depths.values())


# --- the load -----------------------------------------------------------------------------


def create_loop(base: str, token: str, load: Load, worker: int) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    n = 0
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        while not load.stopped.is_set():
            n += 1
            body = {
                "title": f"Soak ticket {worker}-{n}: the printer on floor {n % 7} jams",
                "description": "Paper jams on every second page since this morning.",
                "impact": ("low", "medium", "high")[n % 3],
                "urgency": ("low", "medium", "high")[(n // 3) % 3],
                "tags": ["soak"],
            }
            started = time.monotonic()
            try:
                status = client.post("/v1/tickets", json=body).status_code
            except httpx.HTTPError:
                status = 0
            load.add(Sample(time.monotonic(), status, time.monotonic() - started))


def main() -> None:  # noqa: PLR0915 - one run, printed as it goes
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--drain", type=float, default=120.0, help="seconds to wait, after")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds per report line")
    parser.add_argument(
        "--email-pollers", type=int, default=None, help="e-mail poller processes (make dev's)"
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="servicedesk-soak-"))
    print(f"starting a fresh make dev in {workdir} …", flush=True)
    runtime = start(workdir / "data", email_pollers=args.email_pollers)
    ok = False
    try:
        idle = rss_mb(runtime)
        print(
            f"up in {runtime.started_in:.1f} s on {runtime.base}; idle RSS MB: "
            + ", ".join(f"{k} {v:.0f}" for k, v in sorted(idle.items()))
            + f" (total {sum(idle.values()):.0f})",
            flush=True,
        )
        sqs = boto3.client(
            "sqs",
            endpoint_url=runtime.endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )
        urls = {c: sqs.get_queue_url(QueueName=f"servicedesk-{c}")["QueueUrl"] for c in CHANNELS}
        login = httpx.post(
            runtime.base + "/v1/auth/login",
            json={"email": REQUESTER, "password": PASSWORD},
            timeout=30,
        )
        login.raise_for_status()
        token = login.json()["access_token"]

        load = Load()
        threads = [
            threading.Thread(target=create_loop, args=(runtime.base, token, load, n), daemon=True)
            for n in range(args.concurrency)
        ]
        cpu_before = cpu_seconds(runtime)
        began = time.monotonic()
        for thread in threads:
            thread.start()
        rates: list[float] = []
        depth_series: list[int] = []
        errors = 0
        header = (
            f"{'min':>5} {'creates/s':>9} {'5xx':>4} {'err':>4} {'p95 ms':>7} "
            + " ".join(f"{c + ' q/fl':>14}" for c in CHANNELS)
            + f" {'load':>5}  RSS MB"
        )
        print(header, flush=True)
        end = began + args.minutes * 60
        window_start = began
        while window_start < end - 1:
            window_end = min(window_start + args.interval, end)
            time.sleep(max(0.0, window_end - time.monotonic()))
            window = load.window(window_start, window_end)
            seconds = window_end - window_start
            rate = sum(1 for s in window if s.status == 201) / seconds
            server_errors = sum(1 for s in window if s.status >= 500)
            transport = sum(1 for s in window if s.status == 0)
            errors += (
                server_errors
                + transport
                + sum(1 for s in window if s.status not in (0, 201) and s.status < 500)
            )
            p95 = _p95([s.seconds for s in window]) * 1000
            depths = queue_depths(sqs, urls)
            memory = rss_mb(runtime)
            rates.append(rate)
            depth_series.append(total(depths))
            print(
                f"{(window_end - began) / 60:5.1f} {rate:9.1f} {server_errors:4d} {transport:4d}"
                f" {p95:7.0f} "
                + " ".join(f"{w:>8d}/{f:<5d}" for w, f in (depths[c] for c in CHANNELS))
                + f" {os.getloadavg()[0]:5.1f}  "
                + " ".join(f"{k} {v:.0f}" for k, v in sorted(memory.items()))
                + f" = {sum(memory.values()):.0f}",
                flush=True,
            )
            window_start = window_end
        load.stopped.set()
        for thread in threads:
            thread.join(timeout=35)
        created = sum(1 for s in load.samples if s.status == 201)
        cpu_after = cpu_seconds(runtime)
        # Where the machine's CPU went during the load, per ticket created: which side (the
        # API and its database work, or the consumers) costs what.
        used = {r: cpu_after[r] - cpu_before.get(r, 0.0) for r in sorted(cpu_after)}
        print(
            "CPU ms per create during the load: "
            + ", ".join(f"{r} {1000 * c / max(created, 1):.1f}" for r, c in used.items()),
            flush=True,
        )
        bad = [s for s in load.samples if s.status != 201]
        fivexx = sum(1 for s in bad if s.status >= 500)
        produced_per_second = created * MESSAGES_PER_CREATE / (args.minutes * 60)
        backlog_end = depth_series[-1] if depth_series else 0
        drain_started = time.monotonic()
        drained_in: float | None = None
        while time.monotonic() - drain_started < args.drain:
            if total(queue_depths(sqs, urls)) == 0:
                drained_in = time.monotonic() - drain_started
                break
            time.sleep(1)
        steady = rates[-1] / rates[0] if rates and rates[0] else 0.0
        bounded = backlog_end <= 10 * produced_per_second
        ok = steady >= 0.9 and bounded and not bad
        print(
            f"created {created} tickets in {args.minutes:g} min"
            f" ({created / (args.minutes * 60):.1f}/s, {produced_per_second:.0f} queue messages/s);"
            f" other statuses {len(bad)} (5xx {fivexx})",
            flush=True,
        )
        print(
            f"VERDICT {'MET' if ok else 'NOT MET'}: last/first minute rate {steady:.2f}"
            f" ({rates[-1] if rates else 0:.1f} vs {rates[0] if rates else 0:.1f}/s);"
            f" backlog at the end of the load {backlog_end} messages"
            f" ({'bounded' if bounded else 'GROWING'}: limit {10 * produced_per_second:.0f});"
            + (
                f" drained {drained_in:.0f} s after the load"
                if drained_in is not None
                else f" not drained {args.drain:.0f} s after the load"
            )
            + f"; 5xx {fivexx}, other errors {len(bad) - fivexx}",
            flush=True,
        )
    finally:
        left = stop(runtime)
        print(
            "make dev stopped; "
            + (f"LEFT RUNNING: {left}" if left else "no process of it left running"),
            flush=True,
        )
        if left:
            ok = False
        shutil.rmtree(workdir, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
