"""OPTIONS on a /v1 path: 204, with an Allow header naming every method the path has.

Litestar makes a path's OPTIONS handler when the path's first handler is registered and never
updates its Allow header, so a path whose GET and POST are separate handlers answered
`Allow: GET, OPTIONS`. Declaring OPTIONS ourselves, before the other handlers, keeps it whole.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from litestar import Response, route
from litestar.enums import HttpMethod
from litestar.handlers import HTTPRouteHandler

__all__ = ["options_routes"]


def options_routes(handlers: Sequence[HTTPRouteHandler]) -> list[HTTPRouteHandler]:
    """One OPTIONS handler per path of `handlers`; register them before `handlers`."""
    methods: dict[str, set[str]] = defaultdict(lambda: {HttpMethod.OPTIONS.value})
    for handler in handlers:
        for path in handler.paths:
            methods[path].update(handler.http_methods)
    return [_options(path, ", ".join(sorted(allowed))) for path, allowed in methods.items()]


def _options(path: str, allow: str) -> HTTPRouteHandler:
    def answer() -> Response[None]:
        return Response(None, status_code=204, headers={"Allow": allow})

    return route(
        path, http_method=[HttpMethod.OPTIONS], include_in_schema=False, sync_to_thread=False
    )(answer)
