"""Bearer tokens: who calls (a Principal); the use cases then ask the database what they may do."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler

from nmc_api.deps import ApiDeps
from nmc_domain.identity.access import identify
from nmc_domain.identity.model import Principal
from nmc_domain.shared.errors import Unauthenticated

__all__ = ["OWNER", "Caller", "bearer_guard", "provide_principal"]

_PRINCIPAL = "nmc_principal"
OWNER = {"owner": True}  # route option: only OWNERs get past the guard

# How route handlers receive the verified caller (an explicitly named dependency).
Caller = NamedDependency[Principal]


async def bearer_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Who calls, and may they, before any input is read: 401, then 403, then 422.

    Routes for OWNERs say so with `opt={"owner": True}`.
    """
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("missing bearer token")
    deps: ApiDeps = connection.app.state["deps"]
    principal = await deps.tokens.verify(token.strip())
    await identify(deps.new_uow(), principal, owner=bool(handler.opt.get("owner")))
    connection.state[_PRINCIPAL] = principal


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    """The caller the guard verified."""
    principal: Principal = request.state[_PRINCIPAL]
    return principal
