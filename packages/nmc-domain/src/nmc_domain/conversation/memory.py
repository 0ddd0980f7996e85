"""What the assistant remembers of a conversation between two texts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

import attrs

__all__ = ["Memory", "Offer", "Stage"]


class Stage(StrEnum):
    """Where the assistant is: waiting for the job, asked once to clarify, offered times,
    booked, or handed over to a person."""

    NEW = "new"
    CLARIFYING = "clarifying"
    OFFERED = "offered"
    BOOKED = "booked"
    HANDED_OFF = "handed_off"


@attrs.frozen
class Offer:
    """A numbered time offered to the contact, held while offered."""

    number: int
    hold_id: UUID
    technician_id: UUID
    start: datetime
    end: datetime


@attrs.frozen
class Memory:
    stage: Stage = Stage.NEW
    item_id: UUID | None = None
    offers: tuple[Offer, ...] = ()
    # Texts in a row the assistant could not make sense of (twice: a person takes over).
    misunderstood: int = 0
    # Whether the assistant's disclosure line went out already (it leads its first text).
    disclosed: bool = False
    appointment_id: UUID | None = None
