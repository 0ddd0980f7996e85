"""Technicians carry an email: an external calendar's people (Jobber's assigned users) map to
technicians by it. Stored lower-cased; one technician per email within a tenant.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-16
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("technicians", sa.Column("email", sa.Text(), nullable=True))
    op.create_check_constraint(
        "technician_email_lower", "technicians", "email = lower(email) AND length(email) <= 254"
    )
    op.create_unique_constraint("technicians_one_per_email", "technicians", ["tenant_id", "email"])


def downgrade() -> None:
    op.drop_constraint("technicians_one_per_email", "technicians", type_="unique")
    op.drop_constraint("technician_email_lower", "technicians", type_="check")
    op.drop_column("technicians", "email")
