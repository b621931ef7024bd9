"""LocalStack community on the host (no Docker), for what moto does not emulate faithfully.

moto accepts a presigned POST that breaks its policy and serves a presigned GET after it
expired; LocalStack refuses both as S3 does, and its SQS does not slow down with queue
depth. It runs from its own venv (``make localstack`` builds ``.localstack/`` from
requirements/localstack.txt: it pins its own moto fork, so it cannot share ``.venv``):

    python -m local.localstack            # start on a free loopback port until Ctrl-C

Used by tests/localstack/ (one instance per test run, shared by the xdist workers through
``shared``) and ``bench/outbox.py --endpoint localstack``.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from local.aws import die_with_parent, free_port

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".localstack"
STAMP = VENV / ".installed"
SERVICES = ("s3", "sqs")
# What clients must sign with: LocalStack checks presigned URLs against the secret of the
# access key, and an access key it does not know (any but these) gets the secret "test",
# so a link signed with another secret is refused as tampered.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


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
        preexec_fn=die_with_parent,  # noqa: PLW1509 - only prctl, before exec
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


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def serve_until_exit(owner: int, run: Path) -> None:
    """Run LocalStack while process ``owner`` lives, its URL in ``run``/state.json (written
    whole once it answers); then stop it and remove ``run``. The keeper of a test run's one
    instance: the run's processes share it whatever order they end in."""
    stack = start()
    try:
        pending = run / "state.json.tmp"
        pending.write_text(json.dumps({"url": stack.url, "pid": stack.pid}))
        pending.replace(run / "state.json")
        while alive(owner) and stack.process.poll() is None:
            time.sleep(0.5)
    finally:
        stack.stop()
        shutil.rmtree(stack.data, ignore_errors=True)
        shutil.rmtree(run, ignore_errors=True)


def shared(run: Path, *, owner: int, timeout: float = 90.0) -> str:
    """The URL of the one LocalStack of ``run`` (a directory named for a test run), started
    by the first caller: under a file lock, the state file of a live instance is reused,
    else a keeper (``python -m local.localstack --until-exit owner``) is started, in its
    own session, and waited for. It stops LocalStack when ``owner`` (the run's first
    process: pytest, or xdist's controller) exits."""
    python()  # NotInstalled before anything is started
    run.mkdir(parents=True, exist_ok=True)
    state = run / "state.json"
    with (run / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if state.exists():
            url = str(json.loads(state.read_text())["url"])
            if healthy(url):
                return url
            state.unlink()
        log = (run / "keeper.log").open("wb")
        keeper = subprocess.Popen(
            [sys.executable, "-m", "local.localstack", "--until-exit", str(owner), "--run", run],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives the caller: it ends with `owner`
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not state.exists():
            if keeper.poll() is not None or time.monotonic() > deadline:
                stop_group(keeper.pid)
                tail = (run / "keeper.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"LocalStack's keeper did not report a URL:\n{tail}")
            time.sleep(0.1)
        return str(json.loads(state.read_text())["url"])


def main() -> None:
    parser = argparse.ArgumentParser(description="LocalStack (S3, SQS) on a loopback port")
    parser.add_argument("--until-exit", type=int, metavar="PID", help="stop when PID exits")
    parser.add_argument("--run", type=Path, help="with --until-exit: where to write its URL")
    args = parser.parse_args()
    if args.until_exit is not None:
        serve_until_exit(args.until_exit, args.run)
        return
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
