"""Unit tests for the call classifier: the status table, the reason codes, the short-call rule."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nmc_domain.shared.errors import InvalidInput
from nmc_domain.telephony.model import CallOutcome, Classification, classify_call

MISSED_STATUSES = {
    "no-answer": "no_answer",
    "busy": "busy",
    "failed": "failed",
    "canceled": "canceled",
}
ANSWERED_STATUSES = ("completed", "answered")
NOT_FINAL_STATUSES = ("queued", "initiated", "ringing", "in-progress")
ALL_STATUSES = (*MISSED_STATUSES, *ANSWERED_STATUSES, *NOT_FINAL_STATUSES)


@pytest.mark.parametrize(("status", "reason"), sorted(MISSED_STATUSES.items()))
def test_missed_statuses_are_missed_with_their_reason_code(status: str, reason: str) -> None:
    assert classify_call(status, 0, None) == Classification(CallOutcome.MISSED, reason)


@pytest.mark.parametrize("status", ANSWERED_STATUSES)
def test_answered_statuses_are_answered_without_reason(status: str) -> None:
    assert classify_call(status, 95, None) == Classification(CallOutcome.ANSWERED, None)


@pytest.mark.parametrize("status", NOT_FINAL_STATUSES)
def test_statuses_of_a_call_still_going_are_not_final(status: str) -> None:
    assert classify_call(status, None, None) == Classification(CallOutcome.NOT_FINAL, None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("NO-ANSWER", Classification(CallOutcome.MISSED, "no_answer")),
        ("  Busy  ", Classification(CallOutcome.MISSED, "busy")),
        ("\tCanceled\n", Classification(CallOutcome.MISSED, "canceled")),
        (" Completed", Classification(CallOutcome.ANSWERED)),
        ("In-Progress ", Classification(CallOutcome.NOT_FINAL)),
    ],
)
def test_case_and_surrounding_spaces_are_ignored(raw: str, expected: Classification) -> None:
    assert classify_call(raw, 30, None) == expected


@pytest.mark.parametrize("status", ["voicemail", "", "   ", "no answer", "no_answer", "complete"])
def test_unknown_status_raises_invalid_input_naming_call_status(status: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        classify_call(status, 12, None)
    assert caught.value.field == "CallStatus"
    assert "CallStatus" in str(caught.value)


def test_short_call_rule_is_off_by_default_a_one_second_call_is_answered() -> None:
    assert classify_call("completed", 1, None).outcome is CallOutcome.ANSWERED


@pytest.mark.parametrize("status", ANSWERED_STATUSES)
def test_answered_call_shorter_than_threshold_is_missed_as_short_call(status: str) -> None:
    assert classify_call(status, 4, 5) == Classification(CallOutcome.MISSED, "short_call")


@pytest.mark.parametrize("duration", [5, 6, 600])
def test_answered_call_at_or_above_threshold_is_answered(duration: int) -> None:
    assert classify_call("completed", duration, 5) == Classification(CallOutcome.ANSWERED)


def test_unknown_duration_with_threshold_counts_as_answered() -> None:
    assert classify_call("completed", None, 10) == Classification(CallOutcome.ANSWERED)


@pytest.mark.parametrize(("status", "reason"), sorted(MISSED_STATUSES.items()))
def test_short_call_rule_never_turns_a_missed_call_into_answered(status: str, reason: str) -> None:
    # A long duration on a missed status (it happens on forwarded lines) must not "answer" it,
    # and a short one keeps the status's own reason rather than "short_call".
    assert classify_call(status, 3600, 5) == Classification(CallOutcome.MISSED, reason)
    assert classify_call(status, 0, 5) == Classification(CallOutcome.MISSED, reason)


@pytest.mark.parametrize("status", NOT_FINAL_STATUSES)
def test_short_call_rule_does_not_finalise_a_ringing_call(status: str) -> None:
    assert classify_call(status, 1, 30).outcome is CallOutcome.NOT_FINAL


@given(
    status=st.sampled_from(ALL_STATUSES),
    duration=st.none() | st.integers(min_value=0, max_value=10_000),
    threshold=st.none() | st.integers(min_value=0, max_value=10_000),
)
def test_missed_iff_missed_status_or_short_answered_call(
    status: str, duration: int | None, threshold: int | None
) -> None:
    result = classify_call(status, duration, threshold)

    is_missed_status = status in MISSED_STATUSES
    is_short_answer = (
        status in ANSWERED_STATUSES
        and threshold is not None
        and duration is not None
        and duration < threshold
    )
    assert (result.outcome is CallOutcome.MISSED) == (is_missed_status or is_short_answer)
    if is_missed_status:
        assert result.reason == MISSED_STATUSES[status]
    elif is_short_answer:
        assert result.reason == "short_call"
    else:
        assert result.reason is None
