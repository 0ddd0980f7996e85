"""OAuth 2.0 `state` for the calendar connections: signed, short-lived and single-use.

The provider's consent page sends the browser back to our callback with `code` and `state`;
the callback takes no bearer token, so the state is what says which tenant (and technician)
the grant is for. It is sealed (authenticated encryption with NMC_SECRET_KEY), expires after
ten minutes, and its nonce is spent in the webhook event log the first time it is used.
"""

from __future__ import annotations

import json
import secrets
from uuid import UUID

import attrs

from nmc_domain.shared.errors import InvalidInput
from nmc_domain.shared.ports import WebhookEventLog
from nmc_domain.shared.secrets import SealBroken, Sealer

__all__ = [
    "OAUTH_STATES",
    "STATE_TTL_SECONDS",
    "OAuthState",
    "issue_state",
    "read_state",
    "spend_state",
]

STATE_TTL_SECONDS = 600
# Provider name under which spent nonces are remembered in the webhook event log.
OAUTH_STATES = "oauth.state"


@attrs.frozen
class OAuthState:
    """Who a consent is for: `provider` ("google", "jobber"), the tenant, the technician
    (Google connects one technician's calendar; Jobber a whole tenant: None)."""

    provider: str
    tenant_id: UUID
    technician_id: UUID | None
    nonce: str


def issue_state(
    sealer: Sealer, provider: str, tenant_id: UUID, technician_id: UUID | None = None
) -> str:
    """A fresh sealed state for one consent."""
    body = {
        "p": provider,
        "t": str(tenant_id),
        "k": None if technician_id is None else str(technician_id),
        "n": secrets.token_urlsafe(16),
    }
    return sealer.seal(json.dumps(body, separators=(",", ":")))


def read_state(sealer: Sealer, token: str | None, provider: str) -> OAuthState:
    """The state the token carries; InvalidInput naming `state` when it is missing, altered,
    expired, or made for another provider."""
    if not token:
        raise InvalidInput("state", "missing")
    try:
        body = json.loads(sealer.unseal(token, max_age_seconds=STATE_TTL_SECONDS))
        state = OAuthState(
            provider=str(body["p"]),
            tenant_id=UUID(body["t"]),
            technician_id=None if body["k"] is None else UUID(body["k"]),
            nonce=str(body["n"]),
        )
    except SealBroken:
        raise InvalidInput("state", "invalid or expired; start connecting again") from None
    except (ValueError, KeyError, TypeError):
        raise InvalidInput("state", "malformed") from None
    if state.provider != provider:
        raise InvalidInput("state", f"was issued for {state.provider}, not {provider}")
    return state


async def spend_state(webhooks: WebhookEventLog, state: OAuthState) -> None:
    """Mark the state used (in the caller's transaction); InvalidInput when it already was."""
    if not await webhooks.record(OAUTH_STATES, state.nonce, state.tenant_id, {}):
        raise InvalidInput("state", "already used; start connecting again")
