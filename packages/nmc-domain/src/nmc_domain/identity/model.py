"""Users of the tenant API: who they are (the token's subject) and what their role allows."""

from __future__ import annotations

import re
import uuid
from enum import StrEnum
from uuid import UUID

import attrs

from nmc_domain.shared.errors import InvalidInput, PermissionDenied

__all__ = ["MAX_SUBJECT", "Principal", "Role", "User", "new_user"]

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_SUBJECT = 255


class Role(StrEnum):
    """OWNER manages catalog, users and settings; TECH reads."""

    OWNER = "OWNER"
    TECH = "TECH"


@attrs.frozen
class Principal:
    """Who a verified token says the caller is."""

    subject: str
    tenant_id: UUID


@attrs.frozen
class User:
    """A person with access to one tenant; role and active are read on every request."""

    id: UUID
    tenant_id: UUID
    subject: str
    email: str
    role: Role
    active: bool = True

    def require_active(self) -> User:
        """The user, if still active; PermissionDenied otherwise."""
        if not self.active:
            raise PermissionDenied("this user is deactivated")
        return self

    def require_owner(self) -> User:
        """The user, if active and an OWNER; PermissionDenied otherwise."""
        self.require_active()
        if self.role is not Role.OWNER:
            raise PermissionDenied("this needs the OWNER role")
        return self

    def deactivated(self) -> User:
        return attrs.evolve(self, active=False)


def new_user(
    *,
    tenant_id: UUID,
    email: str,
    role: str,
    subject: str | None = None,
    user_id: UUID | None = None,
) -> User:
    """Validate a new user; the subject defaults to the (normalised) email."""
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise InvalidInput("email", f"not an email address: {email!r}")
    try:
        parsed_role = Role(role.strip().upper())
    except ValueError:
        raise InvalidInput("role", f"expected OWNER or TECH, got {role!r}") from None
    subject = email if subject is None else subject.strip()
    if not subject or len(subject) > MAX_SUBJECT:
        raise InvalidInput("subject", f"must be 1 to {MAX_SUBJECT} characters")
    return User(
        id=user_id or uuid.uuid4(),
        tenant_id=tenant_id,
        subject=subject,
        email=email,
        role=parsed_role,
    )
