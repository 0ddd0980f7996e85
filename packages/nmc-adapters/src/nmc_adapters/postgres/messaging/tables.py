"""Tables of messaging: the messages we send (and, later, receive)."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    PrimaryKeyConstraint,
    Table,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import UUID

from nmc_adapters.postgres.schema import metadata, timestamp

__all__ = ["messages"]

messages = Table(
    "messages",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("id", UUID(as_uuid=True), nullable=False),
    Column("conversation_id", UUID(as_uuid=True)),
    Column("direction", Text, nullable=False, server_default="outbound"),
    Column("to_number", Text, nullable=False),
    Column("from_number", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("provider_sid", Text),
    timestamp("send_attempted_at", nullable=True),
    Column("error", Text),
    timestamp("created_at"),
    timestamp("updated_at", now=True),
    PrimaryKeyConstraint("tenant_id", "id", name="messages_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    ForeignKeyConstraint(
        ["tenant_id", "conversation_id"], ["conversations.tenant_id", "conversations.id"]
    ),
    CheckConstraint("direction IN ('outbound', 'inbound')", name="message_direction_known"),
    CheckConstraint(
        "status IN ('held', 'queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed')",
        name="message_status_known",
    ),
    Index("messages_held", "tenant_id", "created_at", postgresql_where=text("status = 'held'")),
)
