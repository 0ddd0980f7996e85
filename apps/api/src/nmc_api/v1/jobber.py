"""/v1/integrations/jobber: connect the business's Jobber account (OWNER), see the connection
(last sync, drift, errors) and disconnect it. 404 "Jobber is not configured" where the
NMC_JOBBER_* settings are missing."""

from __future__ import annotations

from datetime import datetime

import attrs
from litestar import delete, get

from nmc_api.deps import Deps
from nmc_api.v1.auth import OWNER, Caller
from nmc_api.v1.problems import errors
from nmc_domain.scheduling.jobber_connect import (
    JobberView,
    disconnect_jobber,
    jobber_consent_url,
    jobber_status,
)

__all__ = ["jobber_routes"]


@attrs.frozen
class JobberConsentOut:
    """Where to send the owner's browser: Jobber's consent page."""

    url: str


@attrs.frozen
class JobberOut:
    """The business's Jobber connection."""

    connected: bool
    account_id: str
    account_name: str
    connected_at: datetime
    last_synced_at: datetime | None
    last_sync_error: str | None
    last_drift: int | None
    drift_streak: int
    reconnect_needed: bool

    @classmethod
    def of(cls, view: JobberView) -> JobberOut:
        return cls(
            connected=True,
            account_id=view.account_id,
            account_name=view.account_name,
            connected_at=view.connected_at,
            last_synced_at=view.last_synced_at,
            last_sync_error=view.last_sync_error,
            last_drift=view.drift_last,
            drift_streak=view.drift_streak,
            reconnect_needed=view.reconnect_needed,
        )


@get(
    "/integrations/jobber/connect",
    opt=OWNER,
    responses=errors(403, 404),
    summary="Jobber's consent page for this business (OWNER); the owner's browser comes back "
    "to /oauth/jobber/callback",
)
async def get_jobber_connect(principal: Caller, deps: Deps) -> JobberConsentOut:
    return JobberConsentOut(await jobber_consent_url(deps.new_uow(), deps.jobber, principal))


@get(
    "/integrations/jobber",
    opt=OWNER,
    responses=errors(403, 404),
    summary="The Jobber connection (OWNER): account, last sync, last drift count, last error; "
    "404 when not connected",
)
async def get_jobber(principal: Caller, deps: Deps) -> JobberOut:
    return JobberOut.of(await jobber_status(deps.new_uow(), deps.jobber, principal))


@delete(
    "/integrations/jobber",
    opt=OWNER,
    status_code=204,
    responses=errors(403, 404),
    summary="Disconnect Jobber (OWNER): the link and the busy blocks Jobber's visits made are "
    "removed",
)
async def delete_jobber(principal: Caller, deps: Deps) -> None:
    await disconnect_jobber(deps.new_uow(), deps.jobber, principal)


jobber_routes = [get_jobber_connect, get_jobber, delete_jobber]
