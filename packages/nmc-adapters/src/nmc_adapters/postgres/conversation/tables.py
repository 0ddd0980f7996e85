"""Tables of conversations."""

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
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from nmc_adapters.postgres.schema import metadata, timestamp

__all__ = ["conversation_handoffs", "conversation_settings", "conversations"]

conversations = Table(
    "conversations",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("id", UUID(as_uuid=True), nullable=False),
    Column("caller", Text, nullable=False),
    Column("status", Text, nullable=False),
    timestamp("opened_at"),
    timestamp("closed_at", nullable=True),
    Column("business_number", Text, nullable=False, server_default=""),
    timestamp("last_activity_at", nullable=True),
    Column("opened_by", Text, nullable=False, server_default="call"),
    Column("text_back_id", UUID(as_uuid=True)),
    # The assistant's memory between texts (stage, offers, ...).
    Column("memory", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    PrimaryKeyConstraint("tenant_id", "id", name="conversations_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    CheckConstraint(
        "status IN ('open', 'human', 'blocked', 'closed')", name="conversation_status_known"
    ),
    CheckConstraint("opened_by IN ('call', 'text')", name="conversation_opened_by_known"),
    # At most one conversation not closed per caller: "open or find" is an upsert on this.
    Index(
        "conversations_one_active_per_caller",
        "tenant_id",
        "caller",
        unique=True,
        postgresql_where=text("status <> 'closed'"),
    ),
    Index("conversations_by_activity", "tenant_id", "last_activity_at", "id"),
)

conversation_settings = Table(
    "conversation_settings",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("conversation_idle_hours", Integer, nullable=False, server_default="24"),
    Column("help_contact", Text),
    Column("assistant_disclosure", Text),
    timestamp("updated_at", now=True),
    PrimaryKeyConstraint("tenant_id", name="conversation_settings_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    CheckConstraint("conversation_idle_hours BETWEEN 1 AND 720", name="idle_hours_range"),
)

# Each stretch of a conversation in a person's hands (reports time a person's first answer
# from it): `at` the hand-off, `released_at` when it went back to the assistant.
conversation_handoffs = Table(
    "conversation_handoffs",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("id", UUID(as_uuid=True), nullable=False),
    Column("conversation_id", UUID(as_uuid=True), nullable=False),
    timestamp("at"),
    Column("reason", Text, nullable=False),
    timestamp("released_at", nullable=True),
    PrimaryKeyConstraint("tenant_id", "id", name="conversation_handoffs_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    ForeignKeyConstraint(
        ["tenant_id", "conversation_id"],
        ["conversations.tenant_id", "conversations.id"],
        ondelete="CASCADE",
    ),
    Index("conversation_handoffs_by_conversation", "tenant_id", "conversation_id", "at"),
)
