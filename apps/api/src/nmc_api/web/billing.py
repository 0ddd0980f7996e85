"""Billing (OWNER): the plan as Stripe last told us, whether NMC may text, and the buttons
that send the owner to Stripe Checkout (subscribe) or the Customer Portal (card, cancel).

Stripe sends the owner back to `/app/billing?checkout=success|canceled` (BillingLinks).
Without Stripe configured here the page says so and offers no button.
"""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

import attrs
from litestar import MediaType, Response, get, post
from litestar.params import QueryParameter
from litestar.response import Redirect

from nmc_api.deps import Deps
from nmc_api.web.chrome import page
from nmc_api.web.session import Viewer, Viewing
from nmc_domain.billing.errors import BillingNotConfigured, PaymentProviderError
from nmc_domain.billing.model import SubscriptionStatus
from nmc_domain.billing.use_cases import BillingView, billing_status, open_portal, start_checkout
from nmc_domain.shared.errors import NotFound
from nmc_domain.tenancy.profile import me

__all__ = ["Plan", "billing_pages"]

S = SubscriptionStatus
STATUS_TEXT = {
    None: "No plan yet",
    S.ACTIVE: "Active",
    S.TRIALING: "Trial",
    S.PAST_DUE: "Past due: the last payment failed",
    S.UNPAID: "Unpaid",
    S.PAUSED: "Paused",
    S.INCOMPLETE: "Waiting for the first payment",
    S.INCOMPLETE_EXPIRED: "Checkout expired",
    S.CANCELED: "Canceled",
}
# A plan still the business's (paying, on trial, or waiting on a card) is managed in the
# Portal, not bought again: "Subscribe" is offered to the others only.
HELD_PLANS = frozenset({S.ACTIVE, S.TRIALING, S.PAST_DUE, S.UNPAID, S.PAUSED})
NOTICES = {
    "success": "Thank you: Stripe took your details. Your plan shows here as soon as Stripe "
    "confirms it (usually within a few seconds; reload the page).",
    "canceled": "Checkout was canceled: nothing was charged.",
}
NOT_CONFIGURED = "Billing is not configured on this NeverMissCall server: texting is not limited."
STRIPE_DOWN = "Stripe could not be reached just now ({detail}). Nothing changed: try again soon."
NO_CUSTOMER = "Stripe has no billing account for your business yet: subscribe first."

Checkout = Annotated[str | None, QueryParameter(name="checkout")]


@attrs.frozen
class Plan:
    """The billing card: the plan in words, and which buttons it offers."""

    view: BillingView
    zone: ZoneInfo

    @property
    def status(self) -> str:
        return STATUS_TEXT[self.view.status]

    @property
    def period_end(self) -> str | None:
        end = self.view.current_period_end
        if end is None:
            return None
        local = end.astimezone(self.zone)
        return f"{local:%b} {local.day}, {local.year}"

    @property
    def may_subscribe(self) -> bool:
        return self.view.status not in HELD_PLANS

    @property
    def may_manage(self) -> bool:
        # A status means Stripe's customer exists (the mirror is written from it).
        return self.view.status is not None


async def _billing_page(
    deps: Deps,
    viewer: Viewer,
    *,
    error: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response[Any]:
    plan = None
    configured = deps.payments is not None and deps.billing_links is not None
    if configured:
        try:
            view = await billing_status(deps.new_uow(), viewer.principal)
        except BillingNotConfigured:
            configured = False
        else:
            _, tenant = await me(deps.new_uow(), viewer.principal)
            plan = Plan(view, ZoneInfo(tenant.timezone))
    return await page(
        deps,
        viewer,
        "billing.html",
        plan=plan,
        not_configured=None if configured else NOT_CONFIGURED,
        error=error,
        notice=notice,
        status_code=status_code,
    )


@get("/billing", media_type=MediaType.HTML)
async def billing(deps: Deps, viewer: Viewing, checkout: Checkout = None) -> Response[Any]:
    """The plan; after Stripe Checkout, a word on how it went."""
    viewer.require_owner()
    return await _billing_page(deps, viewer, notice=NOTICES.get(checkout or ""))


@post("/billing/checkout", media_type=MediaType.HTML, status_code=303)
async def checkout(deps: Deps, viewer: Viewing) -> Response[Any]:
    """To Stripe Checkout (303); Stripe failing: the page with the reason (502)."""
    viewer.require_owner()
    if deps.payments is None or deps.billing_links is None:
        return await _billing_page(deps, viewer, status_code=404)
    try:
        url = await start_checkout(
            deps.new_uow(), deps.payments, viewer.principal, deps.billing_links
        )
    except BillingNotConfigured:
        return await _billing_page(deps, viewer, status_code=404)
    except PaymentProviderError as exc:
        return await _billing_page(
            deps, viewer, error=STRIPE_DOWN.format(detail=exc), status_code=502
        )
    return Redirect(url, status_code=303)


@post("/billing/portal", media_type=MediaType.HTML, status_code=303)
async def portal(deps: Deps, viewer: Viewing) -> Response[Any]:
    """To Stripe's Customer Portal (303); no customer yet: the page says so (404)."""
    viewer.require_owner()
    if deps.payments is None or deps.billing_links is None:
        return await _billing_page(deps, viewer, status_code=404)
    try:
        url = await open_portal(deps.new_uow(), deps.payments, viewer.principal, deps.billing_links)
    except BillingNotConfigured:
        return await _billing_page(deps, viewer, status_code=404)
    except NotFound:
        return await _billing_page(deps, viewer, error=NO_CUSTOMER, status_code=404)
    except PaymentProviderError as exc:
        return await _billing_page(
            deps, viewer, error=STRIPE_DOWN.format(detail=exc), status_code=502
        )
    return Redirect(url, status_code=303)


billing_pages = [billing, checkout, portal]
