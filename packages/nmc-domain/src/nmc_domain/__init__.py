"""NeverMissCall's domain, one subpackage per business context.

Contexts, bottom to top (a context imports only those below it; importlinter.cfg enforces it):
`shared`, `identity`, `tenancy`, `catalog` | `compliance`, `messaging`, `conversation`,
`telephony`. Each holds its model (frozen attrs values, pure functions), its use cases, its ports
and its errors. The names below are the ones the apps reach for most.
"""

from nmc_domain.compliance import Compliance, ComplianceStatus, ComplianceStatusChanged
from nmc_domain.messaging import (
    MessageQueued,
    MessageStatus,
    OutboundMessage,
    SmsNotSent,
    SmsOutcomeUnknown,
    SmsRejected,
    SmsSendError,
)
from nmc_domain.shared import (
    Conflict,
    DomainError,
    DomainEvent,
    Gone,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RetryPolicy,
    StorageUnavailable,
    TenantNotFound,
    TryAgain,
    Unauthenticated,
    is_e164,
    mask_number,
)
from nmc_domain.tenancy import InvalidPhoneNumber, NumberAlreadyTaken, TemplateError, Tenant
from nmc_domain.unit_of_work import UnitOfWork, UnitOfWorkFactory

__all__ = [
    "Compliance",
    "ComplianceStatus",
    "ComplianceStatusChanged",
    "Conflict",
    "DomainError",
    "DomainEvent",
    "Gone",
    "InvalidInput",
    "InvalidPhoneNumber",
    "MessageQueued",
    "MessageStatus",
    "NotFound",
    "NumberAlreadyTaken",
    "OutboundMessage",
    "PermissionDenied",
    "RetryPolicy",
    "SmsNotSent",
    "SmsOutcomeUnknown",
    "SmsRejected",
    "SmsSendError",
    "StorageUnavailable",
    "TemplateError",
    "Tenant",
    "TenantNotFound",
    "TryAgain",
    "Unauthenticated",
    "UnitOfWork",
    "UnitOfWorkFactory",
    "is_e164",
    "mask_number",
]
