"""Compliance: 10DLC registration and the send gate, the opt-out ledger."""

from nmc_domain.compliance.events import ComplianceStatusChanged, RegistrationSubmitted
from nmc_domain.compliance.gate import approve_compliance, reject_compliance
from nmc_domain.compliance.model import Compliance, ComplianceStatus
from nmc_domain.compliance.ports import (
    ComplianceRepository,
    ComplianceUnitOfWork,
    RegistrationRepository,
)
from nmc_domain.compliance.registration import (
    Address,
    Brand,
    BrandContact,
    Campaign,
    Registration,
    UseCase,
)
from nmc_domain.compliance.registration_checks import registration_of
from nmc_domain.compliance.submission import (
    ComplianceView,
    Submitted,
    show_compliance,
    submit_registration,
)

__all__ = [
    "Address",
    "Brand",
    "BrandContact",
    "Campaign",
    "Compliance",
    "ComplianceRepository",
    "ComplianceStatus",
    "ComplianceStatusChanged",
    "ComplianceUnitOfWork",
    "ComplianceView",
    "Registration",
    "RegistrationRepository",
    "RegistrationSubmitted",
    "Submitted",
    "UseCase",
    "approve_compliance",
    "registration_of",
    "reject_compliance",
    "show_compliance",
    "submit_registration",
]
