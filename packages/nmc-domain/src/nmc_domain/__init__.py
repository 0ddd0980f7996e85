"""NeverMissCall's domain: the pure model, its use cases, and the ports they need."""

from nmc_domain.errors import (
    DomainError,
    InvalidInput,
    InvalidPhoneNumber,
    NumberAlreadyTaken,
    SmsNotSent,
    SmsOutcomeUnknown,
    SmsRejected,
    SmsSendError,
    StorageUnavailable,
    TemplateError,
    TenantNotFound,
)
from nmc_domain.events import ComplianceStatusChanged, DomainEvent, MessageQueued
from nmc_domain.model.calls import CallOutcome, CallRecord, Classification, classify_call
from nmc_domain.model.conversation import Conversation, ConversationStatus
from nmc_domain.model.messages import MessageStatus, OutboundMessage, advance_status
from nmc_domain.model.phone import is_e164, mask_number
from nmc_domain.model.retry import RetryPolicy
from nmc_domain.model.template import TextBackTemplate
from nmc_domain.model.tenant import ComplianceStatus, Tenant, new_tenant

__all__ = [
    "CallOutcome",
    "CallRecord",
    "Classification",
    "ComplianceStatus",
    "ComplianceStatusChanged",
    "Conversation",
    "ConversationStatus",
    "DomainError",
    "DomainEvent",
    "InvalidInput",
    "InvalidPhoneNumber",
    "MessageQueued",
    "MessageStatus",
    "NumberAlreadyTaken",
    "OutboundMessage",
    "RetryPolicy",
    "SmsNotSent",
    "SmsOutcomeUnknown",
    "SmsRejected",
    "SmsSendError",
    "StorageUnavailable",
    "TemplateError",
    "Tenant",
    "TenantNotFound",
    "TextBackTemplate",
    "advance_status",
    "classify_call",
    "is_e164",
    "mask_number",
    "new_tenant",
]
