"""Tenants: the businesses we answer for, and the rules of their onboarding."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from enum import StrEnum
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from nmc_domain.errors import InvalidInput
from nmc_domain.events import ComplianceStatusChanged, DomainEvent
from nmc_domain.model.template import TextBackTemplate

__all__ = [
    "DEFAULT_RING_TIMEOUT_SECONDS",
    "ComplianceStatus",
    "Tenant",
    "new_tenant",
]

DEFAULT_RING_TIMEOUT_SECONDS = 18
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_MAX_NAME = 100


class ComplianceStatus(StrEnum):
    """Where the tenant's 10DLC brand and campaign registration stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@attrs.frozen
class Tenant:
    """A business. Outbound SMS are held until its compliance status is approved."""

    id: UUID
    name: str
    timezone: str
    forward_to: str
    owner_email: str
    compliance_status: ComplianceStatus = ComplianceStatus.PENDING
    compliance_reason: str | None = None
    text_back_template: TextBackTemplate = attrs.field(factory=TextBackTemplate)
    ring_timeout_seconds: int = DEFAULT_RING_TIMEOUT_SECONDS
    # None means the short-call rule is off (the default): a completed call is answered.
    short_call_threshold_seconds: int | None = None

    @property
    def may_send(self) -> bool:
        """Carriers only accept our traffic for approved tenants."""
        return self.compliance_status is ComplianceStatus.APPROVED

    def approve(self, now: datetime) -> tuple[Tenant, tuple[DomainEvent, ...]]:
        """Mark the registration approved; approving twice changes nothing."""
        if self.compliance_status is ComplianceStatus.APPROVED:
            return self, ()
        changed = attrs.evolve(
            self, compliance_status=ComplianceStatus.APPROVED, compliance_reason=None
        )
        return changed, (ComplianceStatusChanged(self.id, "approved", None, now),)

    def reject(self, reason: str, now: datetime) -> tuple[Tenant, tuple[DomainEvent, ...]]:
        """Mark the registration rejected, with the carrier's reason."""
        reason = reason.strip()
        if not reason:
            raise InvalidInput("reason", "a rejection needs a reason")
        if self.compliance_status is ComplianceStatus.REJECTED and self.compliance_reason == reason:
            return self, ()
        changed = attrs.evolve(
            self, compliance_status=ComplianceStatus.REJECTED, compliance_reason=reason
        )
        return changed, (ComplianceStatusChanged(self.id, "rejected", reason, now),)


def _check_timezone(timezone: str) -> str:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput("timezone", f"unknown time zone {timezone!r}") from exc
    return timezone


def new_tenant(
    *,
    name: str,
    timezone: str,
    forward_to: str,
    owner_email: str,
    text_back_template: str | None = None,
    ring_timeout_seconds: int = DEFAULT_RING_TIMEOUT_SECONDS,
    tenant_id: UUID | None = None,
) -> Tenant:
    """Validate onboarding input (numbers already parsed to E.164) into a pending tenant."""
    name = name.strip()
    if not name:
        raise InvalidInput("name", "must not be empty")
    if len(name) > _MAX_NAME:
        raise InvalidInput("name", f"longer than {_MAX_NAME} characters")
    owner_email = owner_email.strip().lower()
    if not _EMAIL.match(owner_email):
        raise InvalidInput("owner_email", f"not an email address: {owner_email!r}")
    if not 5 <= ring_timeout_seconds <= 600:
        raise InvalidInput("ring_timeout_seconds", "must be between 5 and 600")
    template = (
        TextBackTemplate() if text_back_template is None else TextBackTemplate(text_back_template)
    )
    return Tenant(
        id=tenant_id or uuid.uuid4(),
        name=name,
        timezone=_check_timezone(timezone.strip()),
        forward_to=forward_to,
        owner_email=owner_email,
        text_back_template=template,
        ring_timeout_seconds=ring_timeout_seconds,
    )
