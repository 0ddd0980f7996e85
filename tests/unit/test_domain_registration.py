"""Unit tests of the 10DLC submission: every field's bounds and shape, how a draft is cleaned,
and what a (re)submission does to the status."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import attrs
import pytest

from nmc_domain.compliance.events import ComplianceStatusChanged
from nmc_domain.compliance.model import Compliance, ComplianceStatus
from nmc_domain.compliance.registration import (
    Address,
    Brand,
    BrandContact,
    Campaign,
    Registration,
    UseCase,
)
from nmc_domain.compliance.registration_checks import registration_of
from nmc_domain.shared.errors import InvalidInput

ACME_ID = UUID("0b5e4a0e-7c1d-4f55-9f4e-ac3e00000001")
SUBMITTED_AT = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
DESCRIPTION = "Texts back callers whose call we missed, to book plumbing repairs."
SAMPLES = (
    "Hi, this is ACME Plumbing. Sorry we missed your call! How can we help?",
    "Your water heater flush is booked for Tue 10:00. Reply STOP to opt out.",
)
CONSENT = "Customers call our business number first; we only text back the number that called."

ACME = Registration(
    ACME_ID,
    Brand(
        "ACME Plumbing & Heating LLC",
        "12-3456789",
        Address("1200 Congress Ave", "Austin", "TX", "78701", "US"),
        "https://acme-plumbing.example.com",
        BrandContact("Rosa Delgado", "rosa@acme-plumbing.example.com", "+15125550147"),
    ),
    Campaign(UseCase.CUSTOMER_CARE, DESCRIPTION, SAMPLES, CONSENT),
    SUBMITTED_AT,
)


def _evolve(value: Any, path: list[str], new: object) -> Any:
    head, *rest = path
    inner = getattr(value, head)
    return attrs.evolve(value, **{head: _evolve(inner, rest, new) if rest else new})


def draft(**changes: object) -> Registration:
    """ACME's registration with fields changed by path: draft(brand__address__city="Waco")."""
    registration = ACME
    for path, new in changes.items():
        registration = _evolve(registration, path.split("__"), new)
    return registration


def submit(registration: Registration) -> Registration:
    return registration_of(
        registration.tenant_id, registration.brand, registration.campaign, SUBMITTED_AT
    )


def refused(field: str, **changes: object) -> str:
    """The reason a draft with `changes` is refused; fails unless `field` is the one named."""
    with pytest.raises(InvalidInput) as caught:
        submit(draft(**changes))
    assert caught.value.field == field, caught.value
    return caught.value.reason


# --- a good draft, and how it is cleaned ---------------------------------------------------------


def test_a_clean_draft_comes_back_as_it_is_with_the_time_given() -> None:
    assert submit(ACME) == ACME


def test_surrounding_spaces_go_and_the_ein_state_and_country_get_one_spelling() -> None:
    messy = draft(
        brand__legal_name="  ACME Plumbing & Heating LLC\t",
        brand__tax_id=" 123456789 ",
        brand__address__region="tx",
        brand__address__country=" us",
        brand__contact__email=" rosa@acme-plumbing.example.com ",
        campaign__sample_messages=[f"\n{SAMPLES[0]}  ", SAMPLES[1]],  # a list is fine too
        campaign__description=f"{DESCRIPTION}\n",
    )

    assert submit(messy) == ACME


def test_line_breaks_and_tabs_inside_texts_are_kept() -> None:
    samples = ("Hi, this is ACME.\nHow can we help?", "Booked:\tTue 10:00\r\nReply STOP to stop")

    cleaned = submit(
        draft(campaign__sample_messages=samples, campaign__consent_description=CONSENT)
    )

    assert cleaned.campaign.sample_messages == samples


def test_outside_the_us_region_and_postal_code_are_free_text() -> None:
    canadian = draft(
        brand__address__region="Ontario",
        brand__address__postal_code="K1A 0B1",
        brand__address__country="ca",
    )

    assert submit(canadian).brand.address == Address(
        "1200 Congress Ave", "Austin", "Ontario", "K1A 0B1", "CA"
    )


# --- lengths: the last length allowed passes, one more is refused ------------------------------


