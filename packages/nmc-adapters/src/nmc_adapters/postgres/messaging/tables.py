"""Tables of messaging: the messages we send and receive."""

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
from sqlalchemy.dialects.postgresql import ARRAY, UUID

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
    # When the provider first took an outbound text (a text-back's latency ends here).
    timestamp("accepted_at", nullable=True),
    Column("error", Text),
    timestamp("created_at"),
    timestamp("updated_at", now=True),
    # Who wrote it: text_back, assistant, person, compliance (confirmations), contact (inbound).
    Column("author", Text, nullable=False, server_default="text_back"),
    Column("media_urls", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    # Inbound only: why nothing automated answered it (billing_inactive: the plan lapsed).
    Column("suppressed_reason", Text),
    PrimaryKeyConstraint("tenant_id", "id", name="messages_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    ForeignKeyConstraint(
        ["tenant_id", "conversation_id"], ["conversations.tenant_id", "conversations.id"]
    ),
    CheckConstraint("direction IN ('outbound', 'inbound')", name="message_direction_known"),
    CheckConstraint(
        "status IN ('held', 'queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', "
        "'canceled', 'received', 'needs_review')",
        name="message_status_known",
    ),
    CheckConstraint(
        "author IN ('text_back', 'assistant', 'person', 'compliance', 'contact')",
        name="message_author_known",
    ),
    CheckConstraint(
        "suppressed_reason IN ('billing_inactive')", name="message_suppressed_reason_known"
    ),
    Index("messages_held", "tenant_id", "created_at", postgresql_where=text("status = 'held'")),
    Index("messages_by_conversation", "tenant_id", "conversation_id", "created_at"),
    Index(
        "messages_pending_to",
        "tenant_id",
        "to_number",
        postgresql_where=text("status IN ('held', 'queued')"),
    ),
)
