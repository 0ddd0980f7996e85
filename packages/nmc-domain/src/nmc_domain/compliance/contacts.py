"""Who may be texted: each number's opt-out state and the append-only ledger behind it.

An opt-out is recorded for (tenant, number) and blocks every later send to that number,
whichever path asks; only the confirmation of the opt-out itself (and answers to HELP) may
still go. A number a carrier says cannot take texts is marked not textable.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from uuid import UUID

import attrs

__all__ = [
    "Contact",
    "LedgerAction",
    "LedgerEntry",
    "OptOutSource",
    "mark_not_textable",
    "opt_in",
    "opt_out",
]


class LedgerAction(StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"


class OptOutSource(StrEnum):
    """Where the opt-out came from: the contact's own words, or the carrier (Twilio 21610)."""

    KEYWORD = "keyword"
    CARRIER = "carrier"


@attrs.frozen
class Contact:
    """What compliance knows about one number, for one tenant (a number never seen: textable)."""

    tenant_id: UUID
    phone: str
    opted_out: bool = False
    textable: bool = True
    not_textable_reason: str | None = None

    def may_receive(self, *, compliance_reply: bool = False) -> bool:
        """Whether a text may go to this number; confirmations and HELP answers pass an
        opt-out (they are what the rules require us to send), never an unreachable number."""
        return self.textable and (compliance_reply or not self.opted_out)


@attrs.frozen
class LedgerEntry:
    """One line of the append-only opt-out ledger."""

    id: UUID
    tenant_id: UUID
    phone: str
    action: LedgerAction
    source: OptOutSource
    text: str
    message_id: UUID | None
    occurred_at: datetime


def opt_out(
    contact: Contact,
    *,
    text: str,
    message_id: UUID | None,
    now: datetime,
    source: OptOutSource = OptOutSource.KEYWORD,
) -> tuple[Contact, LedgerEntry]:
    """The contact opted out, and the line that records it (written even when repeated)."""
    entry = LedgerEntry(
        uuid.uuid4(),
        contact.tenant_id,
        contact.phone,
        LedgerAction.OPT_OUT,
        source,
        text,
        message_id,
        now,
    )
    return attrs.evolve(contact, opted_out=True), entry


def opt_in(
    contact: Contact, *, text: str, message_id: UUID | None, now: datetime
) -> tuple[Contact, LedgerEntry]:
    """The contact opted back in (START, UNSTOP, YES)."""
    entry = LedgerEntry(
        uuid.uuid4(),
        contact.tenant_id,
        contact.phone,
        LedgerAction.OPT_IN,
        OptOutSource.KEYWORD,
        text,
        message_id,
        now,
    )
    return attrs.evolve(contact, opted_out=False), entry


def mark_not_textable(contact: Contact, reason: str) -> Contact:
    """A carrier said this number cannot take texts (a landline: Twilio 21614, 30006)."""
    return attrs.evolve(contact, textable=False, not_textable_reason=reason)