@pytest.mark.parametrize(
    ("path", "field", "longest"),
    [
        ("brand__legal_name", "brand.legal_name", 255),
        ("brand__address__street", "brand.address.street", 100),
        ("brand__address__city", "brand.address.city", 64),
        ("brand__contact__name", "brand.contact.name", 100),
        ("campaign__description", "campaign.description", 4096),
        ("campaign__consent_description", "campaign.consent_description", 2048),
    ],
)
def test_free_text_fields_have_a_longest(path: str, field: str, longest: int) -> None:
    assert submit(draft(**{path: "a" * longest}))
    assert refused(field, **{path: "a" * (longest + 1)}) == f"must be at most {longest} characters"


def test_a_region_and_postal_code_outside_the_us_have_a_longest() -> None:
    abroad = {"brand__address__country": "GB"}
    assert submit(draft(brand__address__region="R" * 64, **abroad))
    assert submit(draft(brand__address__postal_code="SW1A 1AA-9", **abroad))
    assert refused("brand.address.region", brand__address__region="R" * 65, **abroad)
    assert refused("brand.address.postal_code", brand__address__postal_code="1" * 11, **abroad)


def test_the_website_and_email_have_a_longest() -> None:
    site = "https://acme.com/" + "p" * (255 - len("https://acme.com/"))
    local = "r" * 64
    email = f"{local}@{'a' * (254 - len(local) - 5)}.com"
    assert (len(site), len(email)) == (255, 254)
    assert submit(draft(brand__website=site, brand__contact__email=email))
    assert refused("brand.website", brand__website=site + "p") == "must be at most 255 characters"
    assert refused("brand.contact.email", brand__contact__email="a" + email)


def test_the_description_needs_at_least_40_characters() -> None:
    forty = "We text back the callers we missed today"
    assert len(forty) == 40
    assert submit(draft(campaign__description=forty)).campaign.description == forty
    assert refused("campaign.description", campaign__description=forty[:-1]) == (
        "must be at least 40 characters"
    )
    # Counted after the surrounding spaces go.
    assert refused("campaign.description", campaign__description=f"  {forty[:-1]}  ")


def test_a_sample_message_is_at_most_320_characters() -> None:
    longest = "s" * 320
    assert submit(draft(campaign__sample_messages=(SAMPLES[0], longest)))
    assert refused(
        "campaign.sample_messages[1]", campaign__sample_messages=(SAMPLES[0], longest + "s")
    ) == ("must be at most 320 characters")


@pytest.mark.parametrize("count", [2, 3, 4, 5])
def test_two_to_five_sample_messages_are_accepted(count: int) -> None:
    samples = tuple(f"Sample message {n}: ACME Plumbing here." for n in range(count))
    assert submit(draft(campaign__sample_messages=samples)).campaign.sample_messages == samples


@pytest.mark.parametrize("count", [0, 1, 6])
def test_fewer_than_two_or_more_than_five_sample_messages_are_refused(count: int) -> None:
    samples = tuple(f"Sample message {n}: ACME Plumbing here." for n in range(count))
    reason = refused("campaign.sample_messages", campaign__sample_messages=samples)
    assert reason == "must hold 2 to 5 sample messages"


# --- every field is required and plain text ----------------------------------------------------

REQUIRED = [
    ("brand__legal_name", "brand.legal_name"),
    ("brand__tax_id", "brand.tax_id"),
    ("brand__address__street", "brand.address.street"),
    ("brand__address__city", "brand.address.city"),
    ("brand__address__region", "brand.address.region"),
    ("brand__address__postal_code", "brand.address.postal_code"),
    ("brand__address__country", "brand.address.country"),
    ("brand__website", "brand.website"),
    ("brand__contact__name", "brand.contact.name"),
    ("brand__contact__email", "brand.contact.email"),
    ("brand__contact__phone", "brand.contact.phone"),
    ("campaign__description", "campaign.description"),
    ("campaign__consent_description", "campaign.consent_description"),
]


@pytest.mark.parametrize(("path", "field"), REQUIRED)
@pytest.mark.parametrize("blank", ["", "   ", "\n\t"])
def test_every_field_is_required(path: str, field: str, blank: str) -> None:
    assert refused(field, **{path: blank}) == "must not be empty"


