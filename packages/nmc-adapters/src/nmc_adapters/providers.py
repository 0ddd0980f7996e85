"""Provider clients built from the settings: one place for what the composition roots share."""

from __future__ import annotations

from nmc_adapters.settings import Settings, require
from nmc_adapters.stripe import StripePaymentGateway

__all__ = ["stripe_gateway"]


def stripe_gateway(settings: Settings) -> StripePaymentGateway | None:
    """The gateway the settings configure; None when Stripe is not configured here."""
    if not settings.stripe_configured:
        return None
    return StripePaymentGateway(
        secret_key=require(settings.stripe_secret_key, "NMC_STRIPE_SECRET_KEY"),
        price_id=require(settings.stripe_price_id, "NMC_STRIPE_PRICE_ID"),
        api_base=settings.stripe_api_base,
    )
