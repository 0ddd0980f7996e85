"""10DLC registration: a tenant's outbound SMS are held until carriers approve its brand."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

import attrs

from nmc_domain.compliance.events import ComplianceStatusChanged
from nmc_domain.shared.errors import InvalidInput
from nmc_domain.shared.events import DomainEvent

__all__ = ["Compliance", "ComplianceStatus"]


class ComplianceStatus(StrEnum):
    """Where the tenant's 10DLC brand and campaign registration stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@attrs.frozen
class Compliance:
    """A tenant's registration status; every tenant starts pending."""

    tenant_id: UUID
    status: ComplianceStatus = ComplianceStatus.PENDING
    reason: str | None = None

    @property
    def may_send(self) -> bool:
        """Carriers only accept our traffic for approved tenants."""
        return self.status is ComplianceStatus.APPROVED

    def approve(self, now: datetime) -> tuple[Compliance, tuple[DomainEvent, ...]]:
        """Mark the registration approved; approving twice changes nothing."""
        if self.status is ComplianceStatus.APPROVED:
            return self, ()
        changed = attrs.evolve(self, status=ComplianceStatus.APPROVED, reason=None)
        return changed, (ComplianceStatusChanged(self.tenant_id, "approved", None, now),)

    def resubmit(self, now: datetime) -> tuple[Compliance, tuple[DomainEvent, ...]]:
        """A registration was (re)submitted: back to pending, a rejection's reason cleared.

        An approved tenant stays approved: its texts keep going while carriers look at the
        update (holding them for a corrected typo would punish the business's callers).
        """
        if self.status is ComplianceStatus.APPROVED:
            return self, ()
        if self.status is ComplianceStatus.PENDING and self.reason is None:
            return self, ()
        changed = attrs.evolve(self, status=ComplianceStatus.PENDING, reason=None)
        return changed, (ComplianceStatusChanged(self.tenant_id, "pending", None, now),)

    def reject(self, reason: str, now: datetime) -> tuple[Compliance, tuple[DomainEvent, ...]]:
        """Mark the registration rejected, with the carrier's reason."""
        reason = reason.strip()
        if not reason:
            raise InvalidInput("reason", "a rejection needs a reason")
        if self.status is ComplianceStatus.REJECTED and self.reason == reason:
            return self, ()
        changed = attrs.evolve(self, status=ComplianceStatus.REJECTED, reason=reason)
        return changed, (ComplianceStatusChanged(self.tenant_id, "rejected", reason, now),)
