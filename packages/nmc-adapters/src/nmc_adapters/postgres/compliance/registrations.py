"""Each tenant's 10DLC submission in PostgreSQL: one row, flat, replaced on re-submission."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from nmc_adapters.postgres.compliance.tables import registrations
from nmc_adapters.postgres.sql import Db, compiled
from nmc_domain.compliance.registration import (
    Address,
    Brand,
    BrandContact,
    Campaign,
    Registration,
    UseCase,
)

__all__ = ["PgRegistrations"]


def _registration_row(registration: Registration) -> dict[str, Any]:
    brand, campaign = registration.brand, registration.campaign
    address, contact = brand.address, brand.contact
    return {
        "tenant_id": registration.tenant_id,
        "legal_name": brand.legal_name,
        "tax_id": brand.tax_id,
        "street": address.street,
        "city": address.city,
        "region": address.region,
        "postal_code": address.postal_code,
        "country": address.country,
        "website": brand.website,
        "contact_name": contact.name,
        "contact_email": contact.email,
        "contact_phone": contact.phone,
        "use_case": campaign.use_case.value,
        "description": campaign.description,
        "sample_messages": list(campaign.sample_messages),
        "consent_description": campaign.consent_description,
        "submitted_at": registration.submitted_at,
    }


def _registration(row: dict[str, Any]) -> Registration:
    address = Address(row["street"], row["city"], row["region"], row["postal_code"], row["country"])
    contact = BrandContact(row["contact_name"], row["contact_email"], row["contact_phone"])
    brand = Brand(row["legal_name"], row["tax_id"], address, row["website"], contact)
    campaign = Campaign(
        UseCase(row["use_case"]),
        row["description"],
        tuple(row["sample_messages"]),
        row["consent_description"],
    )
    return Registration(row["tenant_id"], brand, campaign, row["submitted_at"])


_REGISTRATION_COLUMNS = [c.name for c in registrations.columns]
_REGISTRATION_GET = compiled(
    select(registrations).where(registrations.c.tenant_id == bindparam("tenant_id"))
)
_REGISTRATION_PUT = compiled(
    pg_insert(registrations)
    .values({c: bindparam(c) for c in _REGISTRATION_COLUMNS})
    .on_conflict_do_update(
        index_elements=["tenant_id"],
        set_={c: bindparam(c) for c in _REGISTRATION_COLUMNS if c != "tenant_id"},
    )
)


class PgRegistrations:
    """One row per tenant, replaced on each submission."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def get(self, tenant_id: UUID) -> Registration | None:
        row = await self._db.one(_REGISTRATION_GET, {"tenant_id": tenant_id})
        return None if row is None else _registration(row)

    async def save(self, registration: Registration) -> None:
        await self._db.run(_REGISTRATION_PUT, _registration_row(registration))
