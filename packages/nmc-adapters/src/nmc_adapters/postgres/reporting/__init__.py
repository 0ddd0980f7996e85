"""Reporting in PostgreSQL: response episodes and daily rollups."""

from nmc_adapters.postgres.reporting.repository import PgReports

__all__ = ["REPOSITORIES", "PgReports"]

REPOSITORIES = {"reports": PgReports}
