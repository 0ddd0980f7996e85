"""The errors every context shares: what can go wrong, named in the language of the business."""

from __future__ import annotations

__all__ = [
    "Conflict",
    "DomainError",
    "Gone",
    "InvalidInput",
    "NeedsReview",
    "NotFound",
    "PermissionDenied",
    "StorageUnavailable",
    "TenantNotFound",
    "TryAgain",
    "Unauthenticated",
]


class DomainError(Exception):
    """Base class of every error the domain raises on purpose."""


class InvalidInput(DomainError):
    """A value given by a user is not acceptable; `field` names it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class TenantNotFound(DomainError):
    """No tenant has this id."""

    def __init__(self, tenant_id: object) -> None:
        super().__init__(f"no tenant with id {tenant_id}")
        self.tenant_id = tenant_id


class StorageUnavailable(DomainError):
    """The database could not be reached or dropped the connection: try again later."""


class TryAgain(DomainError):
    """The work clashed with concurrent work (a deadlock, a serialization failure, a lock wait
    that timed out) and was rolled back: running it again in a fresh unit of work may succeed."""


class Unauthenticated(DomainError):
    """The caller could not be identified (no, bad or expired credentials; unknown user)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PermissionDenied(DomainError):
    """The caller is known but may not do this (deactivated, or the wrong role)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotFound(DomainError):
    """No such thing for this tenant (another tenant's things do not exist either)."""

    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"no {what} {key}")
        self.what = what
        self.key = key


class Gone(DomainError):
    """The thing exists but is no longer offered (an inactive catalog item)."""

    def __init__(self, what: str, key: object) -> None:
        super().__init__(f"{what} {key} is no longer active")
        self.what = what
        self.key = key


class Conflict(DomainError):
    """The change clashes with what is stored (a duplicate name, the last owner)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class NeedsReview(DomainError):
    """A handler cannot decide safely on its own (two of our messages could match one provider
    record): the outbox sets the row aside for a person instead of retrying or burying it."""
