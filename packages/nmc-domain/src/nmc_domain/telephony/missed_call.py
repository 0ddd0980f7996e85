"""Missed calls: a final call status becomes, at most once per call, one text-back."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID
from zoneinfo import ZoneInfo

import attrs

from nmc_domain.compliance.contacts import Contact
from nmc_domain.conversation.model import Conversation, ConversationStatus, OpenedBy
from nmc_domain.conversation.sending import (
    BILLING_INACTIVE,
    may_automate,
    queue_text,
    schedule_idle_check,
)
from nmc_domain.conversation.texts import when
from nmc_domain.messaging.model import Author
from nmc_domain.scheduling.hours import is_open, next_opening
from nmc_domain.shared.phone import is_e164
from nmc_domain.shared.ports import RowLock
from nmc_domain.telephony.model import CallOutcome, CallRecord, classify_call
from nmc_domain.telephony.ports import TelephonyUnitOfWork
from nmc_domain.tenancy.model import Tenant

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
    CALLER_OPTED_OUT = "caller_opted_out"  # opted out, or cannot take texts: nothing sent
    # A text-back was owed, but the tenant's plan does not entitle it: the call and the
    # conversation are recorded (reason billing_inactive), nothing is queued.
    BILLING_INACTIVE = "billing_inactive"


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
            call, result = await _missed(uow, tenant, report, call, result, now)
        await uow.calls.add(call)
        await uow.commit()
        return result


async def _missed(
    uow: TelephonyUnitOfWork,
    tenant: Tenant,
    report: CallStatusReport,
    call: CallRecord,
    result: ReportResult,
    now: datetime,
) -> tuple[CallRecord, ReportResult]:
    """Record the call on the caller's conversation (opening one if none is) and text back
    unless one went already: a text-back that failed does not count. Without a plan that
    entitles the tenant, the text-back is not queued at all (nothing goes out late)."""
    # The contact's row, then the conversation's: the order every writer takes.
    contact = await uow.contacts.get(tenant.id, report.caller, lock=RowLock.UPDATE)
    conversation, opened = await uow.conversations.open_or_get(
        tenant.id, report.caller, report.called, now, OpenedBy.CALL
    )
    call = attrs.evolve(call, conversation_id=conversation.id)
    result = attrs.evolve(
        result, outcome=ReportOutcome.CONVERSATION_OPEN, conversation_id=conversation.id
    )
    if opened:
        await schedule_idle_check(uow, conversation)
        if contact.opted_out:
            conversation = conversation.block(now)
    conversation = conversation.touched(now)
    if not contact.may_receive() or conversation.status is ConversationStatus.BLOCKED:
        result = attrs.evolve(result, outcome=ReportOutcome.CALLER_OPTED_OUT)
    elif opened or await _text_back_owed(uow, conversation):
        if await may_automate(uow, tenant.id):
            conversation, result = await _text_back(
                uow, tenant, report, conversation, contact, result, now
            )
        else:  # the plan lapsed: recorded, and nothing queued to go out later
            call = attrs.evolve(call, reason=BILLING_INACTIVE)
            result = attrs.evolve(
                result, outcome=ReportOutcome.BILLING_INACTIVE, reason=BILLING_INACTIVE
            )
    await uow.conversations.save(conversation)
    return call, result


async def _text_back(
    uow: TelephonyUnitOfWork,
    tenant: Tenant,
    report: CallStatusReport,
    conversation: Conversation,
    contact: Contact,
    result: ReportResult,
    now: datetime,
) -> tuple[Conversation, ReportResult]:
    body = await text_back_body(uow, tenant, now)
    message = await queue_text(
        uow,
        conversation,
        sender=report.called,
        body=body,
        author=Author.TEXT_BACK,
        now=now,
        contact=contact,
        entitled=True,  # asked just now
    )
    if message is not None:
        conversation = attrs.evolve(conversation, text_back_id=message.id)
        result = attrs.evolve(result, outcome=ReportOutcome.TEXT_BACK_QUEUED, message_id=message.id)
    return conversation, result


async def _text_back_owed(uow: TelephonyUnitOfWork, conversation: Conversation) -> bool:
    """The text-back failed, or billing held back the one a call on it was owed (and none
    went since). A conversation the contact opened by texting is owed none: the assistant
    answers texts."""
    if conversation.text_back_id is None:
        calls = await uow.calls.of_conversation(conversation.tenant_id, conversation.id)
        return any(call.reason == BILLING_INACTIVE for call in calls)
    sent = await uow.messages.get(conversation.tenant_id, conversation.text_back_id)
    return sent is None or sent.failed


async def text_back_body(uow: TelephonyUnitOfWork, tenant: Tenant, now: datetime) -> str:
    """The text-back, or the after-hours one when the business is closed at the call's time
    in its own zone (saying when it opens next)."""
    zone = ZoneInfo(tenant.timezone)
    today = now.astimezone(zone).date()
    hours, closed = await uow.business_hours.with_closures(
        tenant.id, today, today + timedelta(days=15)
    )
    normal = tenant.text_back_template.render(business_name=tenant.name)
    if not hours.periods:
        return normal
    if is_open(hours, closed, zone, now):
        return normal
    opens = next_opening(hours, closed, zone, now)
    if opens is None:
        return normal
    return tenant.after_hours_template.render(
        business_name=tenant.name, next_open=when(opens, zone)
    )
