"""Tables of the catalog: service items and the quotes taken from them."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKeyConstraint,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID

from nmc_adapters.postgres.schema import metadata, timestamp

__all__ = ["catalog_items", "quotes"]

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
    # The example serves tools that write valid rows from the metadata (the RLS matrix).
    Column("currency", Text, nullable=False, info={"example": "USD"}),
    Column("duration_minutes", Integer, nullable=False),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    timestamp("created_at", now=True),
    timestamp("updated_at", now=True),
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
    timestamp("created_at", now=True),
    PrimaryKeyConstraint("tenant_id", "id", name="quotes_pkey"),
    ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
    ForeignKeyConstraint(
        ["tenant_id", "item_id"],
        ["catalog_items.tenant_id", "catalog_items.id"],
        ondelete="CASCADE",
    ),
)
