"""Telephony in PostgreSQL: calls."""

from nmc_adapters.postgres.telephony.repository import PgCalls

__all__ = ["REPOSITORIES", "PgCalls"]

REPOSITORIES = {"calls": PgCalls}
