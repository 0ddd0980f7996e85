"""Every field of a 10DLC submission checked, named the way the API spells it.

`registration_of` cleans a draft (surrounding spaces off; the EIN, country and state in one
spelling) or raises InvalidInput naming the first field at fault: "brand.address.postal_code",
"campaign.sample_messages[1]".
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit
from uuid import UUID

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
from nmc_domain.shared.errors import InvalidInput
from nmc_domain.shared.phone import is_e164

__all__ = ["US_REGIONS", "registration_of"]

_SINGLE_LINE = re.compile(r"[\x00-\x1F\x7F]")
_MULTI_LINE = re.compile(r"[\x00-\x08\x0B\x0C\x0E-\x1F\x7F]")  # tabs and line breaks are fine
_EIN = re.compile(r"([0-9]{2})-?([0-9]{7})")
_ZIP = re.compile(r"[0-9]{5}(-[0-9]{4})?")
_POSTAL = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]*")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s.]+(\.[^@\s.]+)+")
_HOST = re.compile(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")
# The 50 states, DC, and the territories whose businesses register with US carriers.
US_REGIONS = frozenset(
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "
    "NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC AS GU MP PR VI".split()
)


def _text(field: str, value: object, limit: str, *, lines: bool = False) -> str:
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a string")
    cleaned = value.strip()
    low, high = LIMITS[limit]
    if not cleaned:
        raise InvalidInput(field, "must not be empty")
    if (_MULTI_LINE if lines else _SINGLE_LINE).search(cleaned):
        allowed = " other than tab, line feed and carriage return" if lines else ""
        raise InvalidInput(field, f"must not contain control characters{allowed}")
    if len(cleaned) < low:
        raise InvalidInput(field, f"must be at least {low} characters")
    if len(cleaned) > high:
        raise InvalidInput(field, f"must be at most {high} characters")
    return cleaned


def _tax_id(value: object) -> str:
    text = _text("brand.tax_id", value, "tax_id")
    ein = _EIN.fullmatch(text)
    if ein is None:
        raise InvalidInput("brand.tax_id", "must be an EIN: nine digits, as 12-3456789")
    return f"{ein[1]}-{ein[2]}"


def _address(address: Address) -> Address:
    street = _text("brand.address.street", address.street, "street")
    city = _text("brand.address.city", address.city, "city")
    # The country first: it decides what a region and a postal code look like.
    country = _text("brand.address.country", address.country, "country").upper()
    if not country.isascii() or not country.isalpha():
        raise InvalidInput("brand.address.country", "must be a two-letter ISO 3166-1 code (US)")
    region = _text("brand.address.region", address.region, "region")
    postal = _text("brand.address.postal_code", address.postal_code, "postal_code")
    if country == "US":
        region = region.upper()
        if region not in US_REGIONS:
            raise InvalidInput("brand.address.region", "must be a two-letter US state code (TX)")
        if not _ZIP.fullmatch(postal):
            raise InvalidInput(
                "brand.address.postal_code", "must be a ZIP code: 12345 or 12345-6789"
            )
    elif not _POSTAL.fullmatch(postal):
        raise InvalidInput(
            "brand.address.postal_code", "must be letters, digits, spaces and hyphens"
        )
    return Address(street, city, region, postal, country)


def _website(value: object) -> str:
    url = _text("brand.website", value, "website")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises ValueError here
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme.lower() not in ("http", "https")
        or " " in url
        or parts.username is not None
        or parts.hostname is None
        or not _HOST.fullmatch(parts.hostname)
    ):
        raise InvalidInput("brand.website", "must be a web address like https://acme-plumbing.com")
    return url


def _contact(contact: BrandContact) -> BrandContact:
    name = _text("brand.contact.name", contact.name, "name")
    email = _text("brand.contact.email", contact.email, "email")
    if not _EMAIL.fullmatch(email):
        raise InvalidInput("brand.contact.email", "must be an email address like owner@acme.com")
    phone = _text("brand.contact.phone", contact.phone, "phone")
    if not is_e164(phone):
        raise InvalidInput("brand.contact.phone", "must be an E.164 number like +14155550123")
    return BrandContact(name, email, phone)


def _brand(brand: Brand) -> Brand:
    return Brand(
        legal_name=_text("brand.legal_name", brand.legal_name, "legal_name"),
        tax_id=_tax_id(brand.tax_id),
        address=_address(brand.address),
        website=_website(brand.website),
        contact=_contact(brand.contact),
    )


def _samples(value: object) -> tuple[str, ...]:
    field = "campaign.sample_messages"
    if isinstance(value, str | bytes) or not isinstance(value, tuple | list):
        raise InvalidInput(field, "must be a list of texts")
    fewest, most = SAMPLES
    if not fewest <= len(value) <= most:
        raise InvalidInput(field, f"must hold {fewest} to {most} sample messages")
    samples = tuple(
        _text(f"{field}[{i}]", sample, "sample_message", lines=True)
        for i, sample in enumerate(value)
    )
    for i, sample in enumerate(samples):
        if sample in samples[:i]:
            raise InvalidInput(f"{field}[{i}]", "repeats an earlier sample message")
    return samples


def _campaign(campaign: Campaign) -> Campaign:
    if campaign.use_case not in tuple(UseCase):
        offered = ", ".join(UseCase)
        raise InvalidInput("campaign.use_case", f"must be one of: {offered}")
    return Campaign(
        use_case=UseCase(campaign.use_case),
        description=_text("campaign.description", campaign.description, "description", lines=True),
        sample_messages=_samples(campaign.sample_messages),
        consent_description=_text(
            "campaign.consent_description",
            campaign.consent_description,
            "consent_description",
            lines=True,
        ),
    )


def registration_of(
    tenant_id: UUID, brand: Brand, campaign: Campaign, submitted_at: datetime
) -> Registration:
    """The registration a draft describes, cleaned; InvalidInput names the first field at fault."""
    return Registration(tenant_id, _brand(brand), _campaign(campaign), submitted_at)
