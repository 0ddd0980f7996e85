"""Outbound SMS: hand each message to the provider exactly once, and track its status."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from uuid import UUID

import attrs

from nmc_domain.errors import InvalidInput, SmsNotSent, SmsRejected
from nmc_domain.events import MessageQueued
from nmc_domain.model.messages import (
    MessageStatus,
    OutboundMessage,
    advance_status,
    parse_provider_status,
)
from nmc_domain.ports import (
    OutgoingSms,
    RowLock,
    SmsReceipt,
    SmsSender,
    UnitOfWork,
    UnitOfWorkFactory,
)

__all__ = [
    "SMS_STATUS_EVENTS",
    "DispatchOutcome",
    "MessageStatusReport",
    "StatusOutcome",
    "dispatch_message",
    "record_message_status",
    "release_held_messages",
]

SMS_STATUS_EVENTS = "twilio.sms.status"


class DispatchOutcome(StrEnum):
    """What one dispatch attempt did."""

    SENT = "sent"
    RECONCILED = "reconciled"
    HELD = "held"
    ALREADY_DONE = "already_done"
    MISSING = "missing"
    REJECTED = "rejected"


async def dispatch_message(
    new_uow: UnitOfWorkFactory, sender: SmsSender, event: MessageQueued
) -> DispatchOutcome:
    """Send a queued message once, even across retries, crashes and several workers.

    The attempt is recorded (committed) before the request leaves. A later try that finds the
    mark asks the provider whether the message arrived before sending it again.
    """
    tenant_id, message_id = event.tenant_id, event.message_id
    async with new_uow() as uow:
        await uow.bind_tenant(tenant_id)
        message = await uow.messages.get(tenant_id, message_id, lock=RowLock.UPDATE)
        if message is None:
            return DispatchOutcome.MISSING
        if message.provider_sid is not None or message.status not in (
            MessageStatus.QUEUED,
            MessageStatus.HELD,
        ):
            return DispatchOutcome.ALREADY_DONE
        # SHARE makes an approval wait for us, so its release sees our "held" (see compliance).
        tenant = await uow.tenants.get(message.tenant_id, lock=RowLock.SHARE)
        if tenant is None or not tenant.may_send:
            if message.status is not MessageStatus.HELD:
                await uow.messages.save(attrs.evolve(message, status=MessageStatus.HELD))
                await uow.commit()
            return DispatchOutcome.HELD
        earlier_attempt = message.send_attempted_at
        if earlier_attempt is None:
            await _mark_attempt(uow, message)

    sms = OutgoingSms(to=message.to, from_=message.from_, body=message.body, reference=message.id)
    if earlier_attempt is not None:
        receipt = await sender.find_sent(sms, since=earlier_attempt)
        if receipt is not None:
            await _record(new_uow, event, receipt=receipt)
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
    await _record(new_uow, event, receipt=receipt)
    return DispatchOutcome.SENT


async def _mark_attempt(uow: UnitOfWork, message: OutboundMessage) -> None:
    marked = attrs.evolve(message, status=MessageStatus.QUEUED, send_attempted_at=await uow.now())
    await uow.messages.save(marked)
    await uow.commit()


async def _record(
    new_uow: UnitOfWorkFactory,
    event: MessageQueued,
    *,
    receipt: SmsReceipt | None = None,
    rejected: SmsRejected | None = None,
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
            )
        elif rejected is not None:
            message = attrs.evolve(message, status=MessageStatus.FAILED, error=str(rejected))
        else:
            message = attrs.evolve(message, send_attempted_at=None)
        await uow.messages.save(message)
        await uow.commit()


async def release_held_messages(uow: UnitOfWork, tenant_id: UUID) -> int:
    """Queue again every held message of a tenant that may now send; returns how many."""
    async with uow:
        await uow.bind_tenant(tenant_id)
        tenant = await uow.tenants.get(tenant_id, lock=RowLock.SHARE)
        if tenant is None or not tenant.may_send:
            return 0
        held = await uow.messages.held(tenant_id)
        for message in held:
            await uow.messages.save(attrs.evolve(message, status=MessageStatus.QUEUED))
            await uow.outbox.add(MessageQueued(tenant_id, message.id))
        await uow.commit()
        return len(held)


@attrs.frozen
class MessageStatusReport:
    """A provider status callback for the message we sent as `message_id` from `sender`."""

    message_id: UUID
    sender: str
    provider_sid: str
    status: str
    error_code: str | None = None
    payload: Mapping[str, str] = attrs.field(factory=dict)


class StatusOutcome(StrEnum):
    """What a status callback did."""

    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"
    UNKNOWN_MESSAGE = "unknown_message"


async def record_message_status(uow: UnitOfWork, report: MessageStatusReport) -> StatusOutcome:
    """Store each (sid, status) once; the message's status only ever moves forward."""
    reported = parse_provider_status(report.status)
    if reported is None:
        raise InvalidInput("MessageStatus", f"unknown message status {report.status!r}")
    async with uow:
        tenant = await uow.tenants.by_number(report.sender)
        message = None
        if tenant is not None:
            message = await uow.messages.get(tenant.id, report.message_id, lock=RowLock.UPDATE)
        if message is None or message.provider_sid not in (None, report.provider_sid):
            return StatusOutcome.UNKNOWN_MESSAGE
        key = f"{report.provider_sid}:{report.status.strip().lower()}"
        if not await uow.webhooks.record(SMS_STATUS_EVENTS, key, message.tenant_id, report.payload):
            return StatusOutcome.DUPLICATE
        status = advance_status(message.status, reported)
        error = message.error
        if status in (MessageStatus.FAILED, MessageStatus.UNDELIVERED) and report.error_code:
            error = f"provider error {report.error_code}"
        updated = attrs.evolve(
            message, status=status, provider_sid=report.provider_sid, error=error
        )
        await uow.messages.save(updated)
        await uow.commit()
        return StatusOutcome.UPDATED if status is not message.status else StatusOutcome.UNCHANGED
