"""How the local runtime's API server is started: one command line for `make dev`, the e2e
stack and the benchmarks, so they all run the same app the same way."""

from __future__ import annotations

import sys


def uvicorn_command(port: int, *, workers: int | None = None, quiet: bool = False) -> list[str]:
    """``python -m uvicorn local.asgi:app`` on 127.0.0.1:``port`` (no access log).

    ``--no-proxy-headers``: uvicorn otherwise trusts ``X-Forwarded-For`` from 127.0.0.1 and
    makes it the client address, so any local caller could pick the address that login and
    sign-up throttling count (platform.context.client_ip reads the socket peer).

    ``--timeout-keep-alive 65``: an idle keep-alive connection outlives the client's own
    idle limit (Node's fetch: 4 s; browsers: longer, and they retry), so the client closes
    first. With uvicorn's 5 s, a loaded client could reuse a connection the server was
    closing at that moment and get "other side closed" (as an ALB's 60 s idle timeout
    does in AWS, the server side waits longer than the client).
    """
    command = [sys.executable, "-m", "uvicorn", "local.asgi:app", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--no-access-log", "--no-proxy-headers"]
    command += ["--timeout-keep-alive", "65"]
    if workers is not None:
        command += ["--workers", str(workers)]
    if quiet:
        command += ["--log-level", "warning"]
    return command
