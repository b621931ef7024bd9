"""Connection registry tables (the schema itself is owned by migrations/0007_realtime.py and
0054_graphql_subscriptions.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from servicedesk.platform.db import Base

NOW = text("now()")


class Connection(Base):
    __tablename__ = "realtime_connections"

    connection_id: Mapped[str] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    expires_at: Mapped[datetime]
    connected_at: Mapped[datetime] = mapped_column(server_default=NOW)
    window_started_at: Mapped[datetime] = mapped_column(server_default=NOW)
    frames_in_window: Mapped[int] = mapped_column(server_default=text("0"))
    # The sign-in whose access token opened it (migrations/0039): revoking the session
    # forgets the connection and has the broadcaster close it.
    session_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # servicedesk.v1 or graphql-transport-ws (migrations/0054); a GraphQL socket's
    # connection_init acknowledgement.
    protocol: Mapped[str] = mapped_column(server_default=text("'servicedesk.v1'"))
    acked_at: Mapped[datetime | None]


class Subscription(Base):
    __tablename__ = "realtime_subscriptions"

    connection_id: Mapped[str] = mapped_column(
        ForeignKey("realtime_connections.connection_id", ondelete="CASCADE"), primary_key=True
    )
    channel: Mapped[str] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    typing_at: Mapped[datetime | None]
    presence_state: Mapped[str | None]
    presence_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(server_default=NOW)


class GraphQLSubscription(Base):
    """One operation a graphql-transport-ws socket subscribed (migrations/0054)."""

    __tablename__ = "graphql_subscriptions"

    connection_id: Mapped[str] = mapped_column(
        ForeignKey("realtime_connections.connection_id", ondelete="CASCADE"), primary_key=True
    )
    operation_id: Mapped[str] = mapped_column(primary_key=True)
    tenant_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    ticket_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    document: Mapped[str]
    variables: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
    operation_name: Mapped[str | None]
    created_at: Mapped[datetime] = mapped_column(server_default=NOW)
