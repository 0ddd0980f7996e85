"""The assistant: a port that decides the next move from the conversation and the new text.

It decides, it does not act: the conversation use case holds and books the slots, writes the
texts and changes the state, in the transaction that stored the text. The rule-based
assistant is the default; one backed by a language model may come behind the same port, and
nothing else depends on which is plugged in.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Protocol
from uuid import UUID
from zoneinfo import ZoneInfo

import attrs

from nmc_domain.catalog.matching import match_items
from nmc_domain.catalog.model import ServiceItem
from nmc_domain.conversation.memory import Memory, Offer, Stage
from nmc_domain.conversation.picks import pick_offer

__all__ = [
    "Ask",
    "Assistant",
    "Book",
    "Decision",
    "Handoff",
    "Quote",
    "RuleBasedAssistant",
    "Say",
    "Turn",
]


@attrs.frozen
class Turn:
    """What the assistant may consider: the new text, its memory, the catalog, the business."""

    text: str
    memory: Memory
    catalog: tuple[ServiceItem, ...]
    business_name: str
    timezone: str
    now: datetime


@attrs.frozen
class Quote:
    """Quote this item and offer times for it."""

    item_id: UUID


@attrs.frozen
class Book:
    """Book this offer."""

    offer: Offer


@attrs.frozen
class Ask:
    """Ask this (the text was not understood)."""

    text: str


@attrs.frozen
class Handoff:
    """Hand the conversation to a person, saying why (and telling the contact)."""

    reason: str


@attrs.frozen
class Say:
    """Just answer this; nothing changes."""

    text: str


Decision = Quote | Book | Ask | Handoff | Say


class Assistant(Protocol):
    """Decides the next move; never raises for anything a contact can write."""

    async def decide(self, turn: Turn) -> Decision: ...


_PERSON = re.compile(
    r"\b(human|person|real person|someone|somebody|representative|agent|operator|"
    r"call me|talk to|speak to|speak with|talk with|owner|manager)\b",
    re.IGNORECASE,
)


class RuleBasedAssistant:
    """Deterministic: catalog matching, numbered picks, two strikes then a person."""

    async def decide(self, turn: Turn) -> Decision:
        memory = turn.memory
        if _PERSON.search(turn.text):
            return Handoff("asked for a person")
        if memory.stage is Stage.OFFERED:
            picked = pick_offer(turn.text, memory.offers, ZoneInfo(turn.timezone))
            if picked is not None:
                return Book(picked)
        matches = match_items(turn.text, turn.catalog)
        if matches:
            return Quote(matches[0].item.id)
        if memory.stage is Stage.BOOKED:
            return Say("You're all set. If you need anything else, just reply here.")
        if memory.stage is Stage.NEW:
            return Ask(_clarify(memory))
        if memory.misunderstood >= 1 or memory.stage is Stage.CLARIFYING:
            reason = "no catalog match" if memory.stage is Stage.CLARIFYING else "not understood"
            return Handoff(reason)
        return Ask(_clarify(memory))


def _clarify(memory: Memory) -> str:
    if memory.stage is Stage.OFFERED and memory.offers:
        numbers = ", ".join(str(offer.number) for offer in memory.offers)
        return f"Sorry, I didn't get that. Which time works? Reply {numbers}."
    return "Sorry, what do you need help with? For example: a leak, a water heater, a drain."
