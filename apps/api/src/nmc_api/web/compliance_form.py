"""The 10DLC registration form: its fields (named the way the domain names its faults, so
an InvalidInput lands next to its field), the values of a submission, and the draft a posted
form describes."""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

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

__all__ = [
    "FIELDSETS",
    "IDS",
    "LABELS",
    "SAMPLE",
    "SAMPLE_FIELDS",
    "USE_CASE",
    "USE_CASES",
    "Field",
    "draft_of",
    "field_of",
    "values_of",
]

SAMPLE = "campaign.sample_messages"
USE_CASE = "campaign.use_case"
USE_CASES = {UseCase.CUSTOMER_CARE: "Answering customers who called or texted (customer care)"}


@attrs.frozen
class Field:
    """One input of the form, named the way the domain names its faults."""

    name: str
    label: str
    limit: str  # its key in the domain's LIMITS
    hint: str = ""
    kind: str = "text"  # an <input> type, or "textarea"
    required: bool = True

    @property
    def id(self) -> str:
        return re.sub(r"[^a-z0-9]+", "-", self.name.lower()).strip("-")

    @property
    def bounds(self) -> tuple[int, int]:
        return LIMITS[self.limit]


def _samples() -> tuple[Field, ...]:
    fewest, most = SAMPLES
    return tuple(
        Field(
            f"{SAMPLE}[{i}]", f"Sample text {i + 1}", "sample_message", "", "textarea", i < fewest
        )
        for i in range(most)
    )


# (legend, fields); the sample texts are a fieldset of their own.
FIELDSETS: tuple[tuple[str, tuple[Field, ...]], ...] = (
    (
        "Your business (the brand)",
        (
            Field("brand.legal_name", "Legal business name", "legal_name", "As the IRS knows it"),
            Field("brand.tax_id", "EIN (tax ID)", "tax_id", "Nine digits, as 12-3456789"),
            Field(
                "brand.website",
                "Website",
                "website",
                "Its address, as https://acme-plumbing.com",
                "url",
            ),
        ),
    ),
    (
        "Address",
        (
            Field("brand.address.street", "Street address", "street"),
            Field("brand.address.city", "City", "city"),
            Field(
                "brand.address.region", "State or region", "region", "In the US, two letters: TX"
            ),
            Field(
                "brand.address.postal_code",
                "ZIP or postal code",
                "postal_code",
                "In the US, a ZIP: 78701",
            ),
            Field("brand.address.country", "Country", "country", "Two letters: US"),
        ),
    ),
    (
        "Whom carriers contact",
        (
            Field("brand.contact.name", "Contact name", "name"),
            Field("brand.contact.email", "Contact email", "email", "", "email"),
            Field("brand.contact.phone", "Contact phone", "phone", "E.164, as +14155550123", "tel"),
        ),
    ),
    (
        "Your texts (the campaign)",
        (
            Field(
                "campaign.description",
                "What your texts are for",
                "description",
                "A few sentences: who gets them and why (at least 40 characters)",
                "textarea",
            ),
            Field(
                "campaign.consent_description",
                "How people agree to get them",
                "consent_description",
                "For example: people call us first; we text back only the number that called",
                "textarea",
            ),
        ),
    ),
)
SAMPLE_FIELDS = _samples()
ALL_FIELDS = (*(field for _, fields in FIELDSETS for field in fields), *SAMPLE_FIELDS)
# Where the error summary's links go, and what they say.
IDS = {
    **{field.name: field.id for field in ALL_FIELDS},
    USE_CASE: "campaign-use-case",
    SAMPLE: "campaign-sample-messages",
}
LABELS = {
    **{field.name: field.label for field in ALL_FIELDS},
    USE_CASE: "What kind of texts",
    SAMPLE: "Sample texts",
}
_SAMPLE_AT = re.compile(re.escape(SAMPLE) + r"\[(\d+)\]")


def values_of(registration: Registration | None) -> dict[str, str]:
    """The form's values from the current submission (the country US before any)."""
    if registration is None:
        return {"brand.address.country": "US", USE_CASE: UseCase.CUSTOMER_CARE.value}
    b, c = registration.brand, registration.campaign
    values = {
        "brand.legal_name": b.legal_name,
        "brand.tax_id": b.tax_id,
        "brand.website": b.website,
        "brand.address.street": b.address.street,
        "brand.address.city": b.address.city,
        "brand.address.region": b.address.region,
        "brand.address.postal_code": b.address.postal_code,
        "brand.address.country": b.address.country,
        "brand.contact.name": b.contact.name,
        "brand.contact.email": b.contact.email,
        "brand.contact.phone": b.contact.phone,
        USE_CASE: c.use_case.value,
        "campaign.description": c.description,
        "campaign.consent_description": c.consent_description,
    }
    values.update({f"{SAMPLE}[{i}]": text for i, text in enumerate(c.sample_messages)})
    return values


def draft_of(values: Mapping[str, str]) -> tuple[Brand, Campaign, list[int]]:
    """The brand and campaign the form describes, and which sample fields were filled (the
    domain numbers the samples it got; the form numbers all of its boxes)."""
    v = values.get
    brand = Brand(
        v("brand.legal_name", ""),
        v("brand.tax_id", ""),
        Address(
            v("brand.address.street", ""),
            v("brand.address.city", ""),
            v("brand.address.region", ""),
            v("brand.address.postal_code", ""),
            v("brand.address.country", ""),
        ),
        v("brand.website", ""),
        BrandContact(
            v("brand.contact.name", ""), v("brand.contact.email", ""), v("brand.contact.phone", "")
        ),
    )
    filled = [i for i, field in enumerate(SAMPLE_FIELDS) if v(field.name, "").strip()]
    campaign = Campaign(
        UseCase(v(USE_CASE, "")),
        v("campaign.description", ""),
        tuple(v(SAMPLE_FIELDS[i].name, "") for i in filled),
        v("campaign.consent_description", ""),
    )
    return brand, campaign, filled


def field_of(fault: str, filled: list[int]) -> str:
    """The form field a domain fault names ("campaign.sample_messages[1]" is the second
    filled box, whichever box that was)."""
    sample = _SAMPLE_AT.fullmatch(fault)
    if sample is not None and int(sample[1]) < len(filled):
        return SAMPLE_FIELDS[filled[int(sample[1])]].name
    return fault
