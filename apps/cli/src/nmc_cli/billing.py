"""`nmc billing status|sync TENANT_ID`: the subscription mirror, and its repair from Stripe."""

from __future__ import annotations

import asyncio
import uuid

import typer

from nmc_cli.bootstrap import with_billing
from nmc_cli.devstate import database_url
from nmc_cli.output import emit, fail, reported
from nmc_domain.billing.ports import PaymentGateway
from nmc_domain.billing.use_cases import BillingView, sync_subscription, tenant_billing
from nmc_domain.unit_of_work import UnitOfWorkFactory

__all__ = ["app"]

app = typer.Typer(help="Billing: each tenant's Stripe subscription.", no_args_is_help=True)


def _tenant(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        fail(f"tenant id {value!r} is not a UUID")


def _json(tenant_id: uuid.UUID, view: BillingView) -> dict[str, object]:
    end = view.current_period_end
    return {
        "tenant_id": str(tenant_id),
        "status": None if view.status is None else view.status.value,
        "plan": view.plan,
        "current_period_end": None if end is None else end.isoformat(),
        "cancel_at_period_end": view.cancel_at_period_end,
        "entitled": view.entitled,
        "banner": view.banner,
    }


def _line(view: BillingView) -> str:
    status = "no subscription" if view.status is None else view.status.value
    parts = [status, "entitled" if view.entitled else "NOT entitled (no texting)"]
    if view.current_period_end is not None:
        ends = "ends" if view.cancel_at_period_end else "renews"
        parts.append(f"{ends} {view.current_period_end:%Y-%m-%d}")
    if view.banner:
        parts.append(f"banner: {view.banner}")
    return "; ".join(parts)


@app.command()
def status(
    tenant_id: str = typer.Argument(..., help="the tenant's id"),
    as_json: bool = typer.Option(False, "--json", help="print a JSON object as the last line"),
) -> None:
    """The mirror of the tenant's subscription and whether it may text."""
    tenant = _tenant(tenant_id)
    with reported():
        view = asyncio.run(
            with_billing(database_url(), lambda new_uow, _: tenant_billing(new_uow(), tenant))
        )
    emit(f"tenant {tenant}: {_line(view)}", _json(tenant, view), as_json=as_json)


@app.command()
def sync(
    tenant_id: str = typer.Argument(..., help="the tenant's id"),
    as_json: bool = typer.Option(False, "--json", help="print a JSON object as the last line"),
) -> None:
    """Re-read the tenant's subscription from Stripe and repair the mirror."""
    tenant = _tenant(tenant_id)

    async def run(new_uow: UnitOfWorkFactory, gateway: PaymentGateway) -> BillingView:
        await sync_subscription(new_uow(), gateway, tenant)
        return await tenant_billing(new_uow(), tenant)

    with reported():
        view = asyncio.run(with_billing(database_url(), run))
    emit(
        f"tenant {tenant}: synced from Stripe: {_line(view)}", _json(tenant, view), as_json=as_json
    )
