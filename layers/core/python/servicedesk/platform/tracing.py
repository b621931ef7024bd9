"""One trace id across hops: request → outbox → SQS → consumer (→ its own events).

The trace context is an X-Ray trace header (``Root=1-<8 hex time>-<24 hex>;Parent=…;
Sampled=…``). On Lambda with active tracing the runtime gives each invocation one
(``_X_AMZN_TRACE_ID``) and API Gateway passes the request's in ``X-Amzn-Trace-Id``;
locally, without X-Ray, a root of the same format is made per request. Either way the
header in force is kept in a context variable (``bind``), its root is on every log line
as ``trace_id``, and the publisher puts it on each SQS message: in the body (``trace``,
which every consumer reads back: platform.consumer.Envelope) and as the message's
``AWSTraceHeader`` system attribute, with which SQS and Lambda link the consumer's
segment to the sender's trace in X-Ray.

No SDK is imported for this (cold start): the header is plain text.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from servicedesk.platform.logging import labels

HEADER = "x-amzn-trace-id"
LAMBDA_ENV = "_X_AMZN_TRACE_ID"
ROOT = re.compile(r"^1-[0-9a-f]{8}-[0-9a-f]{24}$")
# What a header may hold (X-Ray's: key=value pairs); anything else is replaced.
HEADER_FORM = re.compile(r"^[A-Za-z0-9=;:._-]{1,256}$")

_CURRENT: ContextVar[str | None] = ContextVar("servicedesk_trace", default=None)


def new_root(now: float | None = None) -> str:
    """A trace root in X-Ray's format: version, epoch seconds (8 hex), 96 random bits."""
    return f"1-{int(time.time() if now is None else now):08x}-{secrets.token_hex(12)}"


def root_of(header: str | None) -> str | None:
    """The ``Root=`` of a trace header (or a bare root), when well-formed."""
    if not header or not HEADER_FORM.match(header):
        return None
    for part in header.split(";"):
        key, _, value = part.partition("=")
        candidate = value if value else key
        if (key == "Root" or not value) and ROOT.match(candidate):
            return candidate
    return None


PARENT = re.compile(r"^[0-9a-f]{16}$")


def canonical(header: str | None) -> str | None:
    """The header rebuilt from its checked parts only (Root, Parent, Sampled): what goes
    on a message's AWSTraceHeader is always well-formed, whatever a client sent."""
    root = root_of(header)
    if root is None or header is None:
        return None
    parts = dict(p.partition("=")[::2] for p in header.split(";"))
    out = f"Root={root}"
    if PARENT.match(parts.get("Parent", "")):
        out += f";Parent={parts['Parent']}"
    if parts.get("Sampled") in ("0", "1"):
        out += f";Sampled={parts['Sampled']}"
    return out


def incoming(header: str | None) -> str:
    """The trace header of a request: the one it came with (API Gateway's), the Lambda
    invocation's, or a new root (locally, or a client sent none or a malformed one)."""
    for candidate in (header, os.environ.get(LAMBDA_ENV)):
        checked = canonical(candidate)
        if checked:
            return checked
    return f"Root={new_root()};Sampled=0"


def current() -> str | None:
    """The trace header in force: the bound one, else the Lambda invocation's."""
    bound = _CURRENT.get()
    if bound:
        return bound
    return canonical(os.environ.get(LAMBDA_ENV))


@contextmanager
def bind(header: str | None) -> Iterator[str | None]:
    """Make ``header`` the trace in force (and its root every log line's ``trace_id``)."""
    if not root_of(header):
        yield None
        return
    token = _CURRENT.set(header)
    try:
        with labels(trace_id=root_of(header)):
            yield header
    finally:
        _CURRENT.reset(token)
