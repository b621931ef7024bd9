"""LocalStack community on the host (no Docker), for what moto does not emulate faithfully.

moto accepts a presigned POST that breaks its policy and serves a presigned GET after it
expired; LocalStack refuses both as S3 does, and its SQS does not slow down with queue
depth. It runs from its own venv (``make localstack`` builds ``.localstack/`` from
requirements/localstack.txt: it pins its own moto fork, so it cannot share ``.venv``):

    python -m local.localstack            # start on a free loopback port until Ctrl-C

Used by tests/localstack/ (one instance per pytest session) and
``bench/outbox.py --endpoint localstack``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from local.aws import free_port

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".localstack"
STAMP = VENV / ".installed"
SERVICES = ("s3", "sqs")


class NotInstalled(RuntimeError):
    """The LocalStack venv is missing: ``make localstack`` builds it."""


@dataclass
class LocalStack:
    process: subprocess.Popen[bytes]
    url: str
    data: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        stop_group(self.process.pid)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=5)


def python() -> Path:
    """The venv's interpreter; NotInstalled if ``make localstack`` has not run."""
    executable = VENV / "bin" / "python"
    if not (STAMP.exists() and executable.exists()):
        raise NotInstalled(f"LocalStack is not installed in {VENV}: run `make localstack`")
    return executable


def environment(port: int, data: Path) -> dict[str, str]:
    """What LocalStack needs on the host: its own gateway (hypercorn) bound to loopback only
    (the default server binds 0.0.0.0), no DNS server, no telemetry or certificate download,
    signatures checked (so expired and tampered presigned URLs are refused), and every file
    it writes under ``data``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}
    env.update(
        {
            "GATEWAY_SERVER": "hypercorn",
            "GATEWAY_LISTEN": f"127.0.0.1:{port}",
            "DNS_ADDRESS": "0",
            "DISABLE_EVENTS": "1",
            "SKIP_SSL_CERT_DOWNLOAD": "1",
            "S3_SKIP_SIGNATURE_VALIDATION": "0",
            "SERVICES": ",".join(SERVICES),
            "EAGER_SERVICE_LOADING": "1",
            "FILESYSTEM_ROOT": str(data / "fs"),
            "TMPDIR": str(data / "tmp"),
            "LOCALSTACK_VOLUME_DIR": str(data / "volume"),
        }
    )
    return env


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/_localstack/health", timeout=1) as response:
            services = json.load(response).get("services", {})
    except (OSError, ValueError):
        return False
    return all(services.get(name) in ("available", "running") for name in SERVICES)


def stop_group(pid: int, grace: float = 3.0) -> None:
    """SIGTERM to the process group, then SIGKILL: after SQS use it often ignores SIGTERM."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                return
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)  # reap it if it is our child
            time.sleep(0.05)


def start(*, data: Path | None = None, timeout: float = 60.0) -> LocalStack:
    """Start LocalStack on a free 127.0.0.1 port in its own process group and wait until S3
    and SQS answer; the caller stops it (``LocalStack.stop``)."""
    executable = python()
    data = data or Path(tempfile.mkdtemp(prefix="localstack-"))
    for sub in ("fs", "tmp", "volume"):
        (data / sub).mkdir(parents=True, exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = (data / "localstack.log").open("wb")
    process = subprocess.Popen(
        [str(executable), "-m", "localstack.runtime.main"],
        cwd=data,
        env=environment(port, data),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stop_group reaches its children
    )
    log.close()
    deadline = time.monotonic() + timeout
    while not healthy(url):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_group(process.pid)
            tail = (data / "localstack.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"LocalStack did not start on {url}:\n{tail}")
        time.sleep(0.1)
    return LocalStack(process, url, data)


def main() -> None:
    started = time.monotonic()
    stack = start()
    print(f"LocalStack {stack.url} ready in {time.monotonic() - started:.1f} s (data {stack.data})")
    try:
        stack.process.wait()
    except KeyboardInterrupt:
        pass
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
