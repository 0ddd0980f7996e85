"""Mapping between table rows and domain values (one place for both directions)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nmc_domain.model.calls import CallOutcome, CallRecord
from nmc_domain.model.catalog import ServiceItem, name_key
from nmc_domain.model.conversation import Conversation, ConversationStatus
from nmc_domain.model.messages import MessageStatus, OutboundMessage
from nmc_domain.model.template import TextBackTemplate
from nmc_domain.model.tenant import ComplianceStatus, Tenant
from nmc_domain.model.users import Role, User

__all__ = [
    "CALL_COLUMNS",
    "ITEM_COLUMNS",
    "MESSAGE_COLUMNS",
    "TENANT_COLUMNS",
    "USER_COLUMNS",
    "call_from_row",
    "call_row",
    "conversation_from_row",
    "item_from_row",
    "item_row",
    "message_from_row",
    "message_row",
    "tenant_from_row",
    "tenant_row",
    "user_from_row",
    "user_row",
]

# The columns each *_row function fills, in table order (inserts bind exactly these).
TENANT_COLUMNS = [
    "id",
    "name",
    "timezone",
    "forward_to",
    "owner_email",
    "compliance_status",
    "compliance_reason",
    "text_back_template",
    "ring_timeout_seconds",
    "short_call_threshold_seconds",
]
CALL_COLUMNS = [
    "tenant_id",
    "id",
    "call_sid",
    "caller",
    "called",
    "status",
    "outcome",
    "reason",
    "duration_seconds",
    "conversation_id",
    "occurred_at",
]
USER_COLUMNS = ["tenant_id", "id", "subject", "email", "role", "active"]
ITEM_COLUMNS = (
    "tenant_id id name name_key aliases price_cents currency duration_minutes priority active"
).split()
MESSAGE_COLUMNS = [
    "tenant_id",
    "id",
    "conversation_id",
    "to_number",
    "from_number",
    "body",
    "status",
    "provider_sid",
    "send_attempted_at",
    "error",
    "created_at",
]


def tenant_row(tenant: Tenant) -> dict[str, Any]:
    return {
        "id": tenant.id,
        "name": tenant.name,
        "timezone": tenant.timezone,
        "forward_to": tenant.forward_to,
        "owner_email": tenant.owner_email,
        "compliance_status": tenant.compliance_status.value,
        "compliance_reason": tenant.compliance_reason,
        "text_back_template": tenant.text_back_template.text,
        "ring_timeout_seconds": tenant.ring_timeout_seconds,
        "short_call_threshold_seconds": tenant.short_call_threshold_seconds,
    }


def tenant_from_row(row: Mapping[str, Any]) -> Tenant:
    m = row
    return Tenant(
        id=m["id"],
        name=m["name"],
        timezone=m["timezone"],
        forward_to=m["forward_to"],
        owner_email=m["owner_email"],
        compliance_status=ComplianceStatus(m["compliance_status"]),
        compliance_reason=m["compliance_reason"],
        text_back_template=TextBackTemplate(m["text_back_template"]),
        ring_timeout_seconds=m["ring_timeout_seconds"],
        short_call_threshold_seconds=m["short_call_threshold_seconds"],
    )


def conversation_from_row(row: Mapping[str, Any]) -> Conversation:
    m = row
    return Conversation(
        id=m["id"],
        tenant_id=m["tenant_id"],
        caller=m["caller"],
        status=ConversationStatus(m["status"]),
        opened_at=m["opened_at"],
    )


def call_row(call: CallRecord) -> dict[str, Any]:
    return {
        "tenant_id": call.tenant_id,
        "id": call.id,
        "call_sid": call.call_sid,
        "caller": call.caller,
        "called": call.called,
        "status": call.status,
        "outcome": call.outcome.value,
        "reason": call.reason,
        "duration_seconds": call.duration_seconds,
        "conversation_id": call.conversation_id,
        "occurred_at": call.occurred_at,
    }


def call_from_row(row: Mapping[str, Any]) -> CallRecord:
    values = {k: row[k] for k in CALL_COLUMNS}
    values["outcome"] = CallOutcome(values["outcome"])
    return CallRecord(**values)


def message_row(message: OutboundMessage) -> dict[str, Any]:
    return {
        "tenant_id": message.tenant_id,
        "id": message.id,
        "conversation_id": message.conversation_id,
        "to_number": message.to,
        "from_number": message.from_,
        "body": message.body,
        "status": message.status.value,
        "provider_sid": message.provider_sid,
        "send_attempted_at": message.send_attempted_at,
        "error": message.error,
        "created_at": message.created_at,
    }


def message_from_row(row: Mapping[str, Any]) -> OutboundMessage:
    m = row
    return OutboundMessage(
        id=m["id"],
        tenant_id=m["tenant_id"],
        conversation_id=m["conversation_id"],
        to=m["to_number"],
        from_=m["from_number"],
        body=m["body"],
        status=MessageStatus(m["status"]),
        created_at=m["created_at"],
        provider_sid=m["provider_sid"],
        send_attempted_at=m["send_attempted_at"],
        error=m["error"],
    )


def user_row(user: User) -> dict[str, Any]:
    return {
        "tenant_id": user.tenant_id,
        "id": user.id,
        "subject": user.subject,
        "email": user.email,
        "role": user.role.value,
        "active": user.active,
    }


def user_from_row(row: Mapping[str, Any]) -> User:
    return User(
        id=row["id"],
        tenant_id=row["tenant_id"],
        subject=row["subject"],
        email=row["email"],
        role=Role(row["role"]),
        active=row["active"],
    )


def item_row(item: ServiceItem) -> dict[str, Any]:
    return {
        "tenant_id": item.tenant_id,
        "id": item.id,
        "name": item.name,
        "name_key": name_key(item.name),
        "aliases": list(item.aliases),
        "price_cents": item.price_cents,
        "currency": item.currency,
        "duration_minutes": item.duration_minutes,
        "priority": item.priority,
        "active": item.active,
    }


def item_from_row(row: Mapping[str, Any]) -> ServiceItem:
    return ServiceItem(
        id=row["id"],
        tenant_id=row["tenant_id"],
        name=row["name"],
        aliases=tuple(row["aliases"]),
        price_cents=row["price_cents"],
        currency=row["currency"],
        duration_minutes=row["duration_minutes"],
        priority=row["priority"],
        active=row["active"],
    )
