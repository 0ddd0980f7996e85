"""`nmc user add|deactivate` and `nmc token mint`: people of a tenant, and tokens for them."""

from __future__ import annotations

import asyncio
import os
from uuid import UUID

import typer

from nmc_cli.bootstrap import CliError, jwt_settings, mint, with_uow
from nmc_cli.devstate import DevState, database_url
from nmc_cli.output import emit, reported
from nmc_cli.tenants import parse_tenant_id
from nmc_domain.identity.model import User
from nmc_domain.identity.users import add_user_for_tenant, deactivate_user_by_email
from nmc_domain.shared.errors import NotFound
from nmc_domain.unit_of_work import UnitOfWorkFactory

user_app = typer.Typer(help="Users of a tenant (the tenant API's callers).", no_args_is_help=True)
token_app = typer.Typer(help="Bearer tokens for the tenant API.", no_args_is_help=True)


def _user_json(user: User) -> dict[str, object]:
    return {
        "user_id": str(user.id),
        "tenant_id": str(user.tenant_id),
        "email": user.email,
        "subject": user.subject,
        "role": user.role.value,
        "active": user.active,
    }


@user_app.command("add")
def add(
    tenant_id: str = typer.Argument(..., help="the tenant's id"),
    email: str = typer.Option(..., "--email"),
    role: str = typer.Option(..., "--role", help="OWNER or TECH"),
    subject: str | None = typer.Option(None, "--subject", help="token subject (default: email)"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Add a user; a taken email or subject, or an unknown role, is refused (exit 2)."""
    tid = parse_tenant_id(tenant_id)
    with reported():
        user = asyncio.run(
            with_uow(
                database_url(),
                lambda n: add_user_for_tenant(n(), tid, email=email, role=role, subject=subject),
            )
        )
    emit(
        f"added {user.role.value} {user.email} (subject {user.subject})",
        _user_json(user),
        as_json=as_json,
    )


@user_app.command("deactivate")
def deactivate(
    tenant_id: str = typer.Argument(..., help="the tenant's id"),
    email: str = typer.Argument(..., help="the user's email"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Deactivate a user: their tokens stop working at once (the last OWNER cannot go)."""
    tid = parse_tenant_id(tenant_id)
    with reported():
        user = asyncio.run(
            with_uow(database_url(), lambda n: deactivate_user_by_email(n(), tid, email))
        )
    emit(f"deactivated {user.email}", _user_json(user), as_json=as_json)


async def _find(new_uow: UnitOfWorkFactory, tenant_id: UUID, email: str) -> User:
    async with new_uow() as uow:
        await uow.bind_tenant(tenant_id)
        user = await uow.users.by_email(tenant_id, email.strip().lower())
    if user is None:
        raise NotFound("user", email)
    return user


@token_app.command("mint")
def mint_command(
    tenant_id: str = typer.Argument(..., help="the tenant's id"),
    email: str = typer.Argument(..., help="the user's email"),
    ttl: int = typer.Option(3600, "--ttl", min=1, max=31 * 24 * 3600, help="seconds"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Sign a token for a user with NMC_JWT_SECRET (self-hosting and tests)."""
    tid = parse_tenant_id(tenant_id)
    with reported():
        settings = jwt_settings()
        secret = settings.jwt_secret or _dev_secret()
        user = asyncio.run(with_uow(database_url(), lambda n: _find(n, tid, email)))
        token = mint(settings, secret, subject=user.subject, tenant_id=tid, ttl_seconds=ttl)
    emit(token, {"token": token, "expires_in": ttl, **_user_json(user)}, as_json=as_json)


def _dev_secret() -> str:
    state = DevState.load()
    if state is None or not state.jwt_secret or os.environ.get("NMC_JWT_SECRET"):
        raise CliError("NMC_JWT_SECRET is not set (and no `nmc dev` in this folder)")
    return state.jwt_secret
