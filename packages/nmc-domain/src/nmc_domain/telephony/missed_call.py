"""Missed calls: a final call status becomes, at most once per call, one text-back."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from enum import StrEnum
from uuid import UUID

import attrs

from nmc_domain.messaging.events import MessageQueued
from nmc_domain.messaging.model import OutboundMessage
from nmc_domain.shared.phone import is_e164
from nmc_domain.telephony.model import CallOutcome, CallRecord, classify_call
from nmc_domain.telephony.ports import TelephonyUnitOfWork

__all__ = [
    "VOICE_EVENTS",
    "CallStatusReport",
    "ReportOutcome",
    "ReportResult",
    "report_call_status",
]

# Provider name under which voice callbacks are remembered; the key is the parent CallSid,
# so the dial-status and status callbacks of one call count as one event, however often.
VOICE_EVENTS = "twilio.voice"


@attrs.frozen
class CallStatusReport:
    """A call status callback: `call_sid` is the parent call's sid."""

    call_sid: str
    called: str
    caller: str
    status: str
    duration_seconds: int | None
    payload: Mapping[str, str] = attrs.field(factory=dict)


class ReportOutcome(StrEnum):
    """What the report led to (logged, and answered to the provider as 200 in every case)."""

    UNKNOWN_NUMBER = "unknown_number"
    NOT_FINAL = "not_final"
    DUPLICATE = "duplicate"
    ANSWERED = "answered"
    TEXT_BACK_QUEUED = "text_back_queued"
    CONVERSATION_OPEN = "conversation_open"
    CALLER_UNREACHABLE = "caller_unreachable"


@attrs.frozen
class ReportResult:
    """The outcome with the ids a log line or a test wants."""

    outcome: ReportOutcome
    tenant_id: UUID | None = None
    reason: str | None = None
    conversation_id: UUID | None = None
    message_id: UUID | None = None


async def report_call_status(uow: TelephonyUnitOfWork, report: CallStatusReport) -> ReportResult:
    """Record the call's outcome once; a missed call opens a conversation and queues the text."""
    async with uow:
        tenant = await uow.tenants.by_number(report.called)
        if tenant is None:
            return ReportResult(ReportOutcome.UNKNOWN_NUMBER)
        found = classify_call(
            report.status, report.duration_seconds, tenant.short_call_threshold_seconds
        )
        if found.outcome is CallOutcome.NOT_FINAL:
            return ReportResult(ReportOutcome.NOT_FINAL, tenant.id)
        if not await uow.webhooks.record(VOICE_EVENTS, report.call_sid, tenant.id, report.payload):
            return ReportResult(ReportOutcome.DUPLICATE, tenant.id)

        now = await uow.now()
        call = CallRecord(
            id=uuid.uuid4(),
            tenant_id=tenant.id,
            call_sid=report.call_sid,
            caller=report.caller,
            called=report.called,
            status=report.status,
            outcome=found.outcome,
            reason=found.reason,
            duration_seconds=report.duration_seconds,
            conversation_id=None,
            occurred_at=now,
        )
        result = ReportResult(ReportOutcome.ANSWERED, tenant.id, found.reason)
        if found.outcome is CallOutcome.MISSED and not is_e164(report.caller):
            # Withheld or malformed caller id: nobody to text back.
            result = attrs.evolve(result, outcome=ReportOutcome.CALLER_UNREACHABLE)
        elif found.outcome is CallOutcome.MISSED:
            conversation, opened = await uow.conversations.open_or_get(
                tenant.id, report.caller, now
            )
            call = attrs.evolve(call, conversation_id=conversation.id)
            result = attrs.evolve(
                result, outcome=ReportOutcome.CONVERSATION_OPEN, conversation_id=conversation.id
            )
            if opened:
                message = OutboundMessage.queue(
                    tenant_id=tenant.id,
                    conversation_id=conversation.id,
                    to=report.caller,
                    from_=report.called,
                    body=tenant.text_back_template.render(business_name=tenant.name),
                    now=now,
                )
                await uow.messages.add(message)
                await uow.outbox.add(MessageQueued(tenant.id, message.id))
                result = attrs.evolve(
                    result, outcome=ReportOutcome.TEXT_BACK_QUEUED, message_id=message.id
                )
        await uow.calls.add(call)
        await uow.commit()
        return result
