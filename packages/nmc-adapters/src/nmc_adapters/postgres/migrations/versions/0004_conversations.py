"""Conversations over SMS: the lifecycle states, the contacts' opt-out state and ledger,
conversation settings, inbound messages and who wrote each text.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from nmc_adapters.postgres.migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Kept literally (not read from the metadata) so this migration never changes once shipped.
TENANT_TABLES = ("contacts", "opt_outs", "conversation_settings")
DEFAULT_AFTER_HOURS = (
    "Hi, this is {business_name}. Sorry we missed your call! We're closed now and open "
    "again {next_open}. Reply here with what you need and we'll get back to you."
)
AUTHORS = "('text_back', 'assistant', 'person', 'compliance', 'contact')"
STATUSES = (
    "('held', 'queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', "
    "'canceled', 'received')"
)
OLD_STATUSES = "('held', 'queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed')"


def _timestamp(name: str, **kw: object) -> sa.Column[object]:
    return sa.Column(name, postgresql.TIMESTAMP(timezone=True), **kw)  # type: ignore[arg-type]


def upgrade() -> None:
    op.add_column(
        "tenants",
        sa.Column(
            "after_hours_template", sa.Text(), server_default=DEFAULT_AFTER_HOURS, nullable=False
        ),
    )

    op.drop_constraint("conversation_status_known", "conversations", type_="check")
    op.create_check_constraint(
        "conversation_status_known",
        "conversations",
        "status IN ('open', 'human', 'blocked', 'closed')",
    )
    op.drop_index("conversations_one_open_per_caller", table_name="conversations")
    op.create_index(
        "conversations_one_active_per_caller",
        "conversations",
        ["tenant_id", "caller"],
        unique=True,
        postgresql_where=sa.text("status <> 'closed'"),
    )
    op.add_column(
        "conversations",
        sa.Column("business_number", sa.Text(), server_default="", nullable=False),
    )
    # Conversations so far were opened by missed calls: their number is the one called.
    op.execute(
        "UPDATE conversations c SET business_number = calls.called FROM calls "
        "WHERE calls.tenant_id = c.tenant_id AND calls.conversation_id = c.id"
    )
    op.add_column("conversations", _timestamp("last_activity_at", nullable=True))
    op.add_column(
        "conversations",
        sa.Column("opened_by", sa.Text(), server_default="call", nullable=False),
    )
    op.create_check_constraint(
        "conversation_opened_by_known", "conversations", "opened_by IN ('call', 'text')"
    )
    op.add_column("conversations", sa.Column("text_back_id", sa.UUID(), nullable=True))
    op.add_column(
        "conversations",
        sa.Column(
            "memory",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
    )
    op.create_index(
        "conversations_by_activity", "conversations", ["tenant_id", "last_activity_at", "id"]
    )

    op.add_column(
        "messages", sa.Column("author", sa.Text(), server_default="text_back", nullable=False)
    )
    op.execute("UPDATE messages SET author = 'contact' WHERE direction = 'inbound'")
    op.create_check_constraint("message_author_known", "messages", f"author IN {AUTHORS}")
    op.add_column(
        "messages",
        sa.Column(
            "media_urls",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
    )
    op.drop_constraint("message_status_known", "messages", type_="check")
    op.create_check_constraint("message_status_known", "messages", f"status IN {STATUSES}")
    op.create_index(
        "messages_by_conversation", "messages", ["tenant_id", "conversation_id", "created_at"]
    )
    op.create_index(
        "messages_pending_to",
        "messages",
        ["tenant_id", "to_number"],
        postgresql_where=sa.text("status IN ('held', 'queued')"),
    )

    op.create_table(
        "contacts",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.Column("opted_out", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("textable", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("not_textable_reason", sa.Text(), nullable=True),
        _timestamp("updated_at", server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "phone", name="contacts_pkey"),
    )
    op.create_table(
        "opt_outs",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("message_id", sa.UUID(), nullable=True),
        _timestamp("occurred_at", nullable=False),
        sa.CheckConstraint("action IN ('opt_out', 'opt_in')", name="opt_out_action_known"),
        sa.CheckConstraint("source IN ('keyword', 'carrier')", name="opt_out_source_known"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="opt_outs_pkey"),
    )
    op.create_index("opt_outs_by_time", "opt_outs", ["tenant_id", "occurred_at", "id"])
    op.create_table(
        "conversation_settings",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("conversation_idle_hours", sa.Integer(), server_default="24", nullable=False),
        sa.Column("help_contact", sa.Text(), nullable=True),
        sa.Column("assistant_disclosure", sa.Text(), nullable=True),
        _timestamp("updated_at", server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("conversation_idle_hours BETWEEN 1 AND 720", name="idle_hours_range"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", name="conversation_settings_pkey"),
    )
    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(table)
    op.drop_table("conversation_settings")
    op.drop_index("opt_outs_by_time", table_name="opt_outs")
    op.drop_table("opt_outs")
    op.drop_table("contacts")
    op.drop_index("messages_pending_to", table_name="messages")
    op.drop_index("messages_by_conversation", table_name="messages")
    op.drop_constraint("message_status_known", "messages", type_="check")
    op.execute("DELETE FROM messages WHERE direction = 'inbound'")
    op.execute("UPDATE messages SET status = 'failed' WHERE status = 'canceled'")
    op.create_check_constraint("message_status_known", "messages", f"status IN {OLD_STATUSES}")
    op.drop_column("messages", "media_urls")
    op.drop_constraint("message_author_known", "messages", type_="check")
    op.drop_column("messages", "author")
    op.drop_index("conversations_by_activity", table_name="conversations")
    op.drop_column("conversations", "memory")
    op.drop_column("conversations", "text_back_id")
    op.drop_constraint("conversation_opened_by_known", "conversations", type_="check")
    op.drop_column("conversations", "opened_by")
    op.drop_column("conversations", "last_activity_at")
    op.drop_column("conversations", "business_number")
    op.drop_index("conversations_one_active_per_caller", table_name="conversations")
    # Back to one open conversation per caller: what was human or blocked is closed now.
    op.execute(
        "UPDATE conversations SET status = 'closed', closed_at = coalesce(closed_at, now()) "
        "WHERE status IN ('human', 'blocked')"
    )
    op.create_index(
        "conversations_one_open_per_caller",
        "conversations",
        ["tenant_id", "caller"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.drop_constraint("conversation_status_known", "conversations", type_="check")
    op.create_check_constraint(
        "conversation_status_known", "conversations", "status IN ('open', 'closed')"
    )
    op.drop_column("tenants", "after_hours_template")
