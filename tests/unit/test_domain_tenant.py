"""Unit tests for tenants: onboarding validation and the 10DLC compliance transitions."""

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest

from nmc_domain.errors import InvalidInput, TemplateError
from nmc_domain.events import ComplianceStatusChanged
from nmc_domain.model.tenant import (
    DEFAULT_RING_TIMEOUT_SECONDS,
    ComplianceStatus,
    Tenant,
    new_tenant,
)

ACME_ID = UUID("0b5e4a0e-7c1d-4f55-9f4e-ac3e00000001")
APPROVED_AT = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
REJECTED_AT = datetime(2025, 3, 15, 17, 0, 0, tzinfo=UTC)
CARRIER_REASON = "Brand website does not match the registered business name"


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


def test_new_tenant_is_pending_with_defaults_and_the_given_fields() -> None:
    tenant = _onboard()

    assert tenant.id == ACME_ID
    assert tenant.name == "ACME-PLUMBING"
    assert tenant.timezone == "America/Chicago"
    assert tenant.forward_to == "+15005550006"
    assert tenant.compliance_status is ComplianceStatus.PENDING
    assert tenant.compliance_reason is None
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


def test_approve_from_pending_emits_exactly_one_approved_event() -> None:
    pending = _onboard()

    approved, events = pending.approve(APPROVED_AT)

    assert approved.compliance_status is ComplianceStatus.APPROVED
    assert approved.compliance_reason is None
    assert events == (ComplianceStatusChanged(ACME_ID, "approved", None, APPROVED_AT),)
    assert pending.compliance_status is ComplianceStatus.PENDING  # the original is untouched


def test_approving_twice_changes_nothing_and_emits_nothing() -> None:
    approved, _ = _onboard().approve(APPROVED_AT)

    again, events = approved.approve(REJECTED_AT)

    assert again == approved
    assert events == ()


def test_reject_emits_rejected_event_with_the_reason() -> None:
    rejected, events = _onboard().reject(CARRIER_REASON, REJECTED_AT)

    assert rejected.compliance_status is ComplianceStatus.REJECTED
    assert rejected.compliance_reason == CARRIER_REASON
    assert events == (ComplianceStatusChanged(ACME_ID, "rejected", CARRIER_REASON, REJECTED_AT),)


def test_reject_reason_is_trimmed() -> None:
    rejected, events = _onboard().reject(f"  {CARRIER_REASON}\n", REJECTED_AT)

    assert rejected.compliance_reason == CARRIER_REASON
    assert isinstance(events[0], ComplianceStatusChanged)
    assert events[0].reason == CARRIER_REASON


@pytest.mark.parametrize("reason", ["", "   ", "\n"])
def test_reject_needs_a_reason(reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        _onboard().reject(reason, REJECTED_AT)
    assert caught.value.field == "reason"


def test_rejecting_again_with_the_same_reason_emits_nothing() -> None:
    rejected, _ = _onboard().reject(CARRIER_REASON, REJECTED_AT)

    again, events = rejected.reject(CARRIER_REASON, APPROVED_AT)

    assert again == rejected
    assert events == ()


def test_rejecting_again_with_a_new_reason_records_it() -> None:
    rejected, _ = _onboard().reject(CARRIER_REASON, REJECTED_AT)

    again, events = rejected.reject("Sample messages missing opt-out language", APPROVED_AT)

    assert again.compliance_reason == "Sample messages missing opt-out language"
    assert len(events) == 1


def test_approving_a_rejected_tenant_clears_the_reason() -> None:
    rejected, _ = _onboard().reject(CARRIER_REASON, REJECTED_AT)

    approved, events = rejected.approve(APPROVED_AT)

    assert approved.compliance_status is ComplianceStatus.APPROVED
    assert approved.compliance_reason is None
    assert events == (ComplianceStatusChanged(ACME_ID, "approved", None, APPROVED_AT),)


def test_only_an_approved_tenant_may_send() -> None:
    pending = _onboard()
    approved, _ = pending.approve(APPROVED_AT)
    rejected, _ = pending.reject(CARRIER_REASON, REJECTED_AT)
    rejected_after_approval, _ = approved.reject(CARRIER_REASON, REJECTED_AT)

    assert pending.may_send is False
    assert approved.may_send is True
    assert rejected.may_send is False
    assert rejected_after_approval.may_send is False


def test_events_carry_the_tenant_id_and_the_time_passed_in() -> None:
    other_id = UUID("11111111-2222-4333-8444-555555555555")
    tenant = _onboard(tenant_id=other_id)
    long_ago = datetime(2001, 1, 1, tzinfo=UTC)

    _, approved_events = tenant.approve(long_ago)
    _, rejected_events = tenant.reject(CARRIER_REASON, REJECTED_AT)

    assert [e.tenant_id for e in approved_events + rejected_events] == [other_id, other_id]
    assert isinstance(approved_events[0], ComplianceStatusChanged)
    assert isinstance(rejected_events[0], ComplianceStatusChanged)
    assert approved_events[0].occurred_at == long_ago
    assert rejected_events[0].occurred_at == REJECTED_AT
