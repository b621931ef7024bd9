"""The request pipeline: principal -> one tenant transaction -> RequestContext (invariant 2).

The FastAPI half; ``RequestContext`` and the principal lookup live in ``platform.tenancy``,
which the non-HTTP functions import without FastAPI."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from servicedesk.platform import db
from servicedesk.platform.errors import Unauthorized
from servicedesk.platform.tenancy import RequestContext, resolve_principal
from servicedesk.platform.tokens import Claims, InvalidToken, verify_token_async


def request_id(request: Request) -> str | None:
    value = getattr(request.state, "request_id", None)
    return value if isinstance(value, str) else None


def client_ip(request: Request) -> str | None:
    """The caller's address as the platform guarantees it, never as a header claims it.

    On Lambda: API Gateway's ``requestContext.identity.sourceIp`` (``X-Forwarded-For`` is
    whatever the client sent, with the gateway's hop appended). Locally: the socket peer,
    which is the client only because the server does not rewrite it from proxy headers
    (local/serve.py starts uvicorn with ``--no-proxy-headers``).
    """
    event = request.scope.get("aws.event")
    if event is not None:
        identity = (event.get("requestContext") or {}).get("identity") or {}
        source = identity.get("sourceIp")
        return str(source) if source else None
    return request.client.host if request.client else None


async def authenticate(request: Request) -> Claims:
    """Verified claims: from the API Gateway authorizer on Lambda, from the token locally.

    ``async``: it does no blocking I/O for our own tokens (an in-memory signature check),
    so FastAPI runs it on the event loop instead of handing it to a worker thread and back
    (docs/benchmarks.md, "Tickets"); an external issuer's key-set fetch still runs in a
    thread (``tokens.verify_token_async``).
    """
    event = request.scope.get("aws.event")
    if event is not None:
        authorizer = (event.get("requestContext") or {}).get("authorizer") or {}
        if authorizer.get("kind"):
            try:
                claims = Claims.from_context(authorizer)
            except InvalidToken as exc:
                raise Unauthorized("invalid authorizer context") from exc
            # API Gateway caches the authorizer's decision per token for minutes; the
            # token's own expiry still ends it on time.
            if claims.expires_at is not None and claims.expires_at < time.time():
                raise Unauthorized("access token expired", header="Authorization")
            return claims
    header = request.headers.get("authorization")
    if not header:
        raise Unauthorized("missing Authorization header", header="Authorization")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization header must be 'Bearer <token>'", header="Authorization")
    try:
        return await verify_token_async(token.strip())
    except InvalidToken as exc:
        # The reason stays in the server log; the client learns only that the token failed.
        request.state.auth_failure = str(exc)
        raise Unauthorized("invalid or expired access token", header="Authorization") from exc


def tenant_context(
    request: Request, claims: Annotated[Claims, Depends(authenticate)]
) -> Iterator[RequestContext]:
    with db.transaction() as session:
        tenant_id, user_id, role, granted = resolve_principal(session, claims, scoped_ok=True)
        ctx = RequestContext.of(
            session,
            tenant_id,
            user_id,
            role,
            granted,
            request_id=request_id(request),
            client_ip=client_ip(request),
            ticket_scope=claims.ticket_scope,  # enforced per route by rbac.requires
            session_id=uuid.UUID(claims.session_id) if claims.session_id else None,
        )
        request.state.principal = {"tenant_id": str(tenant_id), "user_id": str(user_id)}
        yield ctx
    _publish(session, tenant_id)


def _publish(session: Session, tenant_id: uuid.UUID | None) -> None:
    """After the commit, never before: a rolled-back request publishes nothing."""
    ids = session.info.get("outbox_ids")
    if ids:
        from servicedesk.platform.publisher import publish_after_commit

        publish_after_commit(tenant_id, list(ids))


def plain_publish(session: Session) -> None:
    """Publish what a committed transaction of a domain's own pipeline wrote to the outbox
    (the SCIM routes authenticate with their own token: servicedesk/scim/auth.py)."""
    _publish(session, session.info.get("tenant_id"))


def plain_transaction(request: Request) -> Iterator[Session]:
    """A transaction with no tenant yet, for the pre-authentication routes (login, signup)."""
    with db.transaction() as session:
        yield session
    _publish(session, session.info.get("tenant_id"))


# scope="function": commit (or roll back) before the response is sent, so a failed commit
# becomes an error response instead of a success the database never saw.
Ctx = Annotated[RequestContext, Depends(tenant_context, scope="function")]
Tx = Annotated[Session, Depends(plain_transaction, scope="function")]
