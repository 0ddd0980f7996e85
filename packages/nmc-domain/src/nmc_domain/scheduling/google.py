"""A technician's Google Calendar: the link (where its inbound sync stands) and its push
channels. The sync's rules are in `google_shadow`, its use cases in `google_sync`."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta
from uuid import UUID

import attrs

from nmc_domain.shared.errors import NotFound

__all__ = [
    "CHANNEL_RENEW_BEFORE",
    "DRIFT_WARN_STREAK",
    "GOOGLE",
    "PRIMARY",
    "SYNC_PENDING_FOR",
    "GoogleCalendarNotConfigured",
    "GoogleChannel",
    "GoogleLink",
    "new_channel",
    "token_matches",
]

GOOGLE = "google"  # busy_blocks.source of the shadow rows
PRIMARY = "primary"  # the calendar followed: the technician's main one
# Channels are renewed this long before Google lets them expire.
CHANNEL_RENEW_BEFORE = timedelta(days=1)
# A sync asked for this long ago and not started is presumed lost (its outbox row dead): the
# next notification or poll asks again instead of being coalesced into it.
SYNC_PENDING_FOR = timedelta(minutes=30)
# Polls in a row that found unannounced changes before the drift is worth a warning.
DRIFT_WARN_STREAK = 3


class GoogleCalendarNotConfigured(NotFound):
    """NMC_GOOGLE_* are not set here: the calendar routes answer 404."""

    def __init__(self) -> None:
        super().__init__("Google Calendar", "configuration")
        self.args = ("Google Calendar is not configured",)


@attrs.frozen
class GoogleLink:
    """One technician's connected Google Calendar and where its inbound sync stands.

    `connection_id` names this connection: a reconnect makes a new one, so work begun for the
    previous one (a fetch, a watch) is not applied to it. `refresh_token` is sealed.
    `sync_requested_at`: a sync job is queued (coalesces further requests while recent).
    `notices`: webhook notifications not yet covered by a sync (`notified_at`: the latest).
    `drift_last`/`drift_streak`: rows the last unannounced sync changed, and how many such
    syncs in a row changed some. `revoked_at`: Google refused the grant; reconnect needed.
    """

    tenant_id: UUID
    technician_id: UUID
    connection_id: UUID
    calendar_id: str
    refresh_token: str
    connected_at: datetime
    zone: str | None = None
    sync_token: str | None = None
    sync_requested_at: datetime | None = None
    notices: int = 0
    notified_at: datetime | None = None
    last_synced_at: datetime | None = None
    last_sync_error: str | None = None
    revoked_at: datetime | None = None
    drift_last: int | None = None
    drift_streak: int = 0
    channel_id: UUID | None = None
    channel_expires_at: datetime | None = None

    def sync_pending(self, now: datetime) -> bool:
        """A sync job is queued and not presumed lost."""
        return self.sync_requested_at is not None and now - self.sync_requested_at < (
            SYNC_PENDING_FOR
        )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@attrs.frozen
class GoogleChannel:
    """A push channel (events.watch): stored before Google is asked, so a notification that
    arrives before the watch call returns finds it. `resource_id` and `expires_at` come with
    Google's answer; `stopped_at` once it is no longer followed. Only the token's SHA-256 is
    kept."""

    id: UUID
    tenant_id: UUID
    technician_id: UUID
    token_hash: str
    created_at: datetime
    resource_id: str | None = None
    expires_at: datetime | None = None
    stopped_at: datetime | None = None

    @property
    def live(self) -> bool:
        return self.stopped_at is None

    @property
    def watched(self) -> bool:
        return self.resource_id is not None


def new_channel(tenant_id: UUID, technician_id: UUID, now: datetime) -> tuple[GoogleChannel, str]:
    """A fresh channel and its token (Google echoes it in X-Goog-Channel-Token)."""
    token = secrets.token_urlsafe(32)
    channel = GoogleChannel(uuid.uuid4(), tenant_id, technician_id, _digest(token), now)
    return channel, token


def token_matches(channel: GoogleChannel, token: str | None) -> bool:
    """The notification's token is the channel's (compared in constant time)."""
    return hmac.compare_digest(_digest(token or ""), channel.token_hash)
