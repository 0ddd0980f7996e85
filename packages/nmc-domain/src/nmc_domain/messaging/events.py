"""Events of messaging."""

from __future__ import annotations

from uuid import UUID

import attrs

from nmc_domain.shared.events import DomainEvent

__all__ = ["MessageQueued"]


@attrs.frozen
class MessageQueued(DomainEvent):
    """An outbound SMS was stored and waits to be handed to the provider."""

    message_id: UUID
