"""Errors of billing."""

from __future__ import annotations

from nmc_domain.shared.errors import DomainError

__all__ = ["BillingNotConfigured", "PaymentProviderError"]


class BillingNotConfigured(DomainError):
    """Stripe is not configured here: billing routes answer 404."""

    def __init__(self) -> None:
        super().__init__("billing is not configured")


class PaymentProviderError(DomainError):
    """Stripe could not be reached or refused the request (503/502 at the edge; retried by the
    worker)."""
