"""Jobber's browser callback (OAuth) and webhook.

The callback is reached by the owner's browser coming back from Jobber's consent page, so it
takes no bearer token: the signed, single-use `state` says whose business it is. It answers a
short page for a person. The webhook checks X-Jobber-Hmac-SHA256 over the raw body, remembers
the notification once and queues the worker's read: it never calls Jobber (Jobber wants an
answer within a second).
"""

from __future__ import annotations

import html
from typing import Annotated

import structlog
from litestar import MediaType, Response, get, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromQuery, QueryParameter

from nmc_api.deps import AnyRequest, Deps
from nmc_api.signatures import capped_body
from nmc_domain.scheduling.jobber_connect import finish_jobber_connect, receive_jobber_event
from nmc_domain.scheduling.jobber_ports import JobberProviderError
from nmc_domain.shared.errors import Conflict, InvalidInput, TenantNotFound

__all__ = ["jobber_routes"]

log = structlog.get_logger("nmc.webhooks")
# Jobber's notifications are a few hundred bytes.
MAX_EVENT_BYTES = 64 * 1024
_NOT_CONFIGURED = "Jobber is not configured"


class BadJobberSignature(HTTPException):
    """X-Jobber-Hmac-SHA256 missing or not matching the body: 401, nothing stored."""

    status_code = 401
    detail = "invalid or missing X-Jobber-Hmac-SHA256"


class MalformedJobberEvent(HTTPException):
    """Signed, but not a Jobber webhook event: 400."""

    status_code = 400


def _page(status: int, title: str, text: str) -> Response[str]:
    body = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    )
    return Response(body, status_code=status, media_type=MediaType.HTML)


@get(
    "/oauth/jobber/callback",
    status_code=200,
    media_type=MediaType.HTML,
    responses={
        400: ResponseSpec(None, description="Access not granted, or a bad or used state"),
        404: ResponseSpec(None, description="Jobber is not configured"),
        409: ResponseSpec(None, description="The Jobber account is another business's"),
        502: ResponseSpec(None, description="Jobber failed; start connecting again"),
    },
)
async def jobber_callback(
    deps: Deps,
    code: FromQuery[str | None] = None,
    # `state` is a name Litestar keeps for its application state: read it by alias.
    oauth_state: Annotated[str | None, QueryParameter(name="state")] = None,
    error: FromQuery[str | None] = None,
) -> Response[str]:
    """Jobber sends the owner back here with `code` and `state` (nothing, when refused)."""
    if deps.jobber is None:
        return _page(404, _NOT_CONFIGURED, "Ask whoever runs NeverMissCall to set it up.")
    if error or not code:
        return _page(
            400,
            "Jobber was not connected",
            "Jobber did not grant access. Start again from NeverMissCall when you are ready.",
        )
    try:
        link = await finish_jobber_connect(deps.new_uow, deps.jobber, code, oauth_state)
    except (InvalidInput, TenantNotFound) as exc:
        return _page(400, "Jobber was not connected", f"{exc}.")
    except Conflict:
        return _page(
            409,
            "Jobber was not connected",
            "This Jobber account is connected to another business on NeverMissCall.",
        )
    except JobberProviderError as exc:
        log.warning("jobber.connect_failed", error=str(exc))
        return _page(
            502,
            "Jobber was not connected",
            "Jobber did not answer as expected; please start connecting again.",
        )
    log.info("jobber.connected", tenant_id=str(link.tenant_id), account_id=link.account_id)
    return _page(
        200,
        "Jobber connected",
        f"{link.account_name or 'Your Jobber account'} is "
        "connected: its visits now keep your technicians from being double-booked.",
    )


@post(
    "/webhooks/jobber",
    status_code=200,
    responses={
        400: ResponseSpec(None, description="Signed, but not a Jobber webhook event"),
        401: ResponseSpec(None, description="Bad or missing X-Jobber-Hmac-SHA256; nothing stored"),
        404: ResponseSpec(None, description="Jobber is not configured"),
        413: ResponseSpec(None, description="The body is over 64 KB; nothing stored"),
    },
)
async def jobber_webhook(request: AnyRequest, deps: Deps) -> Response[dict[str, str]]:
    """A Jobber notification: remembered once (topic, item, time), read later by the worker."""
    if deps.jobber_events is None:
        raise NotFoundException(_NOT_CONFIGURED)
    body = await capped_body(request, MAX_EVENT_BYTES)
    if not deps.jobber_events.is_authentic(body, request.headers.get("x-jobber-hmac-sha256")):
        raise BadJobberSignature()
    try:
        notice = deps.jobber_events.read(body)
    except ValueError as exc:
        raise MalformedJobberEvent(detail=str(exc)) from None
    outcome = await receive_jobber_event(deps.new_uow(), notice)
    log.info("jobber.event", topic=notice.topic, item_id=notice.item_id, outcome=outcome.value)
    return Response({"outcome": outcome.value}, status_code=200)


jobber_routes = [jobber_callback, jobber_webhook]
