"""Compliance in PostgreSQL: 10DLC registration status and submission, contacts, the opt-out
ledger."""

from nmc_adapters.postgres.compliance.registrations import PgRegistrations
from nmc_adapters.postgres.compliance.repository import PgCompliance, PgContacts, PgOptOuts

__all__ = ["REPOSITORIES", "PgCompliance", "PgContacts", "PgOptOuts", "PgRegistrations"]

REPOSITORIES = {
    "compliance": PgCompliance,
    "registrations": PgRegistrations,
    "contacts": PgContacts,
    "opt_outs": PgOptOuts,
}
