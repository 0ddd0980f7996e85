"""Delivery that survives outages and crashes: fenced leases, review, request ids.

`outbox_events` gains the token of the current claim (only its holder may finish, retry or
bury the row), the moment a row was set aside for a person to review (two of our messages
could match one provider record), and the request id of the webhook that wrote it. A message
set aside has the status `needs_review`.
Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_OLD_PENDING = sa.text("dispatched_at IS NULL AND dead_at IS NULL")
_PENDING = sa.text("dispatched_at IS NULL AND dead_at IS NULL AND needs_review_at IS NULL")
STATUSES = (
    "('held', 'queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'canceled', "
    "'received', 'needs_review')"
)
OLD_STATUSES = (
    "('held', 'queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'canceled', "
    "'received')"
)


def upgrade() -> None:
    op.add_column("outbox_events", sa.Column("lease_token", postgresql.UUID(as_uuid=True)))
    op.add_column("outbox_events", sa.Column("needs_review_at", sa.DateTime(timezone=True)))
    op.add_column("outbox_events", sa.Column("request_id", sa.Text()))
    # Claims that lapsed (the worker died or hung): a row that keeps killing workers is buried.
    op.add_column(
        "outbox_events", sa.Column("reclaims", sa.Integer(), nullable=False, server_default="0")
    )
    # A requeue (`nmc replay`) starts the retry budget again from this moment.
    op.add_column("outbox_events", sa.Column("requeued_at", sa.DateTime(timezone=True)))
    op.drop_index("outbox_events_due", table_name="outbox_events")
    op.create_index(
        "outbox_events_due", "outbox_events", ["available_at", "id"], postgresql_where=_PENDING
    )
    # Finished rows by age: the retention purge walks the oldest first, in small batches.
    op.create_index(
        "outbox_events_finished",
        "outbox_events",
        ["created_at"],
        postgresql_where=sa.text("dispatched_at IS NOT NULL OR dead_at IS NOT NULL"),
    )
    op.create_index("webhook_events_received", "webhook_events", ["received_at"])
    op.drop_constraint("message_status_known", "messages", type_="check")
    op.create_check_constraint("message_status_known", "messages", f"status IN {STATUSES}")


def downgrade() -> None:
    op.drop_constraint("message_status_known", "messages", type_="check")
    op.execute("UPDATE messages SET status = 'queued' WHERE status = 'needs_review'")
    op.create_check_constraint("message_status_known", "messages", f"status IN {OLD_STATUSES}")
    op.drop_index("webhook_events_received", table_name="webhook_events")
    op.drop_index("outbox_events_finished", table_name="outbox_events")
    op.drop_index("outbox_events_due", table_name="outbox_events")
    # Rows set aside for review are pending again under the old schema.
    op.create_index(
        "outbox_events_due", "outbox_events", ["available_at", "id"], postgresql_where=_OLD_PENDING
    )
    op.drop_column("outbox_events", "requeued_at")
    op.drop_column("outbox_events", "reclaims")
    op.drop_column("outbox_events", "request_id")
    op.drop_column("outbox_events", "needs_review_at")
    op.drop_column("outbox_events", "lease_token")
