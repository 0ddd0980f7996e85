"""Compliance submission: each tenant's current 10DLC brand and campaign.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from nmc_adapters.postgres.migrations.rls import disable_tenant_rls, enable_tenant_rls

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Kept literally (not read from the metadata) so this migration never changes once shipped.
TABLE = "compliance_registrations"
TEXT_COLUMNS = (
    "legal_name",
    "tax_id",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "website",
    "contact_name",
    "contact_email",
    "contact_phone",
    "use_case",
    "description",
)


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        *(sa.Column(name, sa.Text(), nullable=False) for name in TEXT_COLUMNS),
        sa.Column("sample_messages", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("consent_description", sa.Text(), nullable=False),
        sa.Column("submitted_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.CheckConstraint("use_case IN ('CUSTOMER_CARE')", name="registration_use_case_known"),
        sa.CheckConstraint(
            "cardinality(sample_messages) BETWEEN 2 AND 5", name="registration_samples_count"
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("tenant_id", name="compliance_registrations_pkey"),
    )
    enable_tenant_rls(TABLE)


def downgrade() -> None:
    disable_tenant_rls(TABLE)
    op.drop_table(TABLE)
