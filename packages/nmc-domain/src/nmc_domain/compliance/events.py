"""Events of compliance."""

from __future__ import annotations

from datetime import datetime

import attrs

from nmc_domain.shared.events import DomainEvent

__all__ = ["ComplianceStatusChanged"]


@attrs.frozen
class ComplianceStatusChanged(DomainEvent):
    """A tenant's 10DLC registration moved to `status` (approved releases held messages)."""

    status: str
    reason: str | None
    occurred_at: datetime
