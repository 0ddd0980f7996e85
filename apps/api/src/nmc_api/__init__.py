"""NeverMissCall's HTTP API: Twilio webhooks, health, and (later) the tenant API."""

from nmc_api.app import create_app
from nmc_api.deps import ApiDeps

__all__ = ["ApiDeps", "create_app"]
