"""The LocalStack tier: what moto does not emulate (S3 refusing an upload that breaks its
presigned POST policy, expired and tampered presigned links; SQS that does not slow down
with depth), checked through our own code against LocalStack over real HTTP.

One LocalStack per test run, xdist or not: the first worker to need it starts it, under a
file lock in a directory named for the run, through a keeper process that stops it when
the run's first process (pytest, or xdist's controller) exits; the other workers find its
URL in the state file there (``local.localstack.shared``).

The instance runs from the ``.localstack`` venv (``make localstack``). When it is missing
the tests are skipped, unless ``SERVICEDESK_REQUIRE_LOCALSTACK=1`` (which `make test`, and
so CI, sets): then they fail.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from local import localstack as localstack_runtime

REQUIRED = "SERVICEDESK_REQUIRE_LOCALSTACK"


def _run() -> tuple[Path, int]:
    """The directory shared by this run's processes, and the process that owns the run."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run_id, owner = os.environ["PYTEST_XDIST_TESTRUNUID"], os.getppid()
    else:
        run_id, owner = str(os.getpid()), os.getpid()
    return Path(tempfile.gettempdir()) / f"servicedesk-localstack-{run_id}", owner


@pytest.fixture(scope="session")
def localstack() -> str:
    """The run's LocalStack (S3 and SQS): its URL."""
    run, owner = _run()
    try:
        return localstack_runtime.shared(run, owner=owner)
    except localstack_runtime.NotInstalled as missing:
        if os.environ.get(REQUIRED) == "1":
            pytest.fail(f"{missing} ({REQUIRED}=1)")
        pytest.skip(str(missing))


@pytest.fixture(scope="module")
def aws_endpoint(localstack: str) -> Iterator[str]:
    """AWS_ENDPOINT_URL and credentials for LocalStack in this module (the root conftest's
    moto endpoint, if this worker started it, is restored afterwards), fresh clients."""
    from servicedesk.platform import aws

    patch = pytest.MonkeyPatch()
    patch.setenv("AWS_ENDPOINT_URL", localstack)
    for name, value in localstack_runtime.CREDENTIALS.items():
        patch.setenv(name, value)
    aws.reset()
    yield localstack
    patch.undo()
    aws.reset()
