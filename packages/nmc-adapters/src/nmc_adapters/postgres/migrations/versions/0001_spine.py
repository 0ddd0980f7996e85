"""The spine: tenants, number routing, webhook events, calls, conversations, messages, outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_NOTIFY_FUNCTION = """
CREATE FUNCTION nmc_notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('nmc_outbox', '');
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "outbox_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=True),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column(
            "available_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("dispatched_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("dead_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "outbox_events_pending",
        "outbox_events",
        ["id"],
        unique=False,
        postgresql_where=sa.text("dispatched_at IS NULL AND dead_at IS NULL"),
    )
    op.create_table(
        "tenants",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("timezone", sa.Text(), nullable=False),
        sa.Column("forward_to", sa.Text(), nullable=False),
        sa.Column("owner_email", sa.Text(), nullable=False),
        sa.Column("compliance_status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("compliance_reason", sa.Text(), nullable=True),
        sa.Column("text_back_template", sa.Text(), nullable=False),
        sa.Column("ring_timeout_seconds", sa.Integer(), server_default="18", nullable=False),
        sa.Column("short_call_threshold_seconds", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "compliance_status IN ('pending', 'approved', 'rejected')",
            name="compliance_status_known",
        ),
        sa.CheckConstraint("ring_timeout_seconds BETWEEN 5 AND 600", name="ring_timeout_range"),
        sa.CheckConstraint(
            "short_call_threshold_seconds > 0", name="short_call_threshold_positive"
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "webhook_events",
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("event_key", sa.Text(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "received_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("provider", "event_key", name="webhook_events_pkey"),
    )
    op.create_table(
        "conversations",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("caller", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("opened_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("closed_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('open', 'closed')", name="conversation_status_known"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="conversations_pkey"),
    )
    op.create_index(
        "conversations_one_open_per_caller",
        "conversations",
        ["tenant_id", "caller"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "phone_numbers",
        sa.Column("e164", sa.Text(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column(
            "created_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("e164 ~ '^\\+[1-9][0-9]{6,14}$'", name="e164_shape"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("e164"),
    )
    op.create_index("phone_numbers_tenant", "phone_numbers", ["tenant_id"], unique=False)
    op.create_table(
        "calls",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("call_sid", sa.Text(), nullable=False),
        sa.Column("caller", sa.Text(), nullable=False),
        sa.Column("called", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.Column("conversation_id", sa.UUID(), nullable=True),
        sa.Column("occurred_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.CheckConstraint("outcome IN ('missed', 'answered')", name="call_outcome_known"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "conversation_id"],
            ["conversations.tenant_id", "conversations.id"],
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="calls_pkey"),
        sa.UniqueConstraint("tenant_id", "call_sid", name="calls_one_per_sid"),
    )
    op.create_index(
        "calls_by_conversation", "calls", ["tenant_id", "conversation_id"], unique=False
    )
    op.create_table(
        "messages",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("conversation_id", sa.UUID(), nullable=True),
        sa.Column("direction", sa.Text(), server_default="outbound", nullable=False),
        sa.Column("to_number", sa.Text(), nullable=False),
        sa.Column("from_number", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("provider_sid", sa.Text(), nullable=True),
        sa.Column("send_attempted_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column(
            "updated_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("direction IN ('outbound', 'inbound')", name="message_direction_known"),
        sa.CheckConstraint(
            "status IN ('held', 'queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed')",
            name="message_status_known",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "conversation_id"],
            ["conversations.tenant_id", "conversations.id"],
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="messages_pkey"),
    )
    op.create_index(
        "messages_held",
        "messages",
        ["tenant_id", "created_at"],
        unique=False,
        postgresql_where=sa.text("status = 'held'"),
    )
    # Wake the workers when outbox rows arrive; NOTIFY is delivered at commit, once per
    # transaction, so a worker never looks before the rows are visible.
    op.execute(_NOTIFY_FUNCTION)
    op.execute(
        "CREATE TRIGGER outbox_events_notify AFTER INSERT ON outbox_events "
        "FOR EACH STATEMENT EXECUTE FUNCTION nmc_notify_outbox()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS outbox_events_notify ON outbox_events")
    op.execute("DROP FUNCTION IF EXISTS nmc_notify_outbox()")
    op.drop_index(
        "messages_held", table_name="messages", postgresql_where=sa.text("status = 'held'")
    )
    op.drop_table("messages")
    op.drop_index("calls_by_conversation", table_name="calls")
    op.drop_table("calls")
    op.drop_index("phone_numbers_tenant", table_name="phone_numbers")
    op.drop_table("phone_numbers")
    op.drop_index(
        "conversations_one_open_per_caller",
        table_name="conversations",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.drop_table("conversations")
    op.drop_table("webhook_events")
    op.drop_table("tenants")
    op.drop_index(
        "outbox_events_pending",
        table_name="outbox_events",
        postgresql_where=sa.text("dispatched_at IS NULL AND dead_at IS NULL"),
    )
    op.drop_table("outbox_events")
