"""Tables of scheduling: technicians, hours, closures, busy blocks, settings, bookings.

Holds and appointments share `bookings`: one row claims a technician's time from the hold to
the job, and the exclusion constraint there is the no-double-booking guarantee.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Computed,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSTZRANGE, UUID, ExcludeConstraint

from nmc_adapters.postgres.schema import metadata, timestamp

__all__ = [
    "bookings",
    "business_hours",
    "busy_blocks",
    "closures",
    "scheduling_settings",
    "technicians",
]

technicians = Table(
    "technicians",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("id", UUID(as_uuid=True), nullable=False),
    Column("name", Text(collation="C"), nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    # NULL: can do every catalog item.
    Column("item_ids", ARRAY(UUID(as_uuid=True))),
    # NULL: works the tenant's hours; else [[weekday, start minute, end minute], ...].
    Column("hours", JSONB),
    timestamp("created_at", now=True),
    timestamp("updated_at", now=True),
    # Lower-cased; how an external calendar's people (Jobber's assigned users) map to ours.
    Column("email", Text),
    PrimaryKeyConstraint("tenant_id", "id", name="technicians_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    CheckConstraint("email = lower(email) AND length(email) <= 254", name="technician_email_lower"),
    UniqueConstraint("tenant_id", "email", name="technicians_one_per_email"),
)

# The tenant's weekly hours: [[weekday, start minute, end minute], ...] (none: closed).
business_hours = Table(
    "business_hours",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("periods", JSONB, nullable=False),
    timestamp("updated_at", now=True),
    PrimaryKeyConstraint("tenant_id", name="business_hours_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
)

scheduling_settings = Table(
    "scheduling_settings",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("slot_granularity_minutes", Integer, nullable=False, server_default="30"),
    Column("buffer_minutes", Integer, nullable=False, server_default="0"),
    Column("min_notice_minutes", Integer, nullable=False, server_default="60"),
    Column("horizon_days", Integer, nullable=False, server_default="14"),
    Column("hold_ttl_minutes", Integer, nullable=False, server_default="15"),
    Column("daily_limit_per_technician", Integer),
    timestamp("updated_at", now=True),
    PrimaryKeyConstraint("tenant_id", name="scheduling_settings_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    CheckConstraint("slot_granularity_minutes BETWEEN 5 AND 240", name="granularity_range"),
    CheckConstraint("buffer_minutes BETWEEN 0 AND 240", name="buffer_range"),
    CheckConstraint("min_notice_minutes BETWEEN 0 AND 10080", name="notice_range"),
    CheckConstraint("horizon_days BETWEEN 1 AND 365", name="horizon_range"),
    CheckConstraint("hold_ttl_minutes BETWEEN 1 AND 60", name="hold_ttl_range"),
    CheckConstraint("daily_limit_per_technician BETWEEN 1 AND 100", name="daily_limit_range"),
)

closures = Table(
    "closures",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("id", UUID(as_uuid=True), nullable=False),
    Column("day", Date, nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
    timestamp("created_at", now=True),
    PrimaryKeyConstraint("tenant_id", "id", name="closures_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    UniqueConstraint("tenant_id", "day", name="closures_one_per_day"),
)

busy_blocks = Table(
    "busy_blocks",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("id", UUID(as_uuid=True), nullable=False),
    Column("technician_id", UUID(as_uuid=True), nullable=False),
    timestamp("start_at"),
    timestamp("end_at"),
    Column("during", TSTZRANGE, Computed("tstzrange(start_at, end_at, '[)')", persisted=True)),
    # Who put it there: "manual" (the API), or an external calendar with its own event id.
    Column("source", Text, nullable=False, server_default="manual"),
    Column("external_id", Text),
    timestamp("created_at", now=True),
    PrimaryKeyConstraint("tenant_id", "id", name="busy_blocks_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    ForeignKeyConstraint(
        ["tenant_id", "technician_id"],
        ["technicians.tenant_id", "technicians.id"],
        ondelete="CASCADE",
    ),
    CheckConstraint("end_at > start_at", name="busy_block_ordered"),
    UniqueConstraint(
        "tenant_id", "technician_id", "source", "external_id", name="busy_blocks_one_per_event"
    ),
    # The window read (see PgCalendar: start_at bounds, not `during &&`, under row-level security).
    Index("busy_blocks_by_start", "tenant_id", "start_at"),
    # A Jobber visit's blocks, whichever technicians they are on (migration 0012).
    Index("busy_blocks_by_external_id", "tenant_id", "source", "external_id"),
)

bookings = Table(
    "bookings",
    metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("id", UUID(as_uuid=True), nullable=False),
    Column("technician_id", UUID(as_uuid=True), nullable=False),
    Column("item_id", UUID(as_uuid=True), nullable=False),
    Column("contact_phone", Text, nullable=False),
    timestamp("start_at"),
    timestamp("end_at"),
    # The job's end plus the buffer after it: the time nobody else may take.
    timestamp("blocked_until"),
    Column(
        "during", TSTZRANGE, Computed("tstzrange(start_at, blocked_until, '[)')", persisted=True)
    ),
    Column("status", Text, nullable=False),
    # Held or booked: the row claims its time (an expired hold until it is released).
    Column("active", Boolean, nullable=False),
    timestamp("expires_at", nullable=True),
    Column("price_cents", Integer),
    Column("currency", Text),
    Column("idempotency_key", Text),
    Column("conversation_id", UUID(as_uuid=True)),
    # When the hold was made and when it became an appointment (reports count them then).
    timestamp("held_at", nullable=True),
    timestamp("booked_at", nullable=True),
    timestamp("created_at", now=True),
    timestamp("updated_at", now=True),
    PrimaryKeyConstraint("tenant_id", "id", name="bookings_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    ForeignKeyConstraint(
        ["tenant_id", "technician_id"],
        ["technicians.tenant_id", "technicians.id"],
        ondelete="CASCADE",
    ),
    ForeignKeyConstraint(
        ["tenant_id", "item_id"],
        ["catalog_items.tenant_id", "catalog_items.id"],
        ondelete="CASCADE",
    ),
    CheckConstraint(
        "status IN ('held', 'booked', 'released', 'expired', 'canceled')",
        name="booking_status_known",
    ),
    CheckConstraint("active = (status IN ('held', 'booked'))", name="booking_active_follows"),
    CheckConstraint("end_at > start_at AND blocked_until >= end_at", name="booking_ordered"),
    # The guarantee: no two active claims of one technician overlap (btree_gist for the =).
    ExcludeConstraint(
        (Column("tenant_id"), "="),
        (Column("technician_id"), "="),
        (Column("during"), "&&"),
        where=text("active"),
        using="gist",
        name="bookings_no_overlap",
    ),
    UniqueConstraint("tenant_id", "idempotency_key", name="bookings_one_per_key"),
    # Listing appointments, and the window read (see PgCalendar).
    Index("bookings_by_start", "tenant_id", "start_at"),
)
