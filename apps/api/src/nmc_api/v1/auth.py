"""Bearer tokens: who calls (a Principal); the use cases then ask the database what they may do."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency

from nmc_api.deps import Deps
from nmc_domain.errors import Unauthenticated
from nmc_domain.model.users import Principal

__all__ = ["Caller", "provide_principal"]

# How route handlers receive the verified caller (an explicitly named dependency).
Caller = NamedDependency[Principal]


async def provide_principal(request: Request[Any, Any, Any], deps: Deps) -> Principal:
    """The verified caller of a /v1 request; Unauthenticated (401) otherwise."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("missing bearer token")
    return await deps.tokens.verify(token.strip())
