"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from litestar import Response, get

from nmc_api.deps import Deps

__all__ = ["health_routes"]


@get("/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    """The process is up (no dependency is checked)."""
    return {"status": "ok"}


@get("/readyz")
async def readyz(deps: Deps) -> Response[dict[str, str]]:
    """200 only when the database answers; 503 otherwise."""
    if await deps.ready():
        return Response({"status": "ready", "database": "ok"})
    return Response({"status": "unavailable", "database": "unreachable"}, status_code=503)


health_routes = [healthz, readyz]
