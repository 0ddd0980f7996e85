"""Outbox: find due rows by time, so timers set for later do not slow every claim.

Rows made due hours ahead (a conversation's idle check) stay pending meanwhile; the claim
walked pending rows in id order and filtered each one's available_at, so every claim scanned
all future timers first. Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


_PENDING = sa.text("dispatched_at IS NULL AND dead_at IS NULL")


def upgrade() -> None:
    # Replaces the pending rows' id index: one index to maintain on every claim and finish.
    op.create_index(
        "outbox_events_due", "outbox_events", ["available_at", "id"], postgresql_where=_PENDING
    )
    op.drop_index("outbox_events_pending", table_name="outbox_events")


def downgrade() -> None:
    op.create_index("outbox_events_pending", "outbox_events", ["id"], postgresql_where=_PENDING)
    op.drop_index("outbox_events_due", table_name="outbox_events")
