"""`nmc tenant onboard` and `nmc compliance approve|reject`."""

from __future__ import annotations

import asyncio
import uuid

import typer

from nmc_cli.bootstrap import phone_parser, with_uow
from nmc_cli.devstate import database_url
from nmc_cli.output import emit, fail, reported
from nmc_domain.compliance.gate import approve_compliance, reject_compliance
from nmc_domain.compliance.model import Compliance
from nmc_domain.tenancy.model import Tenant
from nmc_domain.tenancy.onboarding import OnboardTenant, onboard_tenant

tenant_app = typer.Typer(help="Tenants: the businesses NMC answers for.", no_args_is_help=True)
compliance_app = typer.Typer(help="10DLC compliance gate.", no_args_is_help=True)


@tenant_app.command()
def onboard(
    name: str = typer.Option(..., "--name", help="business name, used in the text-back"),
    number: str = typer.Option(..., "--number", help="the business number (E.164)"),
    forward_to: str = typer.Option(..., "--forward-to", help="the phone that rings first"),
    timezone: str = typer.Option(..., "--timezone", help="IANA zone, e.g. America/Chicago"),
    owner_email: str = typer.Option(..., "--owner-email"),
    text_back_template: str | None = typer.Option(
        None, "--text-back-template", help="first text to a missed caller; {business_name}"
    ),
    ring_timeout: int = typer.Option(18, "--ring-timeout", help="seconds to ring before missed"),
    as_json: bool = typer.Option(False, "--json", help="print a JSON object as the last line"),
) -> None:
    """Create a tenant (compliance pending) with its number. Nothing is stored on bad input."""
    command = OnboardTenant(
        name=name,
        number=number,
        forward_to=forward_to,
        timezone=timezone,
        owner_email=owner_email,
        text_back_template=text_back_template,
        ring_timeout_seconds=ring_timeout,
    )
    with reported():
        url = database_url()
        done = asyncio.run(
            with_uow(url, lambda new_uow: onboard_tenant(new_uow(), phone_parser(), command))
        )
    tenant, number_e164 = done.tenant, done.number
    emit(
        f"onboarded {tenant.name}: tenant {tenant.id}, number {number_e164} rings "
        f"{tenant.forward_to}; compliance pending (SMS held until "
        f"`nmc compliance approve {tenant.id}`)",
        {**_tenant_json(tenant, Compliance(tenant.id)), "number": number_e164},
        as_json=as_json,
    )


def _tenant_json(tenant: Tenant, compliance: Compliance) -> dict[str, object]:
    return {
        "tenant_id": str(tenant.id),
        "name": tenant.name,
        "timezone": tenant.timezone,
        "forward_to": tenant.forward_to,
        "owner_email": tenant.owner_email,
        "compliance_status": compliance.status.value,
        "compliance_reason": compliance.reason,
    }


def parse_tenant_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        fail(f"TENANT_ID: not a tenant id: {value!r}")


@compliance_app.command()
def approve(
    tenant_id: str = typer.Argument(..., help="the tenant's id"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Mark the 10DLC registration approved; held messages go out."""
    tid = parse_tenant_id(tenant_id)
    with reported():
        tenant, status = asyncio.run(
            with_uow(database_url(), lambda n: approve_compliance(n(), tid))
        )
    emit(f"{tenant.name}: compliance approved", _tenant_json(tenant, status), as_json=as_json)


@compliance_app.command()
def reject(
    tenant_id: str = typer.Argument(..., help="the tenant's id"),
    reason: str = typer.Option(..., "--reason", help="the carrier's reason"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Mark the registration rejected; outbound SMS stay held."""
    tid = parse_tenant_id(tenant_id)
    with reported():
        tenant, status = asyncio.run(
            with_uow(database_url(), lambda n: reject_compliance(n(), tid, reason))
        )
    emit(
        f"{tenant.name}: compliance rejected ({status.reason})",
        _tenant_json(tenant, status),
        as_json=as_json,
    )
