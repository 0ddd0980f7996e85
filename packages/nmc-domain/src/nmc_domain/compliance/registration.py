"""The 10DLC submission: the brand (who sends) and the campaign (what and why).

A tenant has one current registration; a re-submission replaces it. The values are built from a
draft by `registration_checks.registration_of`, which checks every field.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

import attrs

__all__ = [
    "LIMITS",
    "SAMPLES",
    "Address",
    "Brand",
    "BrandContact",
    "Campaign",
    "Registration",
    "UseCase",
]


class UseCase(StrEnum):
    """What the campaign's texts are for; answering customers is the only one offered yet."""

    CUSTOMER_CARE = "CUSTOMER_CARE"


# (fewest, most) characters after surrounding spaces are removed; public so the API documents
# the bounds it enforces. The registry's own limits are the ceiling (description 4096). Fields
# with a shape (EIN, E.164) start at 1: a short one is told what the shape is.
LIMITS: dict[str, tuple[int, int]] = {
    "legal_name": (1, 255),
    "tax_id": (1, 10),
    "street": (1, 100),
    "city": (1, 64),
    "region": (1, 64),
    "postal_code": (1, 10),
    "country": (2, 2),
    "website": (1, 255),
    "name": (1, 100),
    "email": (3, 254),
    "phone": (1, 16),
    "description": (40, 4096),
    "sample_message": (1, 320),
    "consent_description": (1, 2048),
}
SAMPLES = (2, 5)  # how many sample messages a campaign shows


@attrs.frozen
class Address:
    street: str
    city: str
    region: str  # a US state as its two-letter USPS code
    postal_code: str
    country: str  # ISO 3166-1 alpha-2


@attrs.frozen
class BrandContact:
    """Whom the registry (and carriers) contact about the brand."""

    name: str
    email: str
    phone: str  # E.164


@attrs.frozen
class Brand:
    legal_name: str
    tax_id: str  # the EIN, as 12-3456789
    address: Address
    website: str
    contact: BrandContact


@attrs.frozen
class Campaign:
    use_case: UseCase
    description: str
    sample_messages: tuple[str, ...]
    consent_description: str  # how people agree to get the texts


@attrs.frozen
class Registration:
    """What a tenant submitted, and when (the database's clock)."""

    tenant_id: UUID
    brand: Brand
    campaign: Campaign
    submitted_at: datetime
