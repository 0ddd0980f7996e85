"""RFC 9457 problem details: every /v1 error, and how each domain error maps onto one."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    ValidationException,
)
from litestar.openapi.datastructures import ResponseSpec
from litestar.types import ExceptionHandlersMap

from nmc_api.v1.fields import explain
from nmc_domain.billing.errors import BillingNotConfigured, PaymentProviderError
from nmc_domain.shared.errors import (
    Conflict,
    DomainError,
    Gone,
    InvalidInput,
    NotFound,
    PermissionDenied,
    StorageUnavailable,
    TenantNotFound,
    Unauthenticated,
)

__all__ = ["PROBLEM_HANDLERS", "FieldError", "Problem", "errors", "problem_response"]

MEDIA_TYPE = "application/problem+json"
log = structlog.get_logger("nmc.api")


class FieldError(msgspec.Struct):
    """Which field is at fault, and why."""

    field: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    """application/problem+json (RFC 9457)."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldError] | None = None


_TITLES = {
    400: ("malformed-request", "Malformed request"),
    401: ("unauthenticated", "Authentication required"),
    403: ("forbidden", "Not allowed"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    409: ("conflict", "Conflict"),
    410: ("gone", "Gone"),
    413: ("too-large", "Request body too large"),
    422: ("invalid-input", "Invalid input"),
    500: ("internal", "Internal error"),
    502: ("provider-error", "Payment provider error"),
    503: ("unavailable", "Service unavailable"),
}


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    fields: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
) -> Response[Problem]:
    slug, title = _TITLES[status]
    body = Problem(
        type=f"https://nevermisscall.dev/problems/{slug}",
        title=title,
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=list(fields) or None,
    )
    return Response(body, status_code=status, media_type=MEDIA_TYPE, headers=headers)


def _domain(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    if isinstance(exc, Unauthenticated):
        return problem_response(request, 401, exc.reason, headers={"WWW-Authenticate": "Bearer"})
    if isinstance(exc, PermissionDenied):
        return problem_response(request, 403, exc.reason)
    if isinstance(exc, BillingNotConfigured):
        return problem_response(request, 404, str(exc))
    if isinstance(exc, PaymentProviderError):
        log.error("api.payment_provider_error", error=str(exc))
        return problem_response(request, 502, f"Stripe: {exc}")
    if isinstance(exc, NotFound | TenantNotFound):
        return problem_response(request, 404, str(exc))
    if isinstance(exc, Gone):
        return problem_response(request, 410, str(exc))
    if isinstance(exc, Conflict):
        return problem_response(request, 409, str(exc), [FieldError(exc.field, exc.reason)])
    if isinstance(exc, InvalidInput):
        return problem_response(request, 422, str(exc), [FieldError(exc.field, exc.reason)])
    if isinstance(exc, StorageUnavailable):
        log.error("api.storage_unavailable", error=str(exc))
        return problem_response(request, 503, "database unavailable, try again")
    log.error("api.unmapped_domain_error", error=repr(exc))
    return problem_response(request, 500, "an error we did not expect; it has been logged")


# Litestar reports a missing or unknown body field against the body parameter ("data") and a
# missing query parameter in its message only: the field's own name is in the message.
_NAMED = re.compile(r"(?:field|parameter) [`'](?P<name>[^`']+)[`']")


def field_of(key: str, message: str) -> str:
    """The field a decoding error is about."""
    named = _NAMED.search(message)
    if named and key in ("", "data", "body"):
        return named.group("name")
    return key or "body"


def _sent_names(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The handler's argument names that clients send under another name (`first` is `from`)."""
    handler = request.scope.get("route_handler")
    signature = getattr(handler, "parsed_fn_signature", None)
    if signature is None:
        return {}
    names: dict[str, str] = {}
    for argument, definition in signature.parameters.items():
        sent = getattr(definition.kwarg_definition, "name", None)
        if isinstance(sent, str) and sent:
            names[argument] = sent
    return names


def _validation(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Problem]:
    """Litestar's decoding errors (wrong type, missing or unknown field) as 422 naming it."""
    entries = [e for e in (exc.extra if isinstance(exc.extra, list) else []) if isinstance(e, dict)]
    sent = _sent_names(request)
    fields = [
        FieldError(
            field_of(sent.get(key, key), str(e.get("message", ""))),
            explain(str(e.get("message", "invalid"))),
        )
        for e in entries
        for key in [str(e.get("key") or "")]
    ] or [FieldError(field_of("", exc.detail), exc.detail)]
    detail = "; ".join(f"{f.field}: {f.message}" for f in fields)
    return problem_response(request, 422, detail, fields)


def _http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    """Any other HTTP error Litestar raises (a body that is not JSON: 400) as a problem."""
    status = exc.status_code if exc.status_code in _TITLES else 400
    return problem_response(request, status, exc.detail)


def _not_found(request: Request[Any, Any, Any], exc: NotFoundException) -> Response[Problem]:
    return problem_response(request, 404, "no such resource")


def _not_allowed(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    # Routing puts the methods the path does have in an Allow header (RFC 9110 wants one).
    allow = (getattr(exc, "headers", None) or {}).get("allow")
    headers = {"Allow": allow} if allow else None
    return problem_response(request, 405, "method not allowed on this resource", headers=headers)


# Each domain error by name: Litestar merges the app's and the router's maps before walking the
# exception's MRO, so a base-class entry here would lose to the app's InvalidInput (webhooks).
PROBLEM_HANDLERS: ExceptionHandlersMap = {
    **dict.fromkeys(
        (
            Unauthenticated,
            PermissionDenied,
            NotFound,
            TenantNotFound,
            Gone,
            Conflict,
            InvalidInput,
            StorageUnavailable,
            BillingNotConfigured,
            PaymentProviderError,
            DomainError,
        ),
        _domain,
    ),
    ValidationException: _validation,
    HTTPException: _http,
    NotFoundException: _not_found,
    MethodNotAllowedException: _not_allowed,
}


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the problems a route can answer (400, 401, 422, 503 always can be)."""
    codes = sorted({400, 401, 422, 503, *statuses})
    return {
        code: ResponseSpec(
            data_container=Problem, description=_TITLES[code][1], media_type=MEDIA_TYPE
        )
        for code in codes
    }
