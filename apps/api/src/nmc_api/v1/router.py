"""The /v1 router: bearer authentication for every route, problem+json for every error."""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide

from nmc_api.v1.auth import bearer_guard, provide_principal
from nmc_api.v1.billing import billing_routes
from nmc_api.v1.bodies import MAX_BODY_BYTES, read_json_body
from nmc_api.v1.bookings import booking_routes
from nmc_api.v1.calendars import calendar_routes
from nmc_api.v1.catalog import catalog_routes
from nmc_api.v1.compliance import compliance_routes
from nmc_api.v1.conversations import conversation_routes
from nmc_api.v1.jobber import jobber_routes
from nmc_api.v1.options import options_routes
from nmc_api.v1.people import people_routes
from nmc_api.v1.problems import PROBLEM_HANDLERS
from nmc_api.v1.reports import report_routes
from nmc_api.v1.schedule_setup import setup_routes

__all__ = ["v1_router"]


def v1_router() -> Router:
    handlers = [
        *people_routes,
        *catalog_routes,
        *setup_routes,
        *calendar_routes,
        *jobber_routes,
        *booking_routes,
        *conversation_routes,
        *compliance_routes,
        *billing_routes,
        *report_routes,
    ]
    return Router(
        path="/v1",
        route_handlers=[*options_routes(handlers), *handlers],
        guards=[bearer_guard],
        before_request=read_json_body,  # after the guard, before any handler parameter
        request_max_body_size=MAX_BODY_BYTES,
        dependencies={"principal": Provide(provide_principal, sync_to_thread=False)},
        exception_handlers=PROBLEM_HANDLERS,
        security=[{"BearerAuth": []}],
        tags=["tenant API"],
    )
