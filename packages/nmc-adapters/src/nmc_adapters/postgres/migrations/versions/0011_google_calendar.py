"""Google Calendar: each technician's link (sealed refresh token, sync token, queued sync,
unsynced notifications, last sync, drift, current channel) and the push channels.

`google_links` is a tenant table (row-level security), gone with its technician. Google's
notifications name a channel, not a tenant: `google_channels` routes it before any tenant is
bound (a system table, like bill_customers), keeping only the SHA-256 of each channel's token;
the 15-minute poll lists the connected tenants there (each link keeps a live channel). The
shadow blocks themselves are busy_blocks rows with source 'google' and the event's id.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-16
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from nmc_adapters.postgres.migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _timestamp(name: str, *, nullable: bool = False, now: bool = False) -> sa.Column[object]:
    default = sa.text("now()") if now else None
    return sa.Column(
        name, postgresql.TIMESTAMP(timezone=True), server_default=default, nullable=nullable
    )


def _technician_key() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", "technician_id"],
        ["technicians.tenant_id", "technicians.id"],
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "google_links",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("technician_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("calendar_id", sa.Text(), nullable=False),
        sa.Column("refresh_token", sa.Text(), nullable=False),
        _timestamp("connected_at"),
        sa.Column("zone", sa.Text(), nullable=True),
        sa.Column("sync_token", sa.Text(), nullable=True),
        _timestamp("sync_requested_at", nullable=True),
        sa.Column("notices", sa.Integer(), server_default=sa.text("0"), nullable=False),
        _timestamp("notified_at", nullable=True),
        _timestamp("last_synced_at", nullable=True),
        sa.Column("last_sync_error", sa.Text(), nullable=True),
        _timestamp("revoked_at", nullable=True),
        sa.Column("drift_last", sa.Integer(), nullable=True),
        sa.Column("drift_streak", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("channel_id", sa.UUID(), nullable=True),
        _timestamp("channel_expires_at", nullable=True),
        _timestamp("updated_at", now=True),
        sa.CheckConstraint(
            "notices >= 0 AND drift_streak >= 0 AND (drift_last IS NULL OR drift_last >= 0)",
            name="google_link_counts",
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        _technician_key(),
        sa.PrimaryKeyConstraint("tenant_id", "technician_id", name="google_links_pkey"),
    )
    enable_tenant_rls("google_links")
    op.create_table(
        "google_channels",
        sa.Column("channel_id", sa.UUID(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("technician_id", sa.UUID(), nullable=False),
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("resource_id", sa.Text(), nullable=True),
        _timestamp("expires_at", nullable=True),
        _timestamp("created_at", now=True),
        _timestamp("stopped_at", nullable=True),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        _technician_key(),
        sa.PrimaryKeyConstraint("channel_id", name="google_channels_pkey"),
    )
    op.create_index(
        "google_channels_by_technician", "google_channels", ["tenant_id", "technician_id"]
    )


def downgrade() -> None:
    op.drop_index("google_channels_by_technician", table_name="google_channels")
    op.drop_table("google_channels")
    disable_tenant_rls("google_links")
    op.drop_table("google_links")
