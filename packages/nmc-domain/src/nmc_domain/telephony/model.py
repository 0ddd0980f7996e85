"""Calls: one table decides whether a call was missed, and why."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

import attrs

from nmc_domain.shared.errors import InvalidInput

__all__ = [
    "CallOutcome",
    "CallRecord",
    "Classification",
    "classify_call",
]


class CallOutcome(StrEnum):
    """What a final call status means for the business."""

    MISSED = "missed"
    ANSWERED = "answered"
    NOT_FINAL = "not_final"


@attrs.frozen
class Classification:
    """The outcome plus the reason code recorded with a missed call."""

    outcome: CallOutcome
    reason: str | None = None


_MISSED = CallOutcome.MISSED
# Twilio's CallStatus and DialCallStatus values. Final statuses are classified; the others
# ("ringing", …) say the call is still going and must not be recorded as its outcome.
_TABLE: dict[str, Classification] = {
    "no-answer": Classification(_MISSED, "no_answer"),
    "busy": Classification(_MISSED, "busy"),
    "failed": Classification(_MISSED, "failed"),
    "canceled": Classification(_MISSED, "canceled"),
    "completed": Classification(CallOutcome.ANSWERED),
    "answered": Classification(CallOutcome.ANSWERED),
    "queued": Classification(CallOutcome.NOT_FINAL),
    "initiated": Classification(CallOutcome.NOT_FINAL),
    "ringing": Classification(CallOutcome.NOT_FINAL),
    "in-progress": Classification(CallOutcome.NOT_FINAL),
}
KNOWN_STATUSES = frozenset(_TABLE)


def classify_call(
    status: str, duration_seconds: int | None, short_call_threshold_seconds: int | None
) -> Classification:
    """Classify a call status; an answered call shorter than the threshold counts as missed."""
    try:
        found = _TABLE[status.strip().lower()]
    except KeyError:
        raise InvalidInput("CallStatus", f"unknown call status {status!r}") from None
    if (
        found.outcome is CallOutcome.ANSWERED
        and short_call_threshold_seconds is not None
        and duration_seconds is not None
        and duration_seconds < short_call_threshold_seconds
    ):
        return Classification(_MISSED, "short_call")
    return found


@attrs.frozen
class CallRecord:
    """A call that reached a final status, as recorded for reporting."""

    id: UUID
    tenant_id: UUID
    call_sid: str
    caller: str
    called: str
    status: str
    outcome: CallOutcome
    reason: str | None
    duration_seconds: int | None
    conversation_id: UUID | None
    occurred_at: datetime
