"""Compliance: 10DLC registration and the send gate (the opt-out ledger will live here too)."""

from nmc_domain.compliance.events import ComplianceStatusChanged
from nmc_domain.compliance.gate import approve_compliance, reject_compliance
from nmc_domain.compliance.model import Compliance, ComplianceStatus
from nmc_domain.compliance.ports import ComplianceRepository, ComplianceUnitOfWork

__all__ = [
    "Compliance",
    "ComplianceRepository",
    "ComplianceStatus",
    "ComplianceStatusChanged",
    "ComplianceUnitOfWork",
    "approve_compliance",
    "reject_compliance",
]
