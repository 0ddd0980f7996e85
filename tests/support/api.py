"""The tenant API (/v1) from the outside: real tokens, callers, and problem+json checks."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import attrs
import httpx
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.auth import mint_token
from nmc_adapters.postgres.shared.tables import outbox_events
from nmc_adapters.settings import Settings
from nmc_api.bootstrap import build_app
from nmc_domain.identity.users import add_user_for_tenant
from nmc_domain.tenancy.model import Tenant
from nmc_domain.unit_of_work import UnitOfWorkFactory
from tests.support.tenants import onboard
from tests.support.twilio import ACCOUNT_SID, AUTH_TOKEN, JWT_SECRET, PUBLIC_BASE_URL

__all__ = [
    "AUDIENCE",
    "DROP",
    "ISSUER",
    "OWNER",
    "PROBLEM",
    "Caller",
    "add_item",
    "api_client",
    "api_settings",
    "b64url",
    "bearer",
    "catalog_events",
    "claims",
    "new_tenant",
    "paginate",
    "problem",
    "tech_of",
    "token_for",
]

ISSUER = "nevermisscall"
AUDIENCE = "nmc-api"
# `onboard` makes this the owner's email, and so the subject of the owner's tokens.
OWNER = "owner@acme-plumbing.example"
PROBLEM = "application/problem+json"
DROP = object()  # a claim to leave out of `claims(...)`


def api_settings(database_url: str, **jwt_key: str) -> Settings:
    """Settings of an API on the module's database; HS256 with JWT_SECRET unless a key is given."""
    return Settings(
        database_url=database_url,
        public_base_url=PUBLIC_BASE_URL,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        **(jwt_key or {"jwt_secret": JWT_SECRET}),
    )


@asynccontextmanager
async def api_client(settings: Settings) -> AsyncIterator[AsyncTestClient]:
    """The real app (bootstrap, PostgreSQL, JWT verifier) behind an in-process HTTP client."""
    async with AsyncTestClient(build_app(settings), base_url="http://10.0.0.7:8000") as client:
        yield client


def token_for(tenant_id: UUID, subject: str = OWNER, **kw: Any) -> str:
    """A real HS256 token, minted the way `nmc token mint` mints it."""
    return mint_token(
        JWT_SECRET, issuer=ISSUER, audience=AUDIENCE, subject=subject, tenant_id=tenant_id, **kw
    )


def claims(tenant_id: UUID, subject: str = OWNER, /, **changes: object) -> dict[str, object]:
    """Valid claims for one hour; `changes` override them, DROP leaves one out."""
    now = int(time.time())
    base: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "tenant_id": str(tenant_id),
        "iat": now,
        "exp": now + 3600,
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not DROP}


def b64url(document: Mapping[str, object]) -> str:
    """One JWS segment: base64url of the JSON, without padding."""
    raw = json.dumps(document, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@attrs.frozen
class Caller:
    """One user's view of the API: every request carries their bearer token."""

    client: AsyncTestClient
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)

    async def get(self, path: str, **params: object) -> httpx.Response:
        return await self.client.get(path, params=params or None, headers=self.headers)

    async def post(self, path: str, body: object = None) -> httpx.Response:
        return await self.client.post(path, json=body, headers=self.headers)

    async def patch(self, path: str, body: object) -> httpx.Response:
        return await self.client.patch(path, json=body, headers=self.headers)

    async def put(self, path: str, body: object) -> httpx.Response:
        return await self.client.put(path, json=body, headers=self.headers)

    async def delete(self, path: str) -> httpx.Response:
        return await self.client.delete(path, headers=self.headers)


async def new_tenant(
    client: AsyncTestClient, new_uow: UnitOfWorkFactory, name: str = "ACME-PLUMBING"
) -> tuple[Tenant, Caller]:
    """A freshly onboarded tenant and its OWNER as a caller."""
    tenant, _ = await onboard(new_uow, name=name)
    return tenant, Caller(client, token_for(tenant.id))


async def tech_of(
    client: AsyncTestClient, new_uow: UnitOfWorkFactory, tenant_id: UUID, email: str
) -> Caller:
    """A TECH added the operator's way (`nmc user add`), as a caller."""
    await add_user_for_tenant(new_uow(), tenant_id, email=email, role="TECH")
    return Caller(client, token_for(tenant_id, subject=email))


def problem(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    """The RFC 9457 body of an error response, after checking its shape (and the field at fault)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert body["status"] == status
    for member in ("type", "title", "detail"):
        assert isinstance(body[member], str), body
        assert body[member].strip(), body
    if status == 401:
        assert response.headers.get("www-authenticate", "").startswith("Bearer")
    if field is not None:  # "aliases[1]" names the field "aliases" too
        named = [error["field"].split("[")[0] for error in body.get("errors") or []]
        assert field in named, body
    return body


async def add_item(owner: Caller, name: str, **fields: object) -> dict[str, Any]:
    """A catalog item created through the API (201), with plausible defaults."""
    body = {"name": name, "price_cents": 18_900, "duration_minutes": 90, **fields}
    response = await owner.post("/v1/catalog/items", body)
    assert response.status_code == 201, response.text
    return response.json()


async def paginate(caller: Caller, path: str, limit: int) -> list[list[dict[str, Any]]]:
    """Every page of a list, following next_cursor until it is null."""
    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        params: dict[str, object] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        response = await caller.get(path, **params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert set(body) == {"items", "next_cursor"}
        assert len(body["items"]) <= limit
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 100, "next_cursor never ends"


async def catalog_events(admin_engine: AsyncEngine, tenant_id: UUID) -> list[dict[str, Any]]:
    """The catalog.updated.v1 payloads of a tenant's outbox, oldest first."""
    query = (
        select(outbox_events.c.payload, outbox_events.c.schema_version)
        .where(
            outbox_events.c.tenant_id == tenant_id,
            outbox_events.c.topic == "catalog.updated.v1",
        )
        .order_by(outbox_events.c.id)
    )
    async with admin_engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    assert all(row.schema_version == 1 for row in rows)
    return [row.payload for row in rows]
