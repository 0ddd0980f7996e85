"""Messaging: outbound messages, the delivery-status ladder, the SMS port, and dispatch."""

from nmc_domain.messaging.dispatch import (
    DispatchOutcome,
    MessagingUnitOfWorkFactory,
    dispatch_message,
    release_held_messages,
)
from nmc_domain.messaging.errors import SmsNotSent, SmsOutcomeUnknown, SmsRejected, SmsSendError
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.messaging.model import (
    MessageStatus,
    OutboundMessage,
    advance_status,
    parse_provider_status,
)
from nmc_domain.messaging.ports import (
    MessageRepository,
    MessagingUnitOfWork,
    OutgoingSms,
    SmsReceipt,
    SmsSender,
)
from nmc_domain.messaging.status import (
    SMS_STATUS_EVENTS,
    MessageStatusReport,
    StatusOutcome,
    record_message_status,
)

__all__ = [
    "SMS_STATUS_EVENTS",
    "DispatchOutcome",
    "MessageQueued",
    "MessageRepository",
    "MessageStatus",
    "MessageStatusReport",
    "MessagingUnitOfWork",
    "MessagingUnitOfWorkFactory",
    "OutboundMessage",
    "OutgoingSms",
    "SmsNotSent",
    "SmsOutcomeUnknown",
    "SmsReceipt",
    "SmsRejected",
    "SmsSendError",
    "SmsSender",
    "StatusOutcome",
    "advance_status",
    "dispatch_message",
    "parse_provider_status",
    "record_message_status",
    "release_held_messages",
]
