"""The /v1 router: bearer authentication for every route, problem+json for every error."""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide

from nmc_api.v1.auth import bearer_guard, provide_principal
from nmc_api.v1.catalog import catalog_routes
from nmc_api.v1.people import people_routes
from nmc_api.v1.problems import PROBLEM_HANDLERS

__all__ = ["v1_router"]


def v1_router() -> Router:
    return Router(
        path="/v1",
        route_handlers=[*people_routes, *catalog_routes],
        guards=[bearer_guard],
        dependencies={"principal": Provide(provide_principal, sync_to_thread=False)},
        exception_handlers=PROBLEM_HANDLERS,
        security=[{"BearerAuth": []}],
        tags=["tenant API"],
    )
