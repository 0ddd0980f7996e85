"""Outbound SMS: hand each message to the provider exactly once, held until compliance allows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

import attrs

from nmc_domain.messaging.carrier import apply_carrier_error
from nmc_domain.messaging.errors import SmsNotSent, SmsRejected
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.messaging.model import (
    FINAL_FAILURES,
    Author,
    MessageStatus,
    OutboundMessage,
    advance_status,
    parse_provider_status,
)
from nmc_domain.messaging.ports import (
    MessagingUnitOfWork,
    OutgoingSms,
    SmsReceipt,
    SmsSender,
)
from nmc_domain.shared.errors import NeedsReview
from nmc_domain.shared.ports import RowLock
from nmc_domain.shared.retry import RetryPolicy

__all__ = [
    "SMS_RETRY",
    "DispatchOutcome",
    "MessagingUnitOfWorkFactory",
    "Requeued",
    "SentObserver",
    "dispatch_message",
    "give_up",
    "release_held_messages",
    "requeue_message",
]

MessagingUnitOfWorkFactory = Callable[[], MessagingUnitOfWork]
SentObserver = Callable[[OutboundMessage, float], None]
# Texts SMS: exponential with full jitter from 1 s, capped at 5 min, for 6 hours.
_GAVE_UP = "gave up:"
SMS_RETRY = RetryPolicy(base_seconds=1.0, cap_seconds=300.0, give_up_seconds=6 * 3600.0)
# Another message of ours with the same text can only be confused with this one when its
# attempt was close in time; a wide window only makes the check more careful.
_ALIKE_WINDOW = timedelta(hours=7)


class DispatchOutcome(StrEnum):
    """What one dispatch attempt did."""

    SENT = "sent"
    RECONCILED = "reconciled"
    HELD = "held"
    ALREADY_DONE = "already_done"
    MISSING = "missing"
    REJECTED = "rejected"
    BLOCKED = "blocked"  # the recipient opted out or cannot take texts: canceled, never sent


async def dispatch_message(
    new_uow: MessagingUnitOfWorkFactory,
    sender: SmsSender,
    event: MessageQueued,
    *,
    sent: SentObserver | None = None,
) -> DispatchOutcome:
    """Send a queued message once, even across retries, crashes and several workers.

    The attempt is recorded (committed) before the request leaves. A later try that finds the
    mark asks the provider whether the message arrived before sending it again. `sent` is told
    of each message the provider took, with the seconds since it was queued.
    """
    tenant_id, message_id = event.tenant_id, event.message_id
    async with new_uow() as uow:
        await uow.bind_tenant(tenant_id)
        peek = await uow.messages.get(tenant_id, message_id)
        if peek is None:
            return DispatchOutcome.MISSING
        # The contact's row before the message's, the order an opt-out takes: it waits for a
        # send already marked, and a send waits for an opt-out being recorded.
        contact = await uow.contacts.get(tenant_id, peek.to, lock=RowLock.SHARE)
        message = await uow.messages.get(tenant_id, message_id, lock=RowLock.UPDATE)
        if message is None:
            return DispatchOutcome.MISSING
        if message.provider_sid is not None or message.status not in (
            MessageStatus.QUEUED,
            MessageStatus.HELD,
        ):
            return DispatchOutcome.ALREADY_DONE
        if not contact.may_receive(compliance_reply=message.author is Author.COMPLIANCE):
            reason = "recipient opted out" if contact.textable else "recipient cannot take texts"
            canceled = attrs.evolve(message, status=MessageStatus.CANCELED, error=reason)
            await uow.messages.save(canceled)
            await uow.commit()
            return DispatchOutcome.BLOCKED
        # SHARE makes an approval wait for us, so its release sees our "held" (see compliance).
        compliance = await uow.compliance.get(message.tenant_id, lock=RowLock.SHARE)
        if compliance is None or not compliance.may_send:
            if message.status is not MessageStatus.HELD:
                await uow.messages.save(attrs.evolve(message, status=MessageStatus.HELD))
                await uow.commit()
            return DispatchOutcome.HELD
        earlier_attempt = message.send_attempted_at
        if earlier_attempt is None:
            await _mark_attempt(uow, message)

    sms = OutgoingSms(to=message.to, from_=message.from_, body=message.body, reference=message.id)
    if earlier_attempt is not None:
        receipt = await _reconcile(new_uow, sender, message, sms, earlier_attempt)
        if receipt is not None:
            await _record(new_uow, event, receipt=receipt, sent=sent)
            return DispatchOutcome.RECONCILED
        async with new_uow() as uow:
            await uow.bind_tenant(tenant_id)
            current = await uow.messages.get(tenant_id, message_id, lock=RowLock.UPDATE)
            if current is None or current.provider_sid is not None:
                return DispatchOutcome.ALREADY_DONE
            await _mark_attempt(uow, current)
    try:
        receipt = await sender.send(sms)
    except SmsRejected as exc:
        await _record(new_uow, event, rejected=exc)
        return DispatchOutcome.REJECTED
    except SmsNotSent:
        # The provider never took it: clear the mark so the retry need not reconcile.
        await _record(new_uow, event)
        raise
    # SmsOutcomeUnknown propagates with the mark kept: the retry reconciles first.
    await _record(new_uow, event, receipt=receipt, sent=sent)
    return DispatchOutcome.SENT


async def _reconcile(
    new_uow: MessagingUnitOfWorkFactory,
    sender: SmsSender,
    message: OutboundMessage,
    sms: OutgoingSms,
    attempted_at: datetime,
) -> SmsReceipt | None:
    """The provider's record of an attempt whose outcome is unknown, None when it has none.

    A record counts as ours only when nothing else of ours could be it: records already
    claimed by another of our messages (same text, same numbers) are not ours; when another of
    ours is also unconfirmed, a free record could be either, and neither is marked sent on that
    basis: the message is set aside for review (raises NeedsReview) rather than risk a silent
    drop or a double send.
    """
    records = await sender.find_sent(sms, since=attempted_at)
    if not records:
        return None
    async with new_uow() as uow:
        await uow.bind_tenant(message.tenant_id)
        others = await uow.messages.alike(
            message.tenant_id, message, since=attempted_at - _ALIKE_WINDOW
        )
    claimed = {other.provider_sid for other in others if other.provider_sid is not None}
    free = [record for record in records if record.provider_sid not in claimed]
    if not free:
        return None  # every record is another message's: ours never arrived
    rivals = [other for other in others if _unconfirmed(other)]
    if not rivals:
        return free[0]
    reason = (
        f"{len(free)} provider record(s) could be this message or one of "
        f"{len(rivals)} other unconfirmed message(s) with the same text"
    )
    await _set_aside(new_uow, message, reason)
    raise NeedsReview(reason)


def _unconfirmed(message: OutboundMessage) -> bool:
    # A send that may have reached the provider, with no record of it on our side yet: still
    # on its way, set aside, held again after its attempt, or given up on after an unknown
    # outcome. (A rejected one never reached it: the provider refused the request.)
    if message.provider_sid is not None or message.send_attempted_at is None:
        return False
    if message.status is MessageStatus.FAILED:
        return _given_up(message)
    return message.status in (MessageStatus.QUEUED, MessageStatus.NEEDS_REVIEW, MessageStatus.HELD)


def _given_up(message: OutboundMessage) -> bool:
    return message.status is MessageStatus.FAILED and (message.error or "").startswith(_GAVE_UP)


async def _set_aside(
    new_uow: MessagingUnitOfWorkFactory, message: OutboundMessage, reason: str
) -> None:
    async with new_uow() as uow:
        await uow.bind_tenant(message.tenant_id)
        current = await uow.messages.get(message.tenant_id, message.id, lock=RowLock.UPDATE)
        if current is None or current.provider_sid is not None:
            return
        await uow.messages.save(
            attrs.evolve(current, status=MessageStatus.NEEDS_REVIEW, error=reason[:500])
        )
        await uow.commit()


async def _mark_attempt(uow: MessagingUnitOfWork, message: OutboundMessage) -> None:
    marked = attrs.evolve(message, status=MessageStatus.QUEUED, send_attempted_at=await uow.now())
    await uow.messages.save(marked)
    await uow.commit()


async def _record(
    new_uow: MessagingUnitOfWorkFactory,
    event: MessageQueued,
    *,
    receipt: SmsReceipt | None = None,
    rejected: SmsRejected | None = None,
    sent: SentObserver | None = None,
) -> None:
    async with new_uow() as uow:
        await uow.bind_tenant(event.tenant_id)
        message = await uow.messages.get(event.tenant_id, event.message_id, lock=RowLock.UPDATE)
        if message is None:
            return
        if receipt is not None:
            reported = parse_provider_status(receipt.status) or MessageStatus.QUEUED
            message = attrs.evolve(
                message,
                provider_sid=receipt.provider_sid,
                status=advance_status(message.status, reported),
                # Kept once set: a reconciled retry does not move the first acceptance.
                accepted_at=message.accepted_at or await uow.now(),
                # The provider has it: a note of an earlier give-up or review no longer holds.
                error=None if reported not in FINAL_FAILURES else message.error,
            )
        elif rejected is not None:
            message = attrs.evolve(message, status=MessageStatus.FAILED, error=str(rejected))
            await apply_carrier_error(uow, message, rejected.code, await uow.now())
        else:
            message = attrs.evolve(message, send_attempted_at=None)
        await uow.messages.save(message)
        now = await uow.now()
        await uow.commit()
    if sent is not None and receipt is not None:
        sent(message, (now - message.created_at).total_seconds())


async def give_up(new_uow: MessagingUnitOfWorkFactory, event: MessageQueued, error: str) -> None:
    """The outbox gave up on this message (dead letter): it failed, and says why, so a missed
    call's text-back that died does not count as sent."""
    async with new_uow() as uow:
        await uow.bind_tenant(event.tenant_id)
        message = await uow.messages.get(event.tenant_id, event.message_id, lock=RowLock.UPDATE)
        if message is None or message.provider_sid is not None or message.failed:
            return
        await uow.messages.save(
            attrs.evolve(message, status=MessageStatus.FAILED, error=f"{_GAVE_UP} {error}"[:500])
        )
        await uow.commit()


