"""The schema as SQLAlchemy Core tables (queries use these; migrations create them)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TIMESTAMP, UUID

__all__ = [
    "TENANT_TABLES",
    "calls",
    "catalog_items",
    "conversations",
    "messages",
    "metadata",
    "outbox_events",
    "phone_numbers",
    "quotes",
    "tenants",
    "users",
    "webhook_events",
]

metadata = MetaData()
_NOW = text("now()")


def _ts(name: str, *, nullable: bool = False, now: bool = False) -> Column[object]:
    return Column(
        name, TIMESTAMP(timezone=True), nullable=nullable, server_default=_NOW if now else None
    )


tenants = Table(
    "tenants",
    metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", Text, nullable=False),
    Column("timezone", Text, nullable=False),
    Column("forward_to", Text, nullable=False),
    Column("owner_email", Text, nullable=False),
    Column("compliance_status", Text, nullable=False, server_default="pending"),
    Column("compliance_reason", Text),
    Column("text_back_template", Text, nullable=False),
    Column("ring_timeout_seconds", Integer, nullable=False, server_default="18"),
    Column("short_call_threshold_seconds", Integer),
    _ts("created_at", now=True),
    _ts("updated_at", now=True),
    CheckConstraint(
        "compliance_status IN ('pending', 'approved', 'rejected')", name="compliance_status_known"
    ),
    CheckConstraint("ring_timeout_seconds BETWEEN 5 AND 600", name="ring_timeout_range"),
    CheckConstraint("short_call_threshold_seconds > 0", name="short_call_threshold_positive"),
)

# Global routing table: an E.164 number belongs to exactly one tenant.
phone_numbers = Table(
    "phone_numbers",
    metadata,
    Column("e164", Text, primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    _ts("created_at", now=True),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    CheckConstraint("e164 ~ '^\\+[1-9][0-9]{6,14}$'", name="e164_shape"),
    Index("phone_numbers_tenant", "tenant_id"),
)

# A replay is recognised by this primary key, not by a read-then-write.
webhook_events = Table(
    "webhook_events",
    metadata,
    Column("provider", Text, nullable=False),
    Column("event_key", Text, nullable=False),
    Column("tenant_id", UUID(as_uuid=True)),
    Column("payload", JSONB, nullable=False),
    _ts("received_at", now=True),
    PrimaryKeyConstraint("provider", "event_key", name="webhook_events_pkey"),
)

conversations = Table(
    "conversations",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("id", UUID(as_uuid=True), nullable=False),
    Column("caller", Text, nullable=False),
    Column("status", Text, nullable=False),
    _ts("opened_at"),
    _ts("closed_at", nullable=True),
    PrimaryKeyConstraint("tenant_id", "id", name="conversations_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    CheckConstraint("status IN ('open', 'closed')", name="conversation_status_known"),
    # At most one open conversation per caller: "open or find" is an upsert on this index.
    Index(
        "conversations_one_open_per_caller",
        "tenant_id",
        "caller",
        unique=True,
        postgresql_where=text("status = 'open'"),
    ),
)

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
    _ts("occurred_at"),
    PrimaryKeyConstraint("tenant_id", "id", name="calls_pkey"),
    UniqueConstraint("tenant_id", "call_sid", name="calls_one_per_sid"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    ForeignKeyConstraint(
        ["tenant_id", "conversation_id"], ["conversations.tenant_id", "conversations.id"]
    ),
    CheckConstraint("outcome IN ('missed', 'answered')", name="call_outcome_known"),
    Index("calls_by_conversation", "tenant_id", "conversation_id"),
)

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
    _ts("send_attempted_at", nullable=True),
    Column("error", Text),
    _ts("created_at"),
    _ts("updated_at", now=True),
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

outbox_events = Table(
    "outbox_events",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True)),
    Column("topic", Text, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("schema_version", Integer, nullable=False),
    _ts("available_at", now=True),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),
    _ts("dispatched_at", nullable=True),
    _ts("dead_at", nullable=True),
    _ts("created_at", now=True),
    # The worker's claim walks pending rows in id order; dispatched and dead rows drop out.
    Index(
        "outbox_events_pending",
        "id",
        postgresql_where=text("dispatched_at IS NULL AND dead_at IS NULL"),
    ),
)

users = Table(
    "users",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("id", UUID(as_uuid=True), nullable=False),
    Column("subject", Text, nullable=False),
    # Collation "C": lists sort the same on every server, whatever its locale.
    Column("email", Text(collation="C"), nullable=False),
    Column("role", Text, nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    _ts("created_at", now=True),
    _ts("updated_at", now=True),
    PrimaryKeyConstraint("tenant_id", "id", name="users_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    UniqueConstraint("tenant_id", "email", name="users_one_per_email"),
    UniqueConstraint("tenant_id", "subject", name="users_one_per_subject"),
    CheckConstraint("role IN ('OWNER', 'TECH')", name="user_role_known"),
)

catalog_items = Table(
    "catalog_items",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("id", UUID(as_uuid=True), nullable=False),
    Column("name", Text, nullable=False),
    # The case-insensitive form of the name: unique per tenant, and the list's sort key.
    Column("name_key", Text(collation="C"), nullable=False),
    Column("aliases", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("price_cents", Integer, nullable=False),
    Column("currency", Text, nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    _ts("created_at", now=True),
    _ts("updated_at", now=True),
    PrimaryKeyConstraint("tenant_id", "id", name="catalog_items_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    UniqueConstraint("tenant_id", "name_key", name="catalog_items_one_per_name"),
    CheckConstraint("price_cents BETWEEN 0 AND 10000000", name="price_range"),
    CheckConstraint("duration_minutes BETWEEN 5 AND 1440", name="duration_range"),
    CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_shape"),
)

# A quote is a snapshot of the item's price: the booking records this, not the live price.
quotes = Table(
    "quotes",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("id", UUID(as_uuid=True), nullable=False),
    Column("item_id", UUID(as_uuid=True), nullable=False),
    Column("price_cents", Integer, nullable=False),
    Column("currency", Text, nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    _ts("created_at", now=True),
    PrimaryKeyConstraint("tenant_id", "id", name="quotes_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    ForeignKeyConstraint(
        ["tenant_id", "item_id"],
        ["catalog_items.tenant_id", "catalog_items.id"],
        ondelete="CASCADE",
    ),
)

# Tables whose rows belong to one tenant, guarded by row-level security (migration 0002).
# phone_numbers (routing), webhook_events and outbox_events are cross-tenant system tables.
TENANT_TABLES = {
    "tenants": "id",
    "users": "tenant_id",
    "catalog_items": "tenant_id",
    "quotes": "tenant_id",
    "conversations": "tenant_id",
    "calls": "tenant_id",
    "messages": "tenant_id",
}
