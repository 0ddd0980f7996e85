"""The web inbox in tests: settings with a secret key, a signed-in browser (its own cookie jar)
on the in-process app, and the CSRF token a page carries."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from uuid import UUID

import attrs
import httpx
from cryptography.fernet import Fernet
from litestar import Litestar
from litestar.testing import AsyncTestClient

from nmc_adapters.crypto import FernetSealer
from nmc_adapters.settings import Settings
from nmc_domain.identity.web_sessions import issue_login_link
from nmc_domain.unit_of_work import UnitOfWorkFactory

__all__ = ["SECRET_KEY", "Browser", "csrf_of", "login_token", "web_settings"]

SECRET_KEY = Fernet.generate_key().decode()
SEALER = FernetSealer(SECRET_KEY)
_CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"|"X-CSRFToken": "([^"]+)"')


def web_settings(settings: Settings) -> Settings:
    """`settings` with NMC_SECRET_KEY set: the inbox is served."""
    return attrs.evolve(settings, secret_key=SECRET_KEY)


async def login_token(
    new_uow: UnitOfWorkFactory, tenant_id: UUID, email: str, ttl: timedelta = timedelta(minutes=15)
) -> str:
    """A login link's token, made the way `nmc web login-link` makes it."""
    return (await issue_login_link(new_uow(), SEALER, tenant_id, email, ttl)).token


def csrf_of(html: str) -> str:
    """The CSRF token a page carries (its forms' hidden field, or htmx's header)."""
    found = _CSRF.search(html)
    assert found is not None, "no CSRF token on the page"
    return found[1] or found[2]


@attrs.define
class Browser:
    """One person's browser on the in-process app: cookies kept, redirects not followed."""

    client: AsyncTestClient

    @classmethod
    @asynccontextmanager
    async def on(cls, app: Litestar) -> AsyncIterator[Browser]:
        # https, as NMC_PUBLIC_BASE_URL in the tests: the Secure session cookie is sent back.
        async with AsyncTestClient(app, base_url="https://nmc.example.com") as client:
            yield cls(client)

    async def sign_in(self, new_uow: UnitOfWorkFactory, tenant_id: UUID, email: str) -> None:
        token = await login_token(new_uow, tenant_id, email)
        response = await self.get(f"/app/login?token={token}")
        assert response.status_code == 303, response.text

    async def get(self, path: str) -> httpx.Response:
        return await self.client.get(path, follow_redirects=False)

    async def post(
        self, path: str, form: dict[str, str] | None = None, *, csrf_from: str | None = None
    ) -> httpx.Response:
        """A form post; with `csrf_from` (a page's path) it carries that page's token."""
        data = dict(form or {})
        if csrf_from is not None:
            data["_csrf_token"] = csrf_of((await self.get(csrf_from)).text)
        return await self.client.post(path, data=data, follow_redirects=False)
