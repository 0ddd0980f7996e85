"""Telephony: call classification, call records, and what a missed call sets in motion."""

from nmc_domain.telephony.missed_call import (
    VOICE_EVENTS,
    CallStatusReport,
    ReportOutcome,
    ReportResult,
    report_call_status,
)
from nmc_domain.telephony.model import (
    KNOWN_STATUSES,
    CallOutcome,
    CallRecord,
    Classification,
    classify_call,
)
from nmc_domain.telephony.ports import CallRepository, TelephonyUnitOfWork

__all__ = [
    "KNOWN_STATUSES",
    "VOICE_EVENTS",
    "CallOutcome",
    "CallRecord",
    "CallRepository",
    "CallStatusReport",
    "Classification",
    "ReportOutcome",
    "ReportResult",
    "TelephonyUnitOfWork",
    "classify_call",
    "report_call_status",
]
