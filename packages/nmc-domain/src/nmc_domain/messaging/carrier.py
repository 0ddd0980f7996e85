"""What a carrier's error says about the recipient: opted out at the carrier (Twilio 21610),
or a number that cannot take texts (21614 not a mobile, 30006 landline or unreachable)."""

from __future__ import annotations

from datetime import datetime

from nmc_domain.compliance.contacts import OptOutSource, mark_not_textable, opt_out
from nmc_domain.messaging.model import OutboundMessage
from nmc_domain.messaging.ports import MessagingUnitOfWork

__all__ = ["CARRIER_OPT_OUT", "NOT_TEXTABLE", "apply_carrier_error"]

CARRIER_OPT_OUT = frozenset({"21610"})
NOT_TEXTABLE = frozenset({"21614", "30006"})


async def apply_carrier_error(
    uow: MessagingUnitOfWork, message: OutboundMessage, code: str | None, now: datetime
) -> None:
    """Record in the contact (and the opt-out ledger) what the error code says, if anything."""
    if code not in CARRIER_OPT_OUT and code not in NOT_TEXTABLE:
        return
    contact = await uow.contacts.get(message.tenant_id, message.to)
    if code in CARRIER_OPT_OUT:
        if contact.opted_out:
            return
        contact, entry = opt_out(
            contact,
            text=f"carrier error {code}",
            message_id=message.id,
            now=now,
            source=OptOutSource.CARRIER,
        )
        await uow.opt_outs.append(entry)
    else:
        if not contact.textable:
            return
        contact = mark_not_textable(contact, f"carrier error {code}")
    await uow.contacts.save(contact)
