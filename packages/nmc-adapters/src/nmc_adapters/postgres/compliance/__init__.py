"""Compliance in PostgreSQL: 10DLC registration status, contacts, the opt-out ledger."""

from nmc_adapters.postgres.compliance.repository import PgCompliance, PgContacts, PgOptOuts

__all__ = ["REPOSITORIES", "PgCompliance", "PgContacts", "PgOptOuts"]

REPOSITORIES = {"compliance": PgCompliance, "contacts": PgContacts, "opt_outs": PgOptOuts}