@pytest.mark.parametrize(("path", "field"), REQUIRED)
def test_every_field_must_be_a_string(path: str, field: str) -> None:
    assert refused(field, **{path: 42}) == "must be a string"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("brand__legal_name", "brand.legal_name"),
        ("brand__address__street", "brand.address.street"),
        ("brand__address__city", "brand.address.city"),
        ("brand__contact__name", "brand.contact.name"),
    ],
)
@pytest.mark.parametrize("control", ["\x00", "\x07", "\t", "\n", "\x1f", "\x7f"])
def test_single_line_fields_refuse_control_characters(path: str, field: str, control: str) -> None:
    reason = refused(field, **{path: f"ACME{control}Plumbing"})
    assert reason == "must not contain control characters"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("campaign__description", "campaign.description"),
        ("campaign__consent_description", "campaign.consent_description"),
    ],
)
@pytest.mark.parametrize("control", ["\x00", "\x07", "\x0b", "\x0c", "\x1b", "\x7f"])
def test_texts_refuse_control_characters_other_than_tab_and_line_breaks(
    path: str, field: str, control: str
) -> None:
    reason = refused(field, **{path: f"{DESCRIPTION}{control}{DESCRIPTION}"})
    assert (
        reason
        == "must not contain control characters other than tab, line feed and carriage return"
    )


def test_each_sample_message_is_checked_and_named_by_its_place() -> None:
    assert refused("campaign.sample_messages[1]", campaign__sample_messages=(SAMPLES[0], "  "))
    assert refused("campaign.sample_messages[0]", campaign__sample_messages=("\x00", SAMPLES[1]))
    assert refused("campaign.sample_messages[2]", campaign__sample_messages=(*SAMPLES, 7)) == (
        "must be a string"
    )


def test_the_same_sample_message_twice_is_refused() -> None:
    reason = refused(
        "campaign.sample_messages[2]",
        campaign__sample_messages=(SAMPLES[0], SAMPLES[1], f" {SAMPLES[0]}\n"),
    )
    assert reason == "repeats an earlier sample message"


@pytest.mark.parametrize("samples", ["Hi, this is ACME.", b"Hi", None, 2])
def test_sample_messages_must_be_a_list(samples: object) -> None:
    reason = refused("campaign.sample_messages", campaign__sample_messages=samples)
    assert reason == "must be a list of texts"


# --- shapes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "stored"),
    [("12-3456789", "12-3456789"), ("123456789", "12-3456789"), ("98-7654321", "98-7654321")],
)
def test_an_ein_is_stored_as_12_3456789(given: str, stored: str) -> None:
    assert submit(draft(brand__tax_id=given)).brand.tax_id == stored


@pytest.mark.parametrize(
    "ein", ["12-345678", "1234567890", "12_3456789", "123-456789", "AB-CDEFGHI", "12 3456789"]
)
def test_anything_but_an_ein_is_refused(ein: str) -> None:
    assert refused("brand.tax_id", brand__tax_id=ein)


@pytest.mark.parametrize("state", ["TX", "tx", "DC", "PR", "wy"])
def test_a_us_region_is_a_state_code(state: str) -> None:
    assert submit(draft(brand__address__region=state)).brand.address.region == state.upper()


@pytest.mark.parametrize("state", ["Texas", "XX", "T", "T X"])
def test_a_us_region_that_is_no_state_code_is_refused(state: str) -> None:
    reason = refused("brand.address.region", brand__address__region=state)
    assert reason == "must be a two-letter US state code (TX)"


@pytest.mark.parametrize("zip_code", ["78701", "78701-1234", "00501"])
def test_a_us_postal_code_is_a_zip(zip_code: str) -> None:
    assert submit(draft(brand__address__postal_code=zip_code)).brand.address.postal_code == zip_code


@pytest.mark.parametrize("zip_code", ["7870", "787011", "78701-12", "78701 1234", "ABCDE"])
def test_a_us_postal_code_that_is_no_zip_is_refused(zip_code: str) -> None:
    reason = refused("brand.address.postal_code", brand__address__postal_code=zip_code)
    assert reason == "must be a ZIP code: 12345 or 12345-6789"


