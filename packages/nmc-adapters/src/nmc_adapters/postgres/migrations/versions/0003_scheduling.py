"""Scheduling: technicians, weekly hours, closures, busy blocks, settings, and bookings (holds
and appointments) with the exclusion constraint that makes a double booking impossible.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from nmc_adapters.postgres.migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


# Kept literally (not read from the metadata) so this migration never changes once shipped.
TENANT_TABLES = (
    "technicians",
    "business_hours",
    "scheduling_settings",
    "closures",
    "busy_blocks",
    "bookings",
)


def upgrade() -> None:
    # `tenant_id WITH =` in a GiST exclusion constraint needs btree_gist (a trusted extension).
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "business_hours",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("periods", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "updated_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", name="business_hours_pkey"),
    )
    op.create_table(
        "closures",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "created_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="closures_pkey"),
        sa.UniqueConstraint("tenant_id", "day", name="closures_one_per_day"),
    )
    op.create_table(
        "scheduling_settings",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("slot_granularity_minutes", sa.Integer(), server_default="30", nullable=False),
        sa.Column("buffer_minutes", sa.Integer(), server_default="0", nullable=False),
        sa.Column("min_notice_minutes", sa.Integer(), server_default="60", nullable=False),
        sa.Column("horizon_days", sa.Integer(), server_default="14", nullable=False),
        sa.Column("hold_ttl_minutes", sa.Integer(), server_default="15", nullable=False),
        sa.Column("daily_limit_per_technician", sa.Integer(), nullable=True),
        sa.Column(
            "updated_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("buffer_minutes BETWEEN 0 AND 240", name="buffer_range"),
        sa.CheckConstraint(
            "daily_limit_per_technician BETWEEN 1 AND 100", name="daily_limit_range"
        ),
        sa.CheckConstraint("hold_ttl_minutes BETWEEN 1 AND 60", name="hold_ttl_range"),
        sa.CheckConstraint("horizon_days BETWEEN 1 AND 365", name="horizon_range"),
        sa.CheckConstraint("min_notice_minutes BETWEEN 0 AND 10080", name="notice_range"),
        sa.CheckConstraint("slot_granularity_minutes BETWEEN 5 AND 240", name="granularity_range"),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", name="scheduling_settings_pkey"),
    )
    op.create_table(
        "technicians",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("name", sa.Text(collation="C"), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("item_ids", postgresql.ARRAY(sa.UUID()), nullable=True),
        sa.Column("hours", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
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
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="technicians_pkey"),
    )
    op.create_table(
        "bookings",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("technician_id", sa.UUID(), nullable=False),
        sa.Column("item_id", sa.UUID(), nullable=False),
        sa.Column("contact_phone", sa.Text(), nullable=False),
        sa.Column("start_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("end_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("blocked_until", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column(
            "during",
            postgresql.TSTZRANGE(),
            sa.Computed("tstzrange(start_at, blocked_until, '[)')", persisted=True),
            nullable=True,
        ),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("expires_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("price_cents", sa.Integer(), nullable=True),
        sa.Column("currency", sa.Text(), nullable=True),
        sa.Column("idempotency_key", sa.Text(), nullable=True),
        sa.Column("conversation_id", sa.UUID(), nullable=True),
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
        postgresql.ExcludeConstraint(
            (sa.column("tenant_id"), "="),
            (sa.column("technician_id"), "="),
            (sa.column("during"), "&&"),
            where=sa.text("active"),
            using="gist",
            name="bookings_no_overlap",
        ),
        sa.CheckConstraint(
            "active = (status IN ('held', 'booked'))", name="booking_active_follows"
        ),
        sa.CheckConstraint(
            "status IN ('held', 'booked', 'released', 'expired', 'canceled')",
            name="booking_status_known",
        ),
        sa.CheckConstraint("end_at > start_at AND blocked_until >= end_at", name="booking_ordered"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "item_id"],
            ["catalog_items.tenant_id", "catalog_items.id"],
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "technician_id"],
            ["technicians.tenant_id", "technicians.id"],
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="bookings_pkey"),
        sa.UniqueConstraint("tenant_id", "idempotency_key", name="bookings_one_per_key"),
    )
    op.create_index("bookings_by_start", "bookings", ["tenant_id", "start_at"], unique=False)
    op.create_table(
        "busy_blocks",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("technician_id", sa.UUID(), nullable=False),
        sa.Column("start_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("end_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column(
            "during",
            postgresql.TSTZRANGE(),
            sa.Computed("tstzrange(start_at, end_at, '[)')", persisted=True),
            nullable=True,
        ),
        sa.Column("source", sa.Text(), server_default="manual", nullable=False),
        sa.Column("external_id", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("end_at > start_at", name="busy_block_ordered"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "technician_id"],
            ["technicians.tenant_id", "technicians.id"],
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name="busy_blocks_pkey"),
        sa.UniqueConstraint(
            "tenant_id", "technician_id", "source", "external_id", name="busy_blocks_one_per_event"
        ),
    )
    op.create_index("busy_blocks_by_start", "busy_blocks", ["tenant_id", "start_at"], unique=False)
    for table in TENANT_TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(table)
    op.drop_index("busy_blocks_by_start", table_name="busy_blocks")
    op.drop_table("busy_blocks")
    op.drop_index("bookings_by_start", table_name="bookings")
    op.drop_table("bookings")
    op.drop_table("technicians")
    op.drop_table("scheduling_settings")
    op.drop_table("closures")
    op.drop_table("business_hours")
    # btree_gist stays: other databases' objects in this cluster may use it, and it is harmless.
