"""/v1/billing: the plan (Stripe Checkout to subscribe, the Customer Portal to manage it) and
whether the business may text. 404 "billing is not configured" where Stripe is not set up."""

from __future__ import annotations

from datetime import datetime

import attrs
from litestar import get, post

from nmc_api.deps import AnyRequest, ApiDeps, Deps
from nmc_api.v1.auth import OWNER, Caller
from nmc_api.v1.problems import errors
from nmc_domain.billing.errors import BillingNotConfigured
from nmc_domain.billing.ports import PaymentGateway
from nmc_domain.billing.use_cases import (
    BillingLinks,
    BillingView,
    billing_status,
    open_portal,
    start_checkout,
)

__all__ = ["billing_routes"]

_KEY_HEADER = "idempotency-key"


@attrs.frozen
class BillingOut:
    """The plan as Stripe last told us, and what it means for texting."""

    status: str | None
    plan: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    entitled: bool
    banner: str | None

    @classmethod
    def of(cls, view: BillingView) -> BillingOut:
        return cls(
            status=None if view.status is None else view.status.value,
            plan=view.plan,
            current_period_end=view.current_period_end,
            cancel_at_period_end=view.cancel_at_period_end,
            entitled=view.entitled,
            banner=view.banner,
        )


@attrs.frozen
class UrlOut:
    """Where to send the owner's browser."""

    url: str


def _stripe(deps: ApiDeps) -> tuple[PaymentGateway, BillingLinks]:
    if deps.payments is None or deps.billing_links is None:
        raise BillingNotConfigured()
    return deps.payments, deps.billing_links


@get(
    "/billing",
    responses=errors(403, 404),
    summary="The plan (status, period end, cancel at period end), whether texting is on, and "
    "a banner for the owner (a failed payment)",
)
async def get_billing(principal: Caller, deps: Deps) -> BillingOut:
    return BillingOut.of(await billing_status(deps.new_uow(), principal))


@post(
    "/billing/checkout",
    opt=OWNER,
    status_code=201,
    responses=errors(403, 404, 502),
    summary="A Stripe Checkout link for the monthly plan (OWNER); a double click (or the same "
    "Idempotency-Key) gives the same link",
)
async def post_checkout(request: AnyRequest, principal: Caller, deps: Deps) -> UrlOut:
    gateway, links = _stripe(deps)
    key = request.headers.get(_KEY_HEADER) or None
    url = await start_checkout(deps.new_uow(), gateway, principal, links, key)
    return UrlOut(url)


@post(
    "/billing/portal",
    opt=OWNER,
    status_code=200,
    responses=errors(403, 404, 502),
    summary="A Stripe Customer Portal link to change the card or cancel (OWNER); 404 before "
    "the first checkout",
)
async def post_portal(principal: Caller, deps: Deps) -> UrlOut:
    gateway, links = _stripe(deps)
    return UrlOut(await open_portal(deps.new_uow(), gateway, principal, links))


billing_routes = [get_billing, post_checkout, post_portal]
