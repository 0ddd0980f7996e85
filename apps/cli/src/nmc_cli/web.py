"""`nmc web login-link TENANT_ID EMAIL [--ttl 15m]`: a one-time link into the owner's inbox."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta

import typer

from nmc_cli.bootstrap import web_login_link, web_settings
from nmc_cli.devstate import DevState, database_url
from nmc_cli.output import emit, fail, reported

__all__ = ["app", "login_url", "parse_ttl"]

app = typer.Typer(help="The owner's web inbox (/app/).", no_args_is_help=True)

_TTL = re.compile(r"^([0-9]+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_ttl(value: str) -> timedelta:
    """ "15m" -> 15 minutes (s, m, h or d; at most a day)."""
    found = _TTL.match(value.strip().lower())
    if found is None:
        fail(f"--ttl {value!r} is not a duration like 15m, 2h or 1d")
    ttl = timedelta(**{_UNITS[found[2]]: int(found[1])})
    if not timedelta(0) < ttl <= timedelta(days=1):
        fail(f"--ttl {value!r} must be more than 0 and at most 1d")
    return ttl


def login_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/app/login?token={token}"


@app.command("login-link")
def login_link(
    tenant_id: str = typer.Argument(..., help="the tenant's id"),
    email: str = typer.Argument(..., help="an active user's email"),
    ttl: str = typer.Option("15m", "--ttl", help="how long the link works (e.g. 15m, 2h, 1d)"),
    as_json: bool = typer.Option(False, "--json", help="print a JSON object as the last line"),
) -> None:
    """Print a one-time link that signs the user in to the web inbox."""
    try:
        tenant = uuid.UUID(tenant_id)
    except ValueError:
        fail(f"tenant id {tenant_id!r} is not a UUID")
    lifetime = parse_ttl(ttl)
    with reported():
        settings = web_settings()
        state = DevState.load()
        secret = settings.secret_key or (state.secret_key if state else None)
        base = settings.app_base_url or settings.public_base_url or (state and state.base_url)
        if not secret:
            fail("NMC_SECRET_KEY is not set (and no `nmc dev` in ./.nmc)")
        if not base:
            fail("NMC_APP_BASE_URL (or NMC_PUBLIC_BASE_URL) is not set")
        link = asyncio.run(web_login_link(database_url(), secret, tenant, email, lifetime))
    url = login_url(base, link.token)
    emit(
        f"{url}\n(one use, for {link.user.email} ({link.user.role.value}), "
        f"until {link.expires_at:%Y-%m-%d %H:%M %Z})",
        {
            "url": url,
            "email": link.user.email,
            "role": link.user.role.value,
            "expires_at": link.expires_at.isoformat(),
        },
        as_json=as_json,
    )
