"""Google Calendar: OAuth 2.0 and the Calendar API v3 over httpx (events, watch, free/busy)."""

from nmc_adapters.google.client import (
    CALLBACK_PATH,
    DEFAULT_GOOGLE_API_BASE,
    DEFAULT_GOOGLE_OAUTH_BASE,
    SCOPES,
    WEBHOOK_PATH,
    GoogleCalendarClient,
)

__all__ = [
    "CALLBACK_PATH",
    "DEFAULT_GOOGLE_API_BASE",
    "DEFAULT_GOOGLE_OAUTH_BASE",
    "SCOPES",
    "WEBHOOK_PATH",
    "GoogleCalendarClient",
]
