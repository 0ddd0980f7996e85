"""Provider clients built from the settings: one place for what the composition roots share."""

from __future__ import annotations

from nmc_adapters.crypto import FernetSealer
from nmc_adapters.google import GoogleCalendarClient
from nmc_adapters.jobber import JobberClient
from nmc_adapters.settings import Settings, require
from nmc_adapters.stripe import StripePaymentGateway

__all__ = ["google_client", "jobber_client", "sealer", "stripe_gateway"]


def stripe_gateway(settings: Settings) -> StripePaymentGateway | None:
    """The gateway the settings configure; None when Stripe is not configured here."""
    if not settings.stripe_configured:
        return None
    return StripePaymentGateway(
        secret_key=require(settings.stripe_secret_key, "NMC_STRIPE_SECRET_KEY"),
        price_id=require(settings.stripe_price_id, "NMC_STRIPE_PRICE_ID"),
        api_base=settings.stripe_api_base,
    )


def sealer(settings: Settings) -> FernetSealer | None:
    """The sealer of tokens at rest and OAuth states; None without NMC_SECRET_KEY."""
    return None if settings.secret_key is None else FernetSealer(settings.secret_key)


def jobber_client(settings: Settings) -> JobberClient | None:
    """Jobber's client; None when Jobber is not configured here (no client id and secret)."""
    if not settings.jobber_configured:
        return None
    return JobberClient(
        client_id=require(settings.jobber_client_id, "NMC_JOBBER_CLIENT_ID"),
        client_secret=require(settings.jobber_client_secret, "NMC_JOBBER_CLIENT_SECRET"),
        public_base_url=settings.public_base_url,
        api_base=settings.jobber_api_base,
        oauth_base=settings.jobber_oauth_base,
    )


def google_client(settings: Settings) -> GoogleCalendarClient | None:
    """Google Calendar's client; None when Google is not configured here (no client id and
    secret). Its redirect URI and push address are under NMC_PUBLIC_BASE_URL."""
    if not settings.google_configured:
        return None
    return GoogleCalendarClient(
        client_id=require(settings.google_client_id, "NMC_GOOGLE_CLIENT_ID"),
        client_secret=require(settings.google_client_secret, "NMC_GOOGLE_CLIENT_SECRET"),
        public_base_url=require(settings.public_base_url, "NMC_PUBLIC_BASE_URL"),
        api_base=settings.google_api_base,
        oauth_base=settings.google_oauth_base,
    )
