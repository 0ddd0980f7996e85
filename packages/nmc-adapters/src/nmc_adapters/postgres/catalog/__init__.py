"""The catalog in PostgreSQL: service items and quotes."""

from nmc_adapters.postgres.catalog.repository import PgCatalog, PgQuotes

__all__ = ["REPOSITORIES", "PgCatalog", "PgQuotes"]

REPOSITORIES = {"catalog": PgCatalog, "quotes": PgQuotes}