class Requeued(StrEnum):
    """What a requeue found the message to be."""

    QUEUED = "queued"  # it will go (or is on its way): the row's next run sends it
    ALREADY_SENT = "already_sent"  # the provider has it: not sent again
    MISSING = "missing"  # no such message (deleted with its tenant)
    FINAL = "final"  # canceled (opted out) or refused by the provider: never sent


async def requeue_message(new_uow: MessagingUnitOfWorkFactory, event: MessageQueued) -> Requeued:
    """Make a message the outbox gave up on (or set aside for review) queued again, for a
    replay of its row. The send mark is kept: the next try asks the provider first, so a text
    the provider had accepted is never sent twice."""
    async with new_uow() as uow:
        await uow.bind_tenant(event.tenant_id)
        message = await uow.messages.get(event.tenant_id, event.message_id, lock=RowLock.UPDATE)
        if message is None:
            return Requeued.MISSING
        if message.provider_sid is not None:
            return Requeued.ALREADY_SENT
        if _given_up(message) or message.status is MessageStatus.NEEDS_REVIEW:
            await uow.messages.save(attrs.evolve(message, status=MessageStatus.QUEUED))
            await uow.commit()
            return Requeued.QUEUED
        if message.status in (MessageStatus.QUEUED, MessageStatus.HELD):
            return Requeued.QUEUED
        return Requeued.FINAL


async def release_held_messages(uow: MessagingUnitOfWork, tenant_id: UUID) -> int:
    """Queue again every held message of a tenant that may now send; returns how many."""
    async with uow:
        await uow.bind_tenant(tenant_id)
        compliance = await uow.compliance.get(tenant_id, lock=RowLock.SHARE)
        if compliance is None or not compliance.may_send:
            return 0
        held = await uow.messages.held(tenant_id)
        for message in held:
            await uow.messages.save(attrs.evolve(message, status=MessageStatus.QUEUED))
            await uow.outbox.add(MessageQueued(tenant_id, message.id))
        await uow.commit()
        return len(held)
