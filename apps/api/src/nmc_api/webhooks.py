"""Twilio webhooks: incoming calls, their outcomes, inbound texts, and SMS status callbacks."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

import structlog
from litestar import Response, post
from litestar.openapi.datastructures import ResponseSpec

from nmc_api.deps import AnyRequest, ApiDeps, Deps
from nmc_api.signatures import signed_form
from nmc_api.twilio_params import seconds, stored_payload
from nmc_api.twiml import dial, hangup, nothing
from nmc_domain.conversation.inbound import InboundOutcome, InboundText, receive_text
from nmc_domain.messaging.status import MessageStatusReport, record_message_status
from nmc_domain.shared.errors import InvalidInput
from nmc_domain.telephony.missed_call import CallStatusReport, ReportOutcome, report_call_status
from nmc_domain.tenancy.profile import find_tenant

__all__ = ["twilio_routes"]

log = structlog.get_logger("nmc.webhooks")

# What a signed webhook can answer besides its 200, for the OpenAPI document.
WEBHOOK_ERRORS = {
    400: ResponseSpec(None, description="A parameter is malformed (named); nothing stored"),
    401: ResponseSpec(None, description="Missing or wrong X-Twilio-Signature; nothing stored"),
    413: ResponseSpec(None, description="The form is over 64 KB; nothing stored"),
}


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise InvalidInput(name, "is required")
    return value


@post("/webhooks/twilio/voice", status_code=200, responses=WEBHOOK_ERRORS)
async def incoming_call(request: AnyRequest, deps: Deps) -> Response[str]:
    """Forward the call to the business's phone; the dial outcome comes back to dial-status."""
    params = await signed_form(request, deps)
    called = _required(params, "To")
    tenant = await find_tenant(deps.new_uow(), called)
    if tenant is None:
        log.warning("webhook.unknown_number", number=called, call_sid=params.get("CallSid"))
        return nothing()
    log.info("call.incoming", tenant_id=str(tenant.id), call_sid=params.get("CallSid"))
    return dial(tenant.forward_to, tenant.ring_timeout_seconds)


async def _call_outcome(
    request: AnyRequest, deps: ApiDeps, status_field: str, duration_field: str
) -> ReportOutcome:
    params = await signed_form(request, deps)  # 413, 401 or 400 before anything is stored
    # The parent call's sid keys the event: both callbacks of one call count once.
    call_sid = params.get("ParentCallSid") or _required(params, "CallSid")
    report = CallStatusReport(
        call_sid=call_sid,
        called=_required(params, "To"),
        caller=params.get("From", "").strip(),
        status=_required(params, status_field),
        duration_seconds=seconds(params, duration_field),
        payload=stored_payload(params),
    )
    with structlog.contextvars.bound_contextvars(call_sid=call_sid):
        result = await report_call_status(deps.new_uow(), report)
        if result.outcome is ReportOutcome.UNKNOWN_NUMBER:
            log.warning("webhook.unknown_number", number=report.called)
        else:
            log.info(
                "call.reported",
                tenant_id=str(result.tenant_id),
                status=report.status,
                outcome=result.outcome.value,
                reason=result.reason,
                message_id=str(result.message_id) if result.message_id else None,
            )
    return result.outcome


@post("/webhooks/twilio/voice/dial-status", status_code=200, responses=WEBHOOK_ERRORS)
async def dial_status(request: AnyRequest, deps: Deps) -> Response[str]:
    """Topology A: the <Dial> action callback (DialCallStatus) decides missed or answered."""
    outcome = await _call_outcome(request, deps, "DialCallStatus", "DialCallDuration")
    missed = outcome in (
        ReportOutcome.TEXT_BACK_QUEUED,
        ReportOutcome.CONVERSATION_OPEN,
        ReportOutcome.BILLING_INACTIVE,
    )
    return hangup() if missed else nothing()


@post("/webhooks/twilio/voice/status", status_code=200, responses=WEBHOOK_ERRORS)
async def call_status(request: AnyRequest, deps: Deps) -> Response[str]:
    """Topology B (carrier-forwarded line): the status callback (CallStatus) decides."""
    await _call_outcome(request, deps, "CallStatus", "CallDuration")
    return nothing()


_MAX_MEDIA = 10  # Twilio delivers at most ten media items with one MMS


def _media(params: Mapping[str, str]) -> tuple[str, ...]:
    raw = params.get("NumMedia", "0").strip() or "0"
    if not raw.isascii() or not raw.isdigit() or int(raw) > _MAX_MEDIA:
        raise InvalidInput("NumMedia", f"expected 0 to {_MAX_MEDIA}")
    urls = (params.get(f"MediaUrl{n}", "").strip() for n in range(int(raw)))
    return tuple(url for url in urls if url)


@post("/webhooks/twilio/sms", status_code=200, responses=WEBHOOK_ERRORS)
async def inbound_sms(request: AnyRequest, deps: Deps) -> Response[str]:
    """A text from a contact: stored once (MessageSid), answered through the outbox, never
    inline; the answer to Twilio is an empty <Response/>."""
    params = await signed_form(request, deps)  # 413, 401 or 400 before anything is stored
    text = InboundText(
        message_sid=_required(params, "MessageSid"),
        sender=_required(params, "From"),
        to=_required(params, "To"),
        body=params.get("Body", ""),
        media_urls=_media(params),
        payload=stored_payload(params),
    )
    result = await receive_text(deps.new_uow(), deps.assistant, text, calendars=deps.calendar_check)
    if result.outcome is InboundOutcome.UNKNOWN_NUMBER:
        log.warning("webhook.unknown_number", number=text.to, message_sid=text.message_sid)
    else:
        log.info(
            "sms.received",
            tenant_id=str(result.tenant_id),
            message_sid=text.message_sid,
            outcome=result.outcome.value,
            conversation_id=str(result.conversation_id) if result.conversation_id else None,
        )
    return nothing()


@post("/webhooks/twilio/sms/status", status_code=200, responses=WEBHOOK_ERRORS)
async def sms_status(request: AnyRequest, deps: Deps) -> Response[str]:
    """Delivery reports; they arrive duplicated and out of order, status only moves forward."""
    params = await signed_form(request, deps)
    sid = _required(params, "MessageSid")
    raw_id = request.query_params.get("message_id", "")
    try:
        message_id = uuid.UUID(raw_id)
    except ValueError:
        raise InvalidInput("message_id", "not a message id") from None
    report = MessageStatusReport(
        message_id=message_id,
        sender=_required(params, "From"),
        provider_sid=sid,
        status=_required(params, "MessageStatus"),
        error_code=params.get("ErrorCode") or None,
        payload=stored_payload(params),
    )
    outcome = await record_message_status(deps.new_uow(), report)
    log.info("sms.status", message_id=str(message_id), status=report.status, outcome=outcome.value)
    return nothing()


twilio_routes = [incoming_call, dial_status, call_status, inbound_sms, sms_status]
