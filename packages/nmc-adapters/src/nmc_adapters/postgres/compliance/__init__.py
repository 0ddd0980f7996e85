"""Compliance in PostgreSQL: 10DLC registration status."""

from nmc_adapters.postgres.compliance.repository import PgCompliance

__all__ = ["REPOSITORIES", "PgCompliance"]

REPOSITORIES = {"compliance": PgCompliance}
