"""Unit tests for tenants: onboarding validation and the profile's defaults."""

from typing import Any
from uuid import UUID

import pytest

from nmc_domain.shared.errors import InvalidInput
from nmc_domain.tenancy.errors import TemplateError
from nmc_domain.tenancy.model import DEFAULT_RING_TIMEOUT_SECONDS, Tenant, new_tenant

ACME_ID = UUID("0b5e4a0e-7c1d-4f55-9f4e-ac3e00000001")


def _onboard(**overrides: Any) -> Tenant:
    fields: dict[str, Any] = {
        "name": "ACME-PLUMBING",
        "timezone": "America/Chicago",
        "forward_to": "+15005550006",
        "owner_email": "owner@acme-plumbing.example",
        "tenant_id": ACME_ID,
    }
    fields.update(overrides)
    return new_tenant(**fields)


def test_new_tenant_has_defaults_and_the_given_fields() -> None:
    tenant = _onboard()

    assert tenant.id == ACME_ID
    assert tenant.name == "ACME-PLUMBING"
    assert tenant.timezone == "America/Chicago"
    assert tenant.forward_to == "+15005550006"
    assert tenant.ring_timeout_seconds == DEFAULT_RING_TIMEOUT_SECONDS
    assert tenant.short_call_threshold_seconds is None
    assert tenant.text_back_template.render(business_name="ACME-PLUMBING").startswith(
        "Hi, this is ACME-PLUMBING."
    )


def test_new_tenant_without_an_id_gets_a_fresh_one() -> None:
    first = _onboard(tenant_id=None)
    second = _onboard(tenant_id=None)

    assert isinstance(first.id, UUID)
    assert first.id != second.id


def test_name_is_trimmed() -> None:
    assert _onboard(name="  Bob's Boilers \n").name == "Bob's Boilers"


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_empty_name_is_rejected(name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        _onboard(name=name)
    assert caught.value.field == "name"


def test_name_of_100_characters_is_accepted_and_101_rejected() -> None:
    assert len(_onboard(name="A" * 100).name) == 100
    with pytest.raises(InvalidInput) as caught:
        _onboard(name="A" * 101)
    assert caught.value.field == "name"


@pytest.mark.parametrize(
    "email",
    [
        "",
        "owner",
        "owner@acme",
        "owner.acme-plumbing.example",
        "owner@@acme-plumbing.example",
        "own er@acme-plumbing.example",
        "@acme-plumbing.example",
    ],
)
def test_bad_email_is_rejected(email: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        _onboard(owner_email=email)
    assert caught.value.field == "owner_email"


def test_email_is_trimmed_and_lowercased() -> None:
    tenant = _onboard(owner_email="  Owner@ACME-Plumbing.Example \n")

    assert tenant.owner_email == "owner@acme-plumbing.example"


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "", "../../etc/passwd", "EST+5"])
def test_unknown_time_zone_is_rejected(timezone: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        _onboard(timezone=timezone)
    assert caught.value.field == "timezone"


def test_time_zone_is_trimmed() -> None:
    assert _onboard(timezone=" America/Denver ").timezone == "America/Denver"


@pytest.mark.parametrize("seconds", [5, 18, 600])
def test_ring_timeout_within_bounds_is_kept(seconds: int) -> None:
    assert _onboard(ring_timeout_seconds=seconds).ring_timeout_seconds == seconds


@pytest.mark.parametrize("seconds", [-1, 0, 4, 601, 3600])
def test_ring_timeout_outside_5_to_600_is_rejected(seconds: int) -> None:
    with pytest.raises(InvalidInput) as caught:
        _onboard(ring_timeout_seconds=seconds)
    assert caught.value.field == "ring_timeout_seconds"


def test_custom_template_is_kept() -> None:
    tenant = _onboard(text_back_template="{business_name}: sorry! Reply and we'll call back.")

    body = tenant.text_back_template.render(business_name=tenant.name)

    assert body == "ACME-PLUMBING: sorry! Reply and we'll call back."


def test_template_error_propagates_from_onboarding() -> None:
    with pytest.raises(TemplateError) as caught:
        _onboard(text_back_template="Hi {first_name}, this is {business_name}")
    assert caught.value.field == "text_back_template"
    assert "{first_name}" in str(caught.value)
