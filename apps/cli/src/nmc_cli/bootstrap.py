"""Composition root of the CLI: the only module of nmc_cli that knows the adapters."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import TypeVar
from uuid import UUID

from psycopg import OperationalError as PgOperationalError
from sqlalchemy.exc import OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.auth import mint_token
from nmc_adapters.crypto import FernetSealer, new_fernet_key
from nmc_adapters.logs import configure_logging
from nmc_adapters.phone import LibPhoneNumbers
from nmc_adapters.postgres import EmbeddedPostgres, PgOutboxAdmin, PgUnitOfWork, create_engine
from nmc_adapters.postgres.embedded import PostgresUnavailable
from nmc_adapters.postgres.roles import AppRoleGrant, GrantRefused, grant_app_role
from nmc_adapters.providers import stripe_gateway
from nmc_adapters.settings import (
    JWT_KEY_SOURCES,
    Settings,
    SettingsError,
    load_settings,
)
from nmc_adapters.twilio.signature import TwilioSignature
from nmc_domain.billing.ports import PaymentGateway
from nmc_domain.identity.web_sessions import LoginLink, issue_login_link
from nmc_domain.shared.ports import OutboxAdmin
from nmc_domain.tenancy.ports import PhoneNumberParser
from nmc_domain.unit_of_work import UnitOfWorkFactory

__all__ = [
    "JWT_KEY_SOURCES",
    "AppRoleGrant",
    "CliError",
    "dev_postgres",
    "grant_app_role_to",
    "jwt_settings",
    "migrate_down",
    "migrate_up",
    "mint",
    "new_secret_key",
    "phone_parser",
    "quiet_logging",
    "settings_database_url",
    "settings_migration_database_url",
    "start_postgres",
    "twilio_signature",
    "web_login_link",
    "web_settings",
    "with_billing",
    "with_outbox_admin",
    "with_uow",
]

T = TypeVar("T")
_INSUFFICIENT_PRIVILEGE = "42501"


class CliError(Exception):
    """A problem to report in one line (exit 2), never as a traceback."""


def settings_database_url(environ: Mapping[str, str] = os.environ) -> str | None:
    """NMC_DATABASE_URL if set (checked); None when unset."""
    return _settings(environ).database_url


def settings_migration_database_url(environ: Mapping[str, str] = os.environ) -> str | None:
    """NMC_MIGRATION_DATABASE_URL, else NMC_DATABASE_URL (both checked); None when neither."""
    return _settings(environ).migration_url()


def web_settings(environ: Mapping[str, str] = os.environ) -> Settings:
    """The settings, for NMC_SECRET_KEY and the base URLs (checked)."""
    return _settings(environ)


def jwt_settings(environ: Mapping[str, str] = os.environ) -> Settings:
    """The settings, for the JWT issuer, audience and secret (checked)."""
    return _settings(environ)


def _settings(environ: Mapping[str, str]) -> Settings:
    try:
        return load_settings(environ, required=())
    except SettingsError as exc:
        raise CliError(str(exc)) from None


def mint(
    settings: Settings, secret: str, *, subject: str, tenant_id: UUID, ttl_seconds: int
) -> str:
    """An HS256 token the API accepts (`nmc token mint`)."""
    try:
        return mint_token(
            secret,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            subject=subject,
            tenant_id=tenant_id,
            ttl_seconds=ttl_seconds,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from None


def quiet_logging() -> None:
    """Readable logs, warnings and up only: CLI output is for people."""
    configure_logging("console", "warning")


def migrate_up(database_url: str, revision: str) -> None:
    _run_migration("upgrade", database_url, revision)


def migrate_down(database_url: str, revision: str) -> None:
    _run_migration("downgrade", database_url, revision)


def _run_migration(direction: str, database_url: str, revision: str) -> None:
    # Alembic takes most of a second to import: only the commands that migrate pay for it.
    from alembic.util.exc import CommandError

    from nmc_adapters.postgres import migrate

    step: Callable[[str, str], None] = getattr(migrate, direction)
    try:
        step(database_url, revision)
    except CommandError as exc:
        raise CliError(f"revision {revision!r}: {exc}") from None
    except OperationalError as exc:
        raise CliError(f"cannot reach the database: {exc.orig}") from None
    except ProgrammingError as exc:
        # The apps' login where the schema owner belongs: say so rather than a traceback.
        if getattr(exc.orig, "sqlstate", None) != _INSUFFICIENT_PRIVILEGE:
            raise
        raise CliError(
            f"the migration role lacks a privilege ({exc.orig}): "
            "set NMC_MIGRATION_DATABASE_URL to the schema owner's URL"
        ) from None


def grant_app_role_to(database_url: str, role: str) -> AppRoleGrant:
    """`nmc db grant-app-role`: let the login ROLE run the apps (as nmc_app, nothing more)."""
    try:
        return grant_app_role(database_url, role)
    except GrantRefused as exc:
        raise CliError(str(exc)) from None
    except PgOperationalError as exc:
        raise CliError(f"cannot reach the database: {exc}") from None


def phone_parser() -> PhoneNumberParser:
    return LibPhoneNumbers()


@asynccontextmanager
async def _units(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A short-lived engine; a database that cannot be reached is a one-line CliError."""
    engine = create_engine(database_url, pool_size=2)
    try:
        yield engine
    except OperationalError as exc:
        raise CliError(f"cannot reach the database: {exc.orig}") from None
    finally:
        await engine.dispose()


