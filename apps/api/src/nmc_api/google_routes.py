"""Google Calendar outside /v1: the OAuth callback the owner's browser is sent back to (no
bearer token: the signed, single-use `state` says whose calendar), and the push webhook."""

from __future__ import annotations

import html
from typing import Annotated

import structlog
from litestar import MediaType, Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import QueryParameter

from nmc_api.deps import AnyRequest, Deps
from nmc_domain.scheduling.google_connect import finish_google_connect
from nmc_domain.scheduling.google_notices import (
    GoogleNotice,
    NoticeOutcome,
    receive_google_notification,
)
from nmc_domain.scheduling.google_ports import CalendarProviderError
from nmc_domain.shared.errors import InvalidInput, NotFound

__all__ = ["google_routes"]

log = structlog.get_logger("nmc.webhooks")
_SHOWN = 64  # of a header value that is not what it should be, in the log


def _page(status: int, title: str, message: str) -> Response[str]:
    body = (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(message)}</p></html>"
    )
    return Response(body, status_code=status, media_type=MediaType.HTML)


@get(
    "/oauth/google/callback",
    media_type=MediaType.HTML,
    responses={
        400: ResponseSpec(None, description="Access denied, or a bad, expired or used state"),
        404: ResponseSpec(
            None, description="Google Calendar is not configured, or no such technician any more"
        ),
        502: ResponseSpec(None, description="Google refused the authorization code"),
    },
)
async def google_callback(
    deps: Deps,
    code: Annotated[str | None, QueryParameter()] = None,
    oauth_state: Annotated[str | None, QueryParameter(name="state")] = None,
    error: Annotated[str | None, QueryParameter()] = None,
) -> Response[str]:
    """Where Google's consent page sends the browser back (with `code` and `state`)."""
    if deps.google is None or deps.sealer is None:
        return _page(404, "Not connected", "Google Calendar is not configured.")
    if error is not None:
        denied = error == "access_denied"
        reason = "access was denied on Google's page" if denied else f"Google said {error!r}"
        return _page(400, "Not connected", f"Google Calendar was not connected: {reason}.")
    try:
        connected = await finish_google_connect(
            deps.new_uow(), deps.google, deps.sealer, oauth_state, code
        )
    except InvalidInput as exc:
        return _page(400, "Not connected", f"Google Calendar was not connected: {exc}.")
    except NotFound as exc:
        return _page(404, "Not connected", f"Google Calendar was not connected: {exc}.")
    except CalendarProviderError as exc:
        log.warning("google.connect_refused", error=str(exc))
        return _page(502, "Not connected", f"Google Calendar was not connected: {exc}. Try again.")
    log.info("google.connected", technician_id=str(connected.technician_id))
    return _page(
        200,
        "Connected",
        f"Google Calendar connected for {connected.technician_name}. You can close this page.",
    )


@post(
    "/webhooks/google/calendar",
    status_code=200,
    responses={403: ResponseSpec(None, description="X-Goog-Channel-Token does not match")},
)
async def google_calendar_webhook(request: AnyRequest, deps: Deps) -> Response[dict[str, str]]:
    """A push notification: noted, and one sync queued per calendar (Google is not called)."""
    headers = request.headers
    notice = GoogleNotice(
        channel_id=headers.get("x-goog-channel-id"),
        token=headers.get("x-goog-channel-token"),
        resource_state=headers.get("x-goog-resource-state"),
    )
    outcome = await receive_google_notification(deps.new_uow(), notice)
    log.info(
        "google.notification",
        channel_id=(notice.channel_id or "")[:_SHOWN],
        state=(notice.resource_state or "")[:_SHOWN],
        message_number=(headers.get("x-goog-message-number") or "")[:_SHOWN],
        outcome=outcome.value,
    )
    status = 403 if outcome is NoticeOutcome.FORBIDDEN else 200
    return Response({"outcome": outcome.value}, status_code=status)


google_routes = [google_callback, google_calendar_webhook]
