"""Events of compliance."""

from __future__ import annotations

from datetime import datetime

import attrs

from nmc_domain.compliance.registration import Brand, Campaign
from nmc_domain.shared.events import DomainEvent

__all__ = ["ComplianceStatusChanged", "RegistrationSubmitted"]


@attrs.frozen
class ComplianceStatusChanged(DomainEvent):
    """A tenant's 10DLC registration moved to `status` (approved releases held messages)."""

    status: str
    reason: str | None
    occurred_at: datetime


@attrs.frozen
class RegistrationSubmitted(DomainEvent):
    """A tenant submitted (or replaced) its 10DLC brand and campaign, to be sent on to the
    carriers' registry. It carries the whole submission: a later one replaces this one, and
    `submitted_at` tells which is newer."""

    brand: Brand
    campaign: Campaign
    submitted_at: datetime
