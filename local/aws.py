"""The AWS emulator: moto's server on 127.0.0.1 (local/emulator.py, which can keep its S3
and SQS state on disk), unless AWS_ENDPOINT_URL points elsewhere."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(
    url: str, process: subprocess.Popen[bytes] | None = None, timeout: float = 20.0
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the emulator exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url + "/moto-api/", timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def die_with_parent() -> None:
    """For ``preexec_fn``: the child gets SIGKILL when the process that started it dies,
    however it dies (Linux; elsewhere a no-op), so a killed `make dev` leaves no emulator
    or server behind holding its port and data."""
    if sys.platform != "linux":
        return
    import ctypes
    import signal

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


def start_moto(
    port: int | None = None, *, data: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start the emulator as a child process on loopback; the caller stops it. With
    ``data``, its S3 and SQS state is kept in that directory and loaded back on start."""
    port = port or free_port()
    command = [sys.executable, "-m", "local.emulator", "--host", "127.0.0.1", "--port", str(port)]
    if data is not None:
        command += ["--data", str(data)]
    process = subprocess.Popen(
        command,
        cwd=Path(__file__).resolve().parent.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=die_with_parent,  # noqa: PLW1509 - only prctl, before exec
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
    except (OSError, RuntimeError):
        process.kill()
        raise
    return process, url


def configure_environment(endpoint: str) -> None:
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")


def ensure_mail_bucket(name: str) -> None:
    """The inbound mail bucket (SES receiving's S3 action writes there in AWS): private,
    no CORS, no versioning."""
    import boto3

    s3 = boto3.client("s3")
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=name)


def ensure_bucket(name: str, *, cors_origin: str) -> None:
    """The attachments bucket as the storage stack makes it: versioned, and open to
    presigned POST/GET from the web origin (so a browser can upload with the form)."""
    import boto3

    s3 = boto3.client("s3")
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_cors(
        Bucket=name,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": [cors_origin],
                    "AllowedMethods": ["PUT", "POST", "GET", "HEAD"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 3000,
                }
            ]
        },
    )
