"""Unit tests for the 10DLC compliance transitions: pending, approved, rejected, who may send."""

from datetime import UTC, datetime
from uuid import UUID

import pytest

from nmc_domain.compliance.events import ComplianceStatusChanged
from nmc_domain.compliance.model import Compliance, ComplianceStatus
from nmc_domain.shared.errors import InvalidInput

ACME_ID = UUID("0b5e4a0e-7c1d-4f55-9f4e-ac3e00000001")
APPROVED_AT = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
REJECTED_AT = datetime(2025, 3, 15, 17, 0, 0, tzinfo=UTC)
CARRIER_REASON = "Brand website does not match the registered business name"


def test_a_new_registration_is_pending_without_a_reason() -> None:
    pending = Compliance(ACME_ID)

    assert (pending.tenant_id, pending.status, pending.reason) == (
        ACME_ID,
        ComplianceStatus.PENDING,
        None,
    )


def test_approve_from_pending_emits_exactly_one_approved_event() -> None:
    pending = Compliance(ACME_ID)

    approved, events = pending.approve(APPROVED_AT)

    assert approved.status is ComplianceStatus.APPROVED
    assert approved.reason is None
    assert events == (ComplianceStatusChanged(ACME_ID, "approved", None, APPROVED_AT),)
    assert pending.status is ComplianceStatus.PENDING  # the original is untouched


def test_approving_twice_changes_nothing_and_emits_nothing() -> None:
    approved, _ = Compliance(ACME_ID).approve(APPROVED_AT)

    again, events = approved.approve(REJECTED_AT)

    assert again == approved
    assert events == ()


def test_reject_emits_rejected_event_with_the_reason() -> None:
    rejected, events = Compliance(ACME_ID).reject(CARRIER_REASON, REJECTED_AT)

    assert rejected.status is ComplianceStatus.REJECTED
    assert rejected.reason == CARRIER_REASON
    assert events == (ComplianceStatusChanged(ACME_ID, "rejected", CARRIER_REASON, REJECTED_AT),)


def test_reject_reason_is_trimmed() -> None:
    rejected, events = Compliance(ACME_ID).reject(f"  {CARRIER_REASON}\n", REJECTED_AT)

    assert rejected.reason == CARRIER_REASON
    assert isinstance(events[0], ComplianceStatusChanged)
    assert events[0].reason == CARRIER_REASON


@pytest.mark.parametrize("reason", ["", "   ", "\n"])
def test_reject_needs_a_reason(reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        Compliance(ACME_ID).reject(reason, REJECTED_AT)
    assert caught.value.field == "reason"


def test_rejecting_again_with_the_same_reason_emits_nothing() -> None:
    rejected, _ = Compliance(ACME_ID).reject(CARRIER_REASON, REJECTED_AT)

    again, events = rejected.reject(CARRIER_REASON, APPROVED_AT)

    assert again == rejected
    assert events == ()


def test_rejecting_again_with_a_new_reason_records_it() -> None:
    rejected, _ = Compliance(ACME_ID).reject(CARRIER_REASON, REJECTED_AT)

    again, events = rejected.reject("Sample messages missing opt-out language", APPROVED_AT)

    assert again.reason == "Sample messages missing opt-out language"
    assert len(events) == 1


def test_approving_a_rejected_tenant_clears_the_reason() -> None:
    rejected, _ = Compliance(ACME_ID).reject(CARRIER_REASON, REJECTED_AT)

    approved, events = rejected.approve(APPROVED_AT)

    assert approved.status is ComplianceStatus.APPROVED
    assert approved.reason is None
    assert events == (ComplianceStatusChanged(ACME_ID, "approved", None, APPROVED_AT),)


def test_only_an_approved_tenant_may_send() -> None:
    pending = Compliance(ACME_ID)
    approved, _ = pending.approve(APPROVED_AT)
    rejected, _ = pending.reject(CARRIER_REASON, REJECTED_AT)
    rejected_after_approval, _ = approved.reject(CARRIER_REASON, REJECTED_AT)

    assert pending.may_send is False
    assert approved.may_send is True
    assert rejected.may_send is False
    assert rejected_after_approval.may_send is False


def test_events_carry_the_tenant_id_and_the_time_passed_in() -> None:
    other_id = UUID("11111111-2222-4333-8444-555555555555")
    tenant = Compliance(other_id)
    long_ago = datetime(2001, 1, 1, tzinfo=UTC)

    _, approved_events = tenant.approve(long_ago)
    _, rejected_events = tenant.reject(CARRIER_REASON, REJECTED_AT)

    assert [e.tenant_id for e in approved_events + rejected_events] == [other_id, other_id]
    assert isinstance(approved_events[0], ComplianceStatusChanged)
    assert isinstance(rejected_events[0], ComplianceStatusChanged)
    assert approved_events[0].occurred_at == long_ago
    assert rejected_events[0].occurred_at == REJECTED_AT
