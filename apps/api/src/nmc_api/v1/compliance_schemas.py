"""JSON shapes of the compliance routes: the 10DLC submission (brand and campaign) and where it
stands. Each field's limits come from the domain, which checks them again (and the shapes:
EIN, state, ZIP, email, phone, web address)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import msgspec
from msgspec import Meta

from nmc_api.v1.fields import LINES, NO_CONTROLS
from nmc_api.v1.scheduling_schemas import local
from nmc_domain.compliance.model import ComplianceStatus
from nmc_domain.compliance.registration import (
    LIMITS,
    SAMPLES,
    Address,
    Brand,
    BrandContact,
    Campaign,
    Registration,
    UseCase,
)
from nmc_domain.compliance.submission import ComplianceView

__all__ = ["AddressIO", "BrandIO", "CampaignIO", "ComplianceOut", "ContactIO", "RegistrationIO"]

_CONTROLS = "no control characters (U+0000-U+001F, U+007F)"
_LINE_BREAKS_OK = "tabs and line breaks are fine, other control characters are not"


def _meta(limit: str, description: str, *, lines: bool = False) -> Meta:
    low, high = LIMITS[limit]
    pattern = LINES if lines else NO_CONTROLS
    rule = _LINE_BREAKS_OK if lines else _CONTROLS
    return Meta(
        min_length=low,
        max_length=high,
        pattern=pattern + r"\Z",
        description=f"{description}; {low} to {high} characters; {rule}",
    )


LegalName = Annotated[str, _meta("legal_name", "The business's legal name, as the IRS knows it")]
TaxId = Annotated[str, _meta("tax_id", "The EIN: 12-3456789 (or its nine digits)")]
Street = Annotated[str, _meta("street", "Street address")]
City = Annotated[str, _meta("city", "City")]
Region = Annotated[str, _meta("region", "State (in the US, its two-letter code: TX) or region")]
PostalCode = Annotated[str, _meta("postal_code", "Postal code (in the US, a ZIP: 78701)")]
Country = Annotated[str, _meta("country", "Country, ISO 3166-1 alpha-2 (US)")]
Website = Annotated[str, _meta("website", "The business's web address (https://...)")]
ContactName = Annotated[str, _meta("name", "Whom carriers contact about the brand")]
Email = Annotated[str, _meta("email", "The contact's email address")]
Phone = Annotated[str, _meta("phone", "The contact's phone, E.164 (+14155550123)")]
Description = Annotated[
    str, _meta("description", "What the texts are for, in a few sentences", lines=True)
]
Sample = Annotated[str, _meta("sample_message", "A text as the business would send it", lines=True)]
Samples = Annotated[
    list[Sample],
    Meta(
        min_length=SAMPLES[0],
        max_length=SAMPLES[1],
        description=f"{SAMPLES[0]} to {SAMPLES[1]} different sample messages",
    ),
]
UseCaseName = Literal["CUSTOMER_CARE"]
Consent = Annotated[
    str,
    _meta(
        "consent_description",
        "How people agree to get the texts (they call the business first, say)",
        lines=True,
    ),
]


class AddressIO(msgspec.Struct, forbid_unknown_fields=True):
    street: Street
    city: City
    region: Region
    postal_code: PostalCode
    country: Country

    @classmethod
    def of(cls, address: Address) -> AddressIO:
        return cls(
            address.street, address.city, address.region, address.postal_code, address.country
        )


class ContactIO(msgspec.Struct, forbid_unknown_fields=True):
    name: ContactName
    email: Email
    phone: Phone


class BrandIO(msgspec.Struct, forbid_unknown_fields=True):
    legal_name: LegalName
    tax_id: TaxId
    address: AddressIO
    website: Website
    contact: ContactIO

    @classmethod
    def of(cls, brand: Brand) -> BrandIO:
        contact = ContactIO(brand.contact.name, brand.contact.email, brand.contact.phone)
        return cls(
            brand.legal_name, brand.tax_id, AddressIO.of(brand.address), brand.website, contact
        )

    def draft(self) -> Brand:
        a, c = self.address, self.contact
        return Brand(
            self.legal_name,
            self.tax_id,
            Address(a.street, a.city, a.region, a.postal_code, a.country),
            self.website,
            BrandContact(c.name, c.email, c.phone),
        )


class CampaignIO(msgspec.Struct, forbid_unknown_fields=True):
    use_case: Annotated[UseCaseName, Meta(description="What the texts are for (the only one yet)")]
    description: Description
    sample_messages: Samples
    consent_description: Consent

    @classmethod
    def of(cls, campaign: Campaign) -> CampaignIO:
        return cls(
            campaign.use_case.value,
            campaign.description,
            list(campaign.sample_messages),
            campaign.consent_description,
        )

    def draft(self) -> Campaign:
        return Campaign(
            UseCase(self.use_case),
            self.description,
            tuple(self.sample_messages),
            self.consent_description,
        )


class RegistrationIO(msgspec.Struct, forbid_unknown_fields=True):
    """The 10DLC submission: who sends (the brand) and what (the campaign)."""

    brand: BrandIO
    campaign: CampaignIO

    @classmethod
    def of(cls, registration: Registration) -> RegistrationIO:
        return cls(BrandIO.of(registration.brand), CampaignIO.of(registration.campaign))


class ComplianceOut(msgspec.Struct):
    """pending, approved or rejected (with the carriers' reason: texts stay held meanwhile);
    submitted_at carries the tenant's own UTC offset."""

    status: ComplianceStatus
    reason: str | None
    submitted_at: datetime | None
    registration: RegistrationIO | None

    @classmethod
    def of(cls, view: ComplianceView) -> ComplianceOut:
        registration, status = view.registration, view.compliance.status
        if registration is None:
            return cls(status, view.compliance.reason, None, None)
        return cls(
            status,
            view.compliance.reason,
            local(registration.submitted_at, ZoneInfo(view.tenant.timezone)),
            RegistrationIO.of(registration),
        )
