"""Reporting: response episodes and daily rollups, and what they read that was not stored.

`report_episodes` keeps each response episode once; `report_daily` one row per tenant-local
day and metric (both tenant row-level security). `conversation_handoffs` records each stretch
of a conversation in a person's hands; `messages.accepted_at` when the provider took an
outbound text; `bookings.held_at` and `booked_at` when a hold was made and became an
appointment (existing rows take their creation and last update as the best known times).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-09
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from nmc_adapters.postgres.migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TIMESTAMPTZ = postgresql.TIMESTAMP(timezone=True)


def upgrade() -> None:
    op.add_column("messages", sa.Column("accepted_at", TIMESTAMPTZ, nullable=True))
    op.add_column("bookings", sa.Column("held_at", TIMESTAMPTZ, nullable=True))
    op.add_column("bookings", sa.Column("booked_at", TIMESTAMPTZ, nullable=True))
    op.execute("UPDATE bookings SET held_at = created_at")
    op.execute("UPDATE bookings SET booked_at = updated_at WHERE status IN ('booked', 'canceled')")
    op.create_table(
        "conversation_handoffs",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("conversation_id", sa.UUID(), nullable=False),
        sa.Column("at", TIMESTAMPTZ, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("released_at", TIMESTAMPTZ, nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "conversation_id"],
            ["conversations.tenant_id", "conversations.id"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="conversation_handoffs_pkey"),
    )
    op.create_index(
        "conversation_handoffs_by_conversation",
        "conversation_handoffs",
        ["tenant_id", "conversation_id", "at"],
    )
    enable_tenant_rls("conversation_handoffs")
    op.create_table(
        "report_episodes",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("conversation_id", sa.UUID(), nullable=False),
        sa.Column("start_type", sa.Text(), nullable=False),
        sa.Column("started_at", TIMESTAMPTZ, nullable=False),
        sa.Column("end_type", sa.Text(), nullable=False),
        sa.Column("ended_at", TIMESTAMPTZ, nullable=False),
        sa.Column("seconds", sa.Double(), nullable=False),
        sa.CheckConstraint(
            "start_type IN ('missed_call', 'inbound', 'handoff')", name="episode_start_known"
        ),
        sa.CheckConstraint(
            "end_type IN ('text_back', 'assistant', 'person')", name="episode_end_known"
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint(
            "tenant_id", "conversation_id", "start_type", "started_at", name="report_episodes_pkey"
        ),
    )
    enable_tenant_rls("report_episodes")
    op.create_table(
        "report_daily",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("p50", sa.Double(), nullable=True),
        sa.Column("p95", sa.Double(), nullable=True),
        sa.Column("buckets", postgresql.ARRAY(sa.Integer()), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "day", "metric", name="report_daily_pkey"),
    )
    enable_tenant_rls("report_daily")


def downgrade() -> None:
    for table in ("report_daily", "report_episodes", "conversation_handoffs"):
        disable_tenant_rls(table)
        op.drop_table(table)
    op.drop_column("bookings", "booked_at")
    op.drop_column("bookings", "held_at")
    op.drop_column("messages", "accepted_at")
