"""Stripe's webhook: the signature checked over the raw body, each event remembered once, the
subscription re-read by the worker (so the answer is fast and the mirror ends at Stripe's
latest state whatever order events come in)."""

from __future__ import annotations

import structlog
from litestar import Response, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.openapi.datastructures import ResponseSpec

from nmc_api.deps import AnyRequest, Deps
from nmc_api.signatures import capped_body
from nmc_domain.billing.use_cases import receive_stripe_event

__all__ = ["stripe_routes"]

log = structlog.get_logger("nmc.webhooks")
# Stripe's events are a few KB; a subscription with many items stays far below this.
MAX_EVENT_BYTES = 512 * 1024


class BadStripeSignature(HTTPException):
    """Stripe-Signature missing, malformed, not matching, or older than the tolerance: 400
    (what Stripe's own libraries answer), nothing stored."""

    status_code = 400


@post(
    "/webhooks/stripe",
    status_code=200,
    responses={
        400: ResponseSpec(None, description="Bad or missing Stripe-Signature; nothing stored"),
        404: ResponseSpec(None, description="Billing is not configured"),
        413: ResponseSpec(None, description="The body is over 512 KB; nothing stored"),
    },
)
async def stripe_webhook(request: AnyRequest, deps: Deps) -> Response[dict[str, str]]:
    """A Stripe event: remembered once (by its id), then the worker re-reads the subscription."""
    if deps.stripe_events is None:
        raise NotFoundException("billing is not configured")
    body = await capped_body(request, MAX_EVENT_BYTES)
    try:
        notice = deps.stripe_events.verify(body, request.headers.get("stripe-signature"))
    except ValueError as exc:
        raise BadStripeSignature(detail=f"Stripe-Signature: {exc}") from None
    outcome = await receive_stripe_event(deps.new_uow(), notice)
    log.info("stripe.event", event_id=notice.event_id, type=notice.type, outcome=outcome.value)
    return Response({"outcome": outcome.value}, status_code=200)


stripe_routes = [stripe_webhook]
