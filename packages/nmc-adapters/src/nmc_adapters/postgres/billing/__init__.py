"""Billing in PostgreSQL: the subscription mirror and the customer routing table."""

from nmc_adapters.postgres.billing.repository import PgSubscriptions

__all__ = ["REPOSITORIES", "PgSubscriptions"]

REPOSITORIES = {"subscriptions": PgSubscriptions}