def _factory(engine: AsyncEngine, settings: Settings) -> UnitOfWorkFactory:
    terms = settings.billing_terms()  # billing enforced as configured
    return lambda: PgUnitOfWork(engine, billing_terms=terms)


async def with_uow(database_url: str, use: Callable[[UnitOfWorkFactory], Awaitable[T]]) -> T:
    """Run `use` with units of work on a short-lived engine (billing enforced as configured)."""
    settings = _settings(os.environ)
    async with _units(database_url) as engine:
        return await use(_factory(engine, settings))


async def with_outbox_admin(
    database_url: str, use: Callable[[OutboxAdmin, UnitOfWorkFactory], Awaitable[T]]
) -> T:
    """Run `use` with the outbox's operator view and units of work (`nmc replay`)."""
    settings = _settings(os.environ)
    async with _units(database_url) as engine:
        return await use(PgOutboxAdmin(engine), _factory(engine, settings))


async def with_billing(
    database_url: str, use: Callable[[UnitOfWorkFactory, PaymentGateway], Awaitable[T]]
) -> T:
    """Run `use` with units of work that enforce billing and the Stripe gateway."""
    settings = _settings(os.environ)
    gateway = stripe_gateway(settings)
    if gateway is None:
        raise CliError(
            "billing is not configured: set NMC_STRIPE_SECRET_KEY, NMC_STRIPE_WEBHOOK_SECRET "
            "and NMC_STRIPE_PRICE_ID"
        )
    try:
        async with _units(database_url) as engine:
            return await use(_factory(engine, settings), gateway)
    finally:
        await gateway.aclose()


def dev_postgres(home: Path) -> EmbeddedPostgres:
    """The embedded cluster of `nmc dev` under `home`."""
    try:
        return EmbeddedPostgres(home)
    except PostgresUnavailable as exc:
        raise CliError(str(exc)) from None


def start_postgres(cluster: EmbeddedPostgres, database: str) -> str:
    """Start (or reuse) the cluster and return the URL of `database` on it."""
    try:
        cluster.start()
        return cluster.ensure_database(database)
    except PostgresUnavailable as exc:
        raise CliError(str(exc)) from None


def twilio_signature(auth_token: str, url: str, params: Sequence[tuple[str, str]]) -> str:
    """X-Twilio-Signature for a request we post ourselves (`nmc simulate`)."""
    return TwilioSignature(auth_token).compute(url, params)


def new_secret_key() -> str:
    """A fresh Fernet key (what NMC_SECRET_KEY holds)."""
    return new_fernet_key()


async def web_login_link(
    database_url: str, secret_key: str, tenant_id: UUID, email: str, ttl: timedelta
) -> LoginLink:
    """A one-time login link's token for the tenant's active user with this email."""
    sealer = FernetSealer(secret_key)
    return await with_uow(
        database_url, lambda new_uow: issue_login_link(new_uow(), sealer, tenant_id, email, ttl)
    )
