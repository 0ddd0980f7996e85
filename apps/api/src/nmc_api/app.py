"""The Litestar application, assembled from the dependencies `bootstrap` built."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Litestar, MediaType, Response, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import MethodNotAllowedException, NotFoundException
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from nmc_api.deps import AnyRequest, ApiDeps
from nmc_api.google_routes import google_routes
from nmc_api.health import health_routes
from nmc_api.jobber import jobber_routes
from nmc_api.metrics import ApiMetrics, MeasureRequests, metrics_route
from nmc_api.request_ids import RequestIds, echo_request_id, request_id
from nmc_api.retrying import RetryOnContention, RetryPolicy, lost_to_contention
from nmc_api.stripe_webhook import stripe_routes
from nmc_api.v1.openapi import StrictBodySchemas
from nmc_api.v1.problems import PROBLEM_HANDLERS, Problem, problem_response
from nmc_api.v1.router import v1_router
from nmc_api.web import template_config, web_routers
from nmc_api.webhooks import twilio_routes
from nmc_domain.shared.errors import InvalidInput, StorageUnavailable, TryAgain

__all__ = ["create_app"]

log = structlog.get_logger("nmc.api")


def _bad_input(_: AnyRequest, exc: InvalidInput) -> Response[str]:
    return Response(str(exc), status_code=400, media_type=MediaType.TEXT)


def _unavailable(_: AnyRequest, exc: StorageUnavailable) -> Response[str]:
    log.error("api.storage_unavailable", error=str(exc))
    return Response("database unavailable, try again", status_code=503, media_type=MediaType.TEXT)


def _unexpected(request: AnyRequest, exc: Exception) -> Response[Problem]:
    # Litestar's fallback for any exception no other handler claims (and any HTTP 500): logged
    # with its traceback here, answered without a trace of it.
    rid = request_id(request.scope)
    log.error(
        "api.unhandled_error",
        exc_info=exc,
        request_id=rid,
        method=request.method,
        path=request.url.path,
    )
    return problem_response(
        request, 500, f"an error we did not expect; it has been logged as request {rid}"
    )


def _routing_error(request: AnyRequest, exc: Exception) -> Response[Any]:
    # Unknown paths and methods: problem+json under /v1, Litestar's plain answer elsewhere.
    if request.url.path.startswith("/v1"):
        return PROBLEM_HANDLERS[type(exc)](request, exc)
    status = 404 if isinstance(exc, NotFoundException) else 405
    return Response(str(getattr(exc, "detail", "")), status_code=status, media_type=MediaType.TEXT)


@get(["/app", "/app/{rest:path}"], media_type=MediaType.TEXT, include_in_schema=False)
async def no_web_inbox() -> Response[str]:
    return Response(
        "the web inbox is not configured here (NMC_SECRET_KEY)",
        status_code=404,
        media_type=MediaType.TEXT,
    )


def create_app(
    deps: ApiDeps, *, retry: RetryPolicy | None = None, metrics: ApiMetrics | None = None
) -> Litestar:
    """The ASGI app; `deps.close` runs at shutdown; `retry` paces work lost to contention;
    `metrics`, when given, times every request and is served at GET /metrics."""

    def provide_deps() -> ApiDeps:
        return deps

    ops = [*health_routes] if metrics is None else [*health_routes, metrics_route(metrics)]
    web = web_routers(deps.web) if deps.web is not None else [no_web_inbox]
    app = Litestar(
        route_handlers=[
            *ops,
            *twilio_routes,
            *stripe_routes,
            *google_routes,
            *jobber_routes,
            v1_router(),
            *web,
        ],
        dependencies={"deps": Provide(provide_deps, use_cache=True, sync_to_thread=False)},
        exception_handlers={
            InvalidInput: _bad_input,
            StorageUnavailable: _unavailable,
            NotFoundException: _routing_error,
            MethodNotAllowedException: _routing_error,
            TryAgain: lost_to_contention,
            HTTP_500_INTERNAL_SERVER_ERROR: _unexpected,
        },
        # Outermost first. Litestar wraps each route in them, with its own exception handling
        # inside, so error answers pass through both (see retrying.py). The request id reaches
        # every answer, routed or not, through the before_send hook.
        middleware=[RequestIds, DefineMiddleware(RetryOnContention, policy=retry)],
        before_send=[echo_request_id],
        on_shutdown=[deps.close],
        state=State({"deps": deps}),  # for the /v1 guard, which runs before dependency injection
        openapi_config=OpenAPIConfig(
            title="NeverMissCall",
            version="0.1.0",
            path="/schema",
            components=Components(
                security_schemes={
                    "BearerAuth": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")
                }
            ),
        ),
        template_config=template_config(),
        plugins=[StrictBodySchemas()],  # request bodies as strict as msgspec makes them
        logging_config=None,
    )
    if metrics is not None:  # around routing too, so unmatched requests are timed as well
        app.asgi_handler = MeasureRequests(app.asgi_handler, metrics)
    return app