def test_a_postal_code_abroad_is_letters_digits_spaces_and_hyphens() -> None:
    reason = refused(
        "brand.address.postal_code",
        brand__address__country="GB",
        brand__address__postal_code="SW1A_1AA",
    )
    assert reason == "must be letters, digits, spaces and hyphens"


@pytest.mark.parametrize("country", ["USA", "U", "U1", "ÜS", "1A"])
def test_a_country_is_two_letters(country: str) -> None:
    assert refused("brand.address.country", brand__address__country=country)


@pytest.mark.parametrize(
    "site",
    [
        "https://acme-plumbing.example.com",
        "http://acme.com",
        "HTTPS://ACME.COM/about?from=10dlc",
        "https://acme.com:8443/",
    ],
)
def test_a_website_is_an_http_or_https_address(site: str) -> None:
    assert submit(draft(brand__website=site)).brand.website == site


@pytest.mark.parametrize(
    "site",
    [
        "acme.com",
        "www.acme.com",
        "ftp://acme.com",
        "https://",
        "https://localhost",
        "https://rosa@acme.com",
        "https://acme.com:port",
        "https://ac me.com",
        "https://acme_plumbing.com",
        "javascript:alert(1)",
    ],
)
def test_anything_but_a_web_address_is_refused(site: str) -> None:
    reason = refused("brand.website", brand__website=site)
    assert reason == "must be a web address like https://acme-plumbing.com"


@pytest.mark.parametrize(
    "email", ["rosa@acme.com", "rosa.delgado+10dlc@mail.acme-plumbing.com", "r@a.co"]
)
def test_an_email_address_is_accepted(email: str) -> None:
    assert submit(draft(brand__contact__email=email)).brand.contact.email == email


@pytest.mark.parametrize(
    "email",
    [
        "rosa",
        "rosa@",
        "@acme.com",
        "rosa@acme",
        "ro sa@acme.com",
        "rosa@@acme.com",
        "rosa@acme..com",
        "rosa@acme.com.",
        f"{'r' * 65}@acme.com",
    ],
)
def test_anything_but_an_email_address_is_refused(email: str) -> None:
    reason = refused("brand.contact.email", brand__contact__email=email)
    assert reason == "must be an email address like owner@acme.com"


@pytest.mark.parametrize("phone", ["+15125550147", "+442071838750", "+1234567"])
def test_a_phone_is_e164(phone: str) -> None:
    assert submit(draft(brand__contact__phone=phone)).brand.contact.phone == phone


@pytest.mark.parametrize(
    "phone", ["5125550147", "+05125550147", "+1 512 555 0147", "+1-512-555-0147", "+123456"]
)
def test_a_phone_that_is_not_e164_is_refused(phone: str) -> None:
    reason = refused("brand.contact.phone", brand__contact__phone=phone)
    assert reason == "must be an E.164 number like +14155550123"


def test_customer_care_is_the_only_use_case_offered() -> None:
    assert submit(draft(campaign__use_case="CUSTOMER_CARE")).campaign.use_case is (
        UseCase.CUSTOMER_CARE
    )
    reason = refused("campaign.use_case", campaign__use_case="MARKETING")
    assert reason == "must be one of: CUSTOMER_CARE"


def test_the_brand_is_checked_before_the_campaign() -> None:
    refused("brand.tax_id", brand__tax_id="nope", campaign__description="short")


# --- what a submission does to the status -------------------------------------------------------

CARRIER_REASON = "Brand website does not match the registered business name"


def test_submitting_while_pending_changes_nothing() -> None:
    pending = Compliance(ACME_ID)

    assert pending.resubmit(SUBMITTED_AT) == (pending, ())


def test_resubmitting_after_a_rejection_is_pending_again_without_the_reason() -> None:
    rejected = Compliance(ACME_ID, ComplianceStatus.REJECTED, CARRIER_REASON)

    pending, events = rejected.resubmit(SUBMITTED_AT)

    assert pending == Compliance(ACME_ID, ComplianceStatus.PENDING, None)
    assert events == (ComplianceStatusChanged(ACME_ID, "pending", None, SUBMITTED_AT),)


def test_resubmitting_when_approved_stays_approved() -> None:
    approved = Compliance(ACME_ID, ComplianceStatus.APPROVED)

    assert approved.resubmit(SUBMITTED_AT) == (approved, ())
