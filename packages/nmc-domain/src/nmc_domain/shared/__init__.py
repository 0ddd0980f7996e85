"""What every context shares: E.164 shape, pages, base events and errors, retries, the outbox."""

from nmc_domain.shared.errors import (
    Conflict,
    DomainError,
    Gone,
    InvalidInput,
    NotFound,
    PermissionDenied,
    StorageUnavailable,
    TenantNotFound,
    TryAgain,
    Unauthenticated,
)
from nmc_domain.shared.events import DomainEvent
from nmc_domain.shared.pages import DEFAULT_LIMIT, MAX_LIMIT, Page, PageKey, check_limit, page_of
from nmc_domain.shared.phone import is_e164, mask_number
from nmc_domain.shared.ports import (
    Outbox,
    OutboxItem,
    OutboxQueue,
    RowLock,
    UnitOfWork,
    Wakeups,
    WebhookEventLog,
)
from nmc_domain.shared.retry import RetryPolicies, RetryPolicy, UniformSource

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_LIMIT",
    "Conflict",
    "DomainError",
    "DomainEvent",
    "Gone",
    "InvalidInput",
    "NotFound",
    "Outbox",
    "OutboxItem",
    "OutboxQueue",
    "Page",
    "PageKey",
    "PermissionDenied",
    "RetryPolicies",
    "RetryPolicy",
    "RowLock",
    "StorageUnavailable",
    "TenantNotFound",
    "TryAgain",
    "Unauthenticated",
    "UniformSource",
    "UnitOfWork",
    "Wakeups",
    "WebhookEventLog",
    "check_limit",
    "is_e164",
    "mask_number",
    "page_of",
]
