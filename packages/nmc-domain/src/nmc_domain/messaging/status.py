"""Delivery reports: each (sid, status) stored once, and a message's status only moves forward."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from uuid import UUID

import attrs

from nmc_domain.messaging.carrier import apply_carrier_error
from nmc_domain.messaging.model import MessageStatus, advance_status, parse_provider_status
from nmc_domain.messaging.ports import MessagingUnitOfWork
from nmc_domain.shared.errors import InvalidInput
from nmc_domain.shared.ports import RowLock

__all__ = ["SMS_STATUS_EVENTS", "MessageStatusReport", "StatusOutcome", "record_message_status"]

SMS_STATUS_EVENTS = "twilio.sms.status"


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


async def record_message_status(
    uow: MessagingUnitOfWork, report: MessageStatusReport
) -> StatusOutcome:
    """Store each (sid, status) once; the message's status only ever moves forward."""
    reported = parse_provider_status(report.status)
    if reported is None:
        raise InvalidInput("MessageStatus", f"unknown message status {report.status!r}")
    async with uow:
        tenant = await uow.tenants.by_number(report.sender)
        message = None
        if tenant is not None:
            peek = await uow.messages.get(tenant.id, report.message_id)
            if peek is not None:  # the contact's row before the message's (see dispatch)
                await uow.contacts.get(tenant.id, peek.to, lock=RowLock.UPDATE)
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
            await apply_carrier_error(uow, message, report.error_code, await uow.now())
        updated = attrs.evolve(
            message, status=status, provider_sid=report.provider_sid, error=error
        )
        await uow.messages.save(updated)
        await uow.commit()
        return StatusOutcome.UPDATED if status is not message.status else StatusOutcome.UNCHANGED
