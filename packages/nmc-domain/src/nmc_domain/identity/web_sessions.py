"""Signing in to the owner's web inbox: one-time login links and the session they open.

`nmc web login-link TENANT_ID EMAIL` issues a link for an active user; the token in it is
sealed (NMC_SECRET_KEY), expires after its time to live and is spent the first time it is used
(the webhook event log remembers its nonce). Redeeming it opens a session: a sealed cookie
naming the user, re-sealed on every request so that it lapses after 12 hours without one. The
user's role and active flag are read from the database on every page (`authorize`), so a
deactivated user's session stops working at once.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta
from uuid import UUID

import attrs

from nmc_domain.identity.model import Principal, User
from nmc_domain.identity.ports import IdentityUnitOfWork
from nmc_domain.shared.errors import InvalidInput, NotFound
from nmc_domain.shared.secrets import SealBroken, Sealer

__all__ = [
    "LOGIN_LINKS",
    "MAX_LINK_TTL",
    "SESSION_IDLE",
    "LoginLink",
    "issue_login_link",
    "open_session",
    "read_session",
    "redeem_login_link",
]

# Provider name under which spent login-link nonces are remembered in the webhook event log.
LOGIN_LINKS = "web.login_link"
SESSION_IDLE = timedelta(hours=12)
MAX_LINK_TTL = timedelta(days=1)
_KIND_LINK = "login"
_KIND_SESSION = "session"


@attrs.frozen
class LoginLink:
    """A login link's token, for whom, and until when."""

    token: str
    user: User
    expires_at: datetime


def _check_ttl(ttl: timedelta) -> None:
    if ttl <= timedelta(0) or ttl > MAX_LINK_TTL:
        raise InvalidInput("ttl", "must be more than 0 and at most 1 day")


async def issue_login_link(
    uow: IdentityUnitOfWork, sealer: Sealer, tenant_id: UUID, email: str, ttl: timedelta
) -> LoginLink:
    """A one-time login token for the tenant's active user with this email."""
    _check_ttl(ttl)
    async with uow:
        await uow.bind_tenant(tenant_id)
        user = await uow.users.by_email(tenant_id, email.strip().lower())
        if user is None:
            raise NotFound("user", email)
        user.require_active()
        now = await uow.now()
    expires = now + ttl
    body = {
        "k": _KIND_LINK,
        "t": str(tenant_id),
        "s": user.subject,
        "e": expires.isoformat(),
        "n": secrets.token_urlsafe(16),
    }
    return LoginLink(sealer.seal(json.dumps(body, separators=(",", ":"))), user, expires)


def _read(sealer: Sealer, token: str, kind: str, max_age: timedelta | None) -> dict[str, str]:
    try:
        age = None if max_age is None else max_age.total_seconds()
        body = json.loads(sealer.unseal(token, max_age_seconds=age))
    except (SealBroken, ValueError):
        raise InvalidInput("token", "invalid or expired") from None
    if not isinstance(body, dict) or body.get("k") != kind:
        raise InvalidInput("token", "invalid or expired")
    return body


async def redeem_login_link(uow: IdentityUnitOfWork, sealer: Sealer, token: str) -> Principal:
    """The user the link signs in, once: InvalidInput naming `token` when it is altered,
    expired or already used; PermissionDenied when the user was deactivated meanwhile."""
    body = _read(sealer, token, _KIND_LINK, MAX_LINK_TTL)
    try:
        principal = Principal(str(body["s"]), UUID(body["t"]))
        expires = datetime.fromisoformat(body["e"])
        nonce = str(body["n"])
    except (KeyError, ValueError):
        raise InvalidInput("token", "invalid or expired") from None
    async with uow:
        await uow.bind_tenant(principal.tenant_id)
        if await uow.now() >= expires:
            raise InvalidInput("token", "invalid or expired")
        user = await uow.users.by_subject(principal.tenant_id, principal.subject)
        if user is None:
            raise InvalidInput("token", "invalid or expired")
        user.require_active()
        if not await uow.webhooks.record(LOGIN_LINKS, nonce, principal.tenant_id, {}):
            raise InvalidInput("token", "already used")
        await uow.commit()
    return principal


def open_session(sealer: Sealer, principal: Principal) -> str:
    """The session cookie's value for the user (re-issue it on every request: it lapses
    SESSION_IDLE after it was sealed)."""
    body = {"k": _KIND_SESSION, "t": str(principal.tenant_id), "s": principal.subject}
    return sealer.seal(json.dumps(body, separators=(",", ":")))


def read_session(sealer: Sealer, cookie: str | None) -> Principal | None:
    """The user a session cookie names; None when it is missing, altered or idle too long."""
    if not cookie:
        return None
    try:
        body = _read(sealer, cookie, _KIND_SESSION, SESSION_IDLE)
        return Principal(str(body["s"]), UUID(body["t"]))
    except (InvalidInput, KeyError, ValueError):
        return None
