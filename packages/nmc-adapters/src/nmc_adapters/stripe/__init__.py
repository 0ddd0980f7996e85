"""Stripe adapters: the payment gateway (official SDK) and webhook verification."""

from nmc_adapters.stripe.gateway import DEFAULT_STRIPE_API_BASE, StripePaymentGateway
from nmc_adapters.stripe.webhooks import (
    DEFAULT_TOLERANCE_SECONDS,
    StripeEvent,
    StripeNotices,
    StripeWebhookVerifier,
    WebhookSignatureInvalid,
    notice_of,
)

__all__ = [
    "DEFAULT_STRIPE_API_BASE",
    "DEFAULT_TOLERANCE_SECONDS",
    "StripeEvent",
    "StripeNotices",
    "StripePaymentGateway",
    "StripeWebhookVerifier",
    "WebhookSignatureInvalid",
    "notice_of",
]
