"""Tenancy in PostgreSQL: tenants and the number routing table."""

from nmc_adapters.postgres.tenancy.repository import PgPhoneNumbers, PgTenants

__all__ = ["REPOSITORIES", "PgPhoneNumbers", "PgTenants"]

REPOSITORIES = {"tenants": PgTenants, "numbers": PgPhoneNumbers}
