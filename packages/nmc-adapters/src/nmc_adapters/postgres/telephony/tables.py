"""Tables of telephony: calls that reached a final status."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import UUID

from nmc_adapters.postgres.schema import metadata, timestamp

__all__ = ["calls"]

calls = Table(
    "calls",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("id", UUID(as_uuid=True), nullable=False),
    Column("call_sid", Text, nullable=False),
    Column("caller", Text, nullable=False),
    Column("called", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("outcome", Text, nullable=False),
    Column("reason", Text),
    Column("duration_seconds", Integer),
    Column("conversation_id", UUID(as_uuid=True)),
    timestamp("occurred_at"),
    PrimaryKeyConstraint("tenant_id", "id", name="calls_pkey"),
    UniqueConstraint("tenant_id", "call_sid", name="calls_one_per_sid"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    ForeignKeyConstraint(
        ["tenant_id", "conversation_id"], ["conversations.tenant_id", "conversations.id"]
    ),
    CheckConstraint("outcome IN ('missed', 'answered')", name="call_outcome_known"),
    Index("calls_by_conversation", "tenant_id", "conversation_id"),
)
