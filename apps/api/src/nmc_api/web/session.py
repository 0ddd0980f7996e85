"""Sessions of the web inbox: the login link, the session cookie, and who is looking.

The cookie (HttpOnly, SameSite=Lax, Secure over https) holds the user sealed with
NMC_SECRET_KEY; it is sealed again on every page, so it lapses after 12 hours without one.
Every page reads the user's role and active flag from the database (`identify`): a
deactivated user is signed out at once.
"""

from __future__ import annotations

from typing import Any

import attrs
from litestar import MediaType, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from nmc_api.deps import AnyRequest, Deps
from nmc_api.web_config import WebConfig
from nmc_domain.identity.access import identify
from nmc_domain.identity.model import Principal, Role, User
from nmc_domain.identity.web_sessions import (
    SESSION_IDLE,
    open_session,
    read_session,
    redeem_login_link,
)
from nmc_domain.shared.errors import InvalidInput, PermissionDenied, Unauthenticated

__all__ = [
    "SESSION_COOKIE",
    "NotSignedIn",
    "Viewer",
    "Viewing",
    "login",
    "logout",
    "provide_viewer",
    "session_cookie",
    "session_routes",
    "web_config",
]

SESSION_COOKIE = "nmc_session"


class NotSignedIn(HTTPException):
    """No session, or one that lapsed or whose user was deactivated: the sign-in page (401)."""

    status_code = 401


class OwnersOnly(HTTPException):
    """A page only an OWNER may open (403)."""

    status_code = 403


@attrs.frozen
class Viewer:
    """Who is looking at the page."""

    principal: Principal
    user: User

    @property
    def owner(self) -> bool:
        return self.user.role is Role.OWNER

    def require_owner(self) -> Viewer:
        if not self.owner:
            raise OwnersOnly(detail="this page is for the business's owner")
        return self


# How page handlers ask for the signed-in user (explicitly named, as Litestar 3 wants).
Viewing = NamedDependency[Viewer]


def web_config(deps: Deps) -> WebConfig:
    assert deps.web is not None  # the /app router is mounted only with a web config
    return deps.web


def _cookie(config: WebConfig, value: str, *, max_age: int) -> Cookie:
    return Cookie(
        key=SESSION_COOKIE,
        value=value,
        path="/app",
        httponly=True,
        secure=config.secure_cookies,
        samesite="lax",
        max_age=max_age,
    )


async def provide_viewer(request: AnyRequest, deps: Deps) -> Viewer:
    """The signed-in user (their session is sealed again on the way out); NotSignedIn else."""
    config = web_config(deps)
    principal = read_session(config.sealer, request.cookies.get(SESSION_COOKIE))
    if principal is None:
        raise NotSignedIn(detail="your session has ended: open a new login link")
    try:
        user = await identify(deps.new_uow(), principal)
    except (Unauthenticated, PermissionDenied):
        raise NotSignedIn(detail="this user can no longer sign in") from None
    return Viewer(principal, user)


def session_cookie(config: WebConfig, principal: Principal) -> Cookie:
    """The session sealed again (pages send it: the idle clock starts over)."""
    value = open_session(config.sealer, principal)
    return _cookie(config, value, max_age=int(SESSION_IDLE.total_seconds()))


@get("/login", media_type=MediaType.HTML, include_in_schema=False)
async def login(deps: Deps, token: FromQuery[str | None] = None) -> Response[Any]:
    """A login link: opens a session and goes to the conversations (400 page when the link is
    bad, expired or used)."""
    config = web_config(deps)
    try:
        principal = await redeem_login_link(deps.new_uow(), config.sealer, token or "")
    except (InvalidInput, PermissionDenied) as exc:
        reason = exc.reason if isinstance(exc, InvalidInput) else str(exc)
        return Template(
            "signed_out.html",
            context={"title": "This login link does not work", "reason": reason},
            status_code=400,
        )
    response: Response[Any] = Redirect("/app/conversations", status_code=303)
    response.cookies.append(session_cookie(config, principal))
    return response


@post("/logout", media_type=MediaType.HTML, include_in_schema=False, status_code=303)
async def logout(deps: Deps) -> Response[Any]:
    response: Response[Any] = Redirect("/app/signed-out", status_code=303)
    response.cookies.append(_cookie(web_config(deps), "", max_age=0))
    return response


@get("/signed-out", media_type=MediaType.HTML, include_in_schema=False)
async def signed_out() -> Template:
    return Template(
        "signed_out.html",
        context={"title": "You are signed out", "reason": "Open a new login link to sign in."},
    )


session_routes = [login, logout, signed_out]
