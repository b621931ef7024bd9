"""Engine, sessions and the tenant transaction (DESIGN invariants 1 and 2)."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, create_engine, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.pool import QueuePool

from servicedesk.platform import aws, tracing, xray
from servicedesk.platform.config import Settings, get_settings, resolve_secret
from servicedesk.platform.errors import ServiceUnavailable

# Session.info key: tenants.settings (a dict) as the request's principal statement read
# it (platform.context), so a domain's settings cost no extra round trip. Absent when the
# transaction resolved no principal that way (an external principal, a job).
TENANT_SETTINGS = "tenant_settings"

# What a client is told to wait when every pooled connection is busy.
BUSY_RETRY_AFTER_SECONDS = 1
# A statement cut by the statement timeout (or cancelled): the database was too busy for
# it, or it asked too much; the caller may retry later or narrow the request.
SLOW_RETRY_AFTER_SECONDS = 5
QUERY_CANCELED = "57014"  # SQLSTATE query_canceled

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    # Every timestamp is timestamptz: a naive binding would shift under a session time zone.
    type_annotation_map = {datetime: DateTime(timezone=True)}


def database_url(settings: Settings) -> URL:
    """The application role's URL, from env or from an RDS-style JSON secret."""
    if settings.database_url is not None:
        url = make_url(settings.database_url.get_secret_value())
    else:
        raw = resolve_secret(None, settings.database_secret_arn)
        if raw is None:
            raise RuntimeError("no database configured")
        secret = json.loads(raw)
        url = URL.create(
            "postgresql+psycopg",
            username=secret["username"],
            password=secret["password"],
            host=secret["host"],
            port=int(secret.get("port", 5432)),
            database=secret.get("dbname", "servicedesk"),
            query={"sslmode": "require"},
        )
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def make_engine(
    url: URL | str,
    *,
    pool_size: int = 2,
    max_overflow: int = 2,
    pool_timeout: float = 2.0,
    statement_timeout_ms: int = 10_000,
    pool_pre_ping: bool = True,
) -> Engine:
    return create_engine(
        url,
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=max_overflow,
        # Waiting longer for a connection only turns overload into slow 500s.
        pool_timeout=pool_timeout,
        pool_pre_ping=pool_pre_ping,
        pool_recycle=600,
        # RDS Proxy multiplexes connections: server-side prepared statements would pin them.
        connect_args={
            "prepare_threshold": None,
            "options": f"-c statement_timeout={statement_timeout_ms}",
            "application_name": "servicedesk",
        },
    )


def use_iam_auth(engine: Engine, *, region: str | None) -> None:
    """Give every new connection a fresh IAM auth token as its password (RDS Proxy)."""

    @event.listens_for(engine, "do_connect")
    def _token(dialect: Any, conn_rec: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        # The shared client: after aws.reset() (SnapStart restore) the next connection
        # signs with the credentials of the restored environment.
        cparams["password"] = aws.rds(region).generate_db_auth_token(
            DBHostname=cparams["host"],
            Port=int(cparams.get("port") or 5432),
            DBUsername=cparams["user"],
        )
        cparams.setdefault("sslmode", "require")


@functools.cache
def get_engine() -> Engine:
    settings = get_settings()
    engine = make_engine(
        database_url(settings),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        statement_timeout_ms=settings.db_statement_timeout_ms,
        pool_pre_ping=settings.db_pool_pre_ping,
    )
    if settings.database_iam_auth:
        use_iam_auth(engine, region=settings.database_region)
    # Each statement a subsegment of the function's X-Ray segment (when the invocation is
    # sampled and a daemon listens: on Lambda with active tracing; platform/xray.py), unless
    # SERVICEDESK_TRACE_SQL=0.
    if settings.trace_sql:
        xray.instrument(engine)
    return engine


def set_tenant(session: Session, *, tenant_id: uuid.UUID | None, user_id: uuid.UUID | None) -> None:
    """Scope the current transaction to a tenant and user (transaction-local settings), and
    name the trace in force (``app.trace``: the default of ``outbox.trace``, so every event
    the transaction writes keeps its trace across the queue hop, however it is written)."""
    session.execute(
        text(
            "SELECT set_config('app.tenant_id', :tid, true), set_config('app.user_id', :uid, true),"
            " set_config('app.trace', :trace, true)"
        ),
        {
            "tid": str(tenant_id) if tenant_id else "",
            "uid": str(user_id) if user_id else "",
            "trace": tracing.current() or "",
        },
    )
    if session.info.get("tenant_id") != tenant_id:
        # The principal statement's snapshot of settings is the previous tenant's.
        session.info.pop(TENANT_SETTINGS, None)
    session.info["tenant_id"] = tenant_id


@contextmanager
def transaction(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction: commit at the end, roll back on any error. The only commit there is.

    No pooled connection free within the pool timeout, and a statement cut by the
    statement timeout, are ServiceUnavailable (503 with Retry-After), never a 500: the
    client backs off, the process stays responsive. Every request, job and consumer runs
    in here, so this is the one place the mapping is made.
    """
    session = Session(bind=engine or get_engine(), expire_on_commit=False, autoflush=True)
    try:
        with session.begin():
            yield session
    except sa_exc.TimeoutError as exc:  # QueuePool: no connection within pool_timeout
        raise ServiceUnavailable(
            "the server is busy; retry shortly", retry_after=BUSY_RETRY_AFTER_SECONDS
        ) from exc
    except sa_exc.OperationalError as exc:
        if getattr(exc.orig, "sqlstate", None) != QUERY_CANCELED:
            raise
        raise ServiceUnavailable(
            "the request took longer than the database allows; retry later or narrow it",
            retry_after=SLOW_RETRY_AFTER_SECONDS,
        ) from exc
    finally:
        session.close()


@contextmanager
def system_transaction(tenant_id: uuid.UUID) -> Iterator[Session]:
    """A short transaction of one tenant with no user (a job's claim or progress, committed
    on its own so that who polls the job sees it move)."""
    with transaction() as session:
        set_tenant(session, tenant_id=tenant_id, user_id=None)
        yield session


def jsonable(value: Any) -> Any:
    """Make ids and timestamps JSON-safe for jsonb payloads."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value
