"""Tables of the Google Calendar links: each technician's link, and the push channels (the
shadow busy blocks live in `busy_blocks`, source 'google')."""

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
from sqlalchemy.dialects.postgresql import UUID

from nmc_adapters.postgres.schema import SYSTEM_TABLE, metadata, timestamp

__all__ = ["google_channels", "google_links"]

# One row per connected technician; the refresh token is sealed (Fernet, NMC_SECRET_KEY).
google_links = Table(
    "google_links",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("technician_id", UUID(as_uuid=True), nullable=False),
    # A new one per (re)connection: work begun for an earlier one is not applied to this one.
    Column("connection_id", UUID(as_uuid=True), nullable=False),
    Column("calendar_id", Text, nullable=False),
    Column("refresh_token", Text, nullable=False),
    timestamp("connected_at"),
    # The calendar's own zone (events.list says it): all-day events are its local days.
    Column("zone", Text),
    Column("sync_token", Text),
    # A sync job is queued (further requests coalesce into it while it is recent).
    timestamp("sync_requested_at", nullable=True),
    # Webhook notifications no sync has covered yet, and the latest one's time.
    Column("notices", Integer, nullable=False, server_default=text("0")),
    timestamp("notified_at", nullable=True),
    timestamp("last_synced_at", nullable=True),
    Column("last_sync_error", Text),
    # Google refused the grant: the technician has to connect again.
    timestamp("revoked_at", nullable=True),
    # Rows the last unannounced sync changed, and unannounced syncs in a row with some.
    Column("drift_last", Integer),
    Column("drift_streak", Integer, nullable=False, server_default=text("0")),
    Column("channel_id", UUID(as_uuid=True)),
    timestamp("channel_expires_at", nullable=True),
    timestamp("updated_at", now=True),
    PrimaryKeyConstraint("tenant_id", "technician_id", name="google_links_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    ForeignKeyConstraint(
        ["tenant_id", "technician_id"],
        ["technicians.tenant_id", "technicians.id"],
        ondelete="CASCADE",
    ),
    CheckConstraint(
        "notices >= 0 AND drift_streak >= 0 AND (drift_last IS NULL OR drift_last >= 0)",
        name="google_link_counts",
    ),
)

# Routing table: Google's notifications name a channel, and the tenant is not known until it is
# looked up here (row-level security cannot guard a row read to find out whose it is); the
# periodic poll finds the connected tenants here too (each link keeps a live channel). A system
# table, like bill_customers. Only the SHA-256 of a channel's token is kept.
google_channels = Table(
    "google_channels",
    metadata,
    Column("channel_id", UUID(as_uuid=True), nullable=False),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("technician_id", UUID(as_uuid=True), nullable=False),
    Column("token_hash", Text, nullable=False),
    Column("resource_id", Text),
    timestamp("expires_at", nullable=True),
    timestamp("created_at", now=True),
    timestamp("stopped_at", nullable=True),
    PrimaryKeyConstraint("channel_id", name="google_channels_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    ForeignKeyConstraint(
        ["tenant_id", "technician_id"],
        ["technicians.tenant_id", "technicians.id"],
        ondelete="CASCADE",
    ),
    Index("google_channels_by_technician", "tenant_id", "technician_id"),
    info=SYSTEM_TABLE,
)
