"""Unit tests for outbound message status: provider mapping and the one-way status ladder."""

import random
from datetime import UTC, datetime
from functools import reduce
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nmc_domain.messaging.model import (
    MessageStatus,
    OutboundMessage,
    advance_status,
    parse_provider_status,
)

S = MessageStatus
# The ladder as DESIGN.md states it, written out here rather than read from the module.
RANK = {
    S.HELD: 0,
    S.QUEUED: 1,
    S.NEEDS_REVIEW: 1,  # ours: maybe out, set aside for a person; on queued's rung
    S.SENDING: 2,
    S.SENT: 3,
    S.DELIVERED: 4,
    S.UNDELIVERED: 4,
    S.FAILED: 4,
    S.CANCELED: 4,  # ours: never left (the recipient opted out first)
}
FINALS = frozenset({S.DELIVERED, S.UNDELIVERED, S.FAILED, S.CANCELED})
# Never a provider's report, and on queued's rung: "highest" would not name one status.
NON_FINALS = tuple(s for s in S if s not in FINALS and s is not S.NEEDS_REVIEW)


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        ("accepted", S.QUEUED),
        ("scheduled", S.QUEUED),
        ("queued", S.QUEUED),
        ("sending", S.SENDING),
        ("sent", S.SENT),
        ("delivered", S.DELIVERED),
        ("read", S.DELIVERED),
        ("undelivered", S.UNDELIVERED),
        ("failed", S.FAILED),
        ("canceled", S.FAILED),
    ],
)
def test_provider_status_maps_onto_ours(provider: str, expected: MessageStatus) -> None:
    assert parse_provider_status(provider) is expected


@pytest.mark.parametrize(
    ("provider", "expected"),
    [(" Delivered ", S.DELIVERED), ("SENT", S.SENT), ("\tUndelivered\n", S.UNDELIVERED)],
)
def test_provider_status_ignores_case_and_spaces(provider: str, expected: MessageStatus) -> None:
    assert parse_provider_status(provider) is expected


@pytest.mark.parametrize("provider", ["receiving", "received", "held", "", "deliverd", "partially"])
def test_unknown_provider_status_is_none(provider: str) -> None:
    assert parse_provider_status(provider) is None


@pytest.mark.parametrize(
    ("current", "reported"),
    [
        (S.HELD, S.QUEUED),
        (S.QUEUED, S.SENDING),
        (S.QUEUED, S.SENT),
        (S.SENDING, S.SENT),
        (S.SENT, S.DELIVERED),
        (S.SENT, S.UNDELIVERED),
        (S.QUEUED, S.FAILED),
        (S.HELD, S.DELIVERED),
    ],
)
def test_forward_report_wins(current: MessageStatus, reported: MessageStatus) -> None:
    assert advance_status(current, reported) is reported


@pytest.mark.parametrize(
    ("current", "reported"),
    [
        (S.SENT, S.SENDING),
        (S.SENT, S.QUEUED),
        (S.SENDING, S.QUEUED),
        (S.QUEUED, S.HELD),
        (S.SENT, S.SENT),
        (S.QUEUED, S.QUEUED),
    ],
)
def test_backward_or_duplicate_report_changes_nothing(
    current: MessageStatus, reported: MessageStatus
) -> None:
    assert advance_status(current, reported) is current


@pytest.mark.parametrize("final", sorted(FINALS))
@pytest.mark.parametrize("reported", list(S))
def test_final_status_never_changes(final: MessageStatus, reported: MessageStatus) -> None:
    assert advance_status(final, reported) is final


def test_late_sent_after_delivered_keeps_delivered() -> None:
    # Twilio's usual out-of-order case: "delivered" overtakes "sent" on the wire.
    status = reduce(advance_status, [S.DELIVERED, S.SENT, S.SENDING, S.QUEUED], S.QUEUED)

    assert status is S.DELIVERED


def _trail(start: MessageStatus, reports: list[MessageStatus]) -> list[MessageStatus]:
    """Every status the message passes through, starting with `start`."""
    trail = [start]
    for reported in reports:
        trail.append(advance_status(trail[-1], reported))
    return trail


_statuses = st.sampled_from(list(S))
_reports = st.lists(_statuses, max_size=20)


@given(start=_statuses, reports=_reports)
def test_rank_never_decreases_along_any_sequence(
    start: MessageStatus, reports: list[MessageStatus]
) -> None:
    ranks = [RANK[s] for s in _trail(start, reports)]

    assert ranks == sorted(ranks)


@given(start=_statuses, reports=_reports)
def test_each_result_is_the_current_or_the_reported_status(
    start: MessageStatus, reports: list[MessageStatus]
) -> None:
    trail = _trail(start, reports)

    for before, reported, after in zip(trail[:-1], reports, trail[1:], strict=True):
        assert after in (before, reported)


@given(current=_statuses, reported=_statuses)
def test_applying_a_report_twice_equals_applying_it_once(
    current: MessageStatus, reported: MessageStatus
) -> None:
    once = advance_status(current, reported)

    assert advance_status(once, reported) is once


@given(start=_statuses, reports=_reports)
def test_duplicating_every_report_changes_nothing(
    start: MessageStatus, reports: list[MessageStatus]
) -> None:
    doubled = [r for r in reports for _ in range(2)]

    assert reduce(advance_status, doubled, start) is reduce(advance_status, reports, start)


@given(
    start=st.sampled_from(NON_FINALS),
    non_finals=st.lists(st.sampled_from(NON_FINALS), max_size=15),
    final=st.none() | st.sampled_from(sorted(FINALS)),
    final_copies=st.integers(min_value=1, max_value=3),
    shuffler=st.randoms(use_true_random=False),
)
def test_with_at_most_one_final_the_result_is_the_highest_status_in_any_order(
    start: MessageStatus,
    non_finals: list[MessageStatus],
    final: MessageStatus | None,
    final_copies: int,
    shuffler: random.Random,
) -> None:
    reports = non_finals + ([final] * final_copies if final is not None else [])
    shuffled = list(reports)
    shuffler.shuffle(shuffled)

    # Non-final ranks are distinct, so with one final kind "highest" names a single status.
    highest = max([start, *reports], key=RANK.__getitem__)
    assert reduce(advance_status, reports, start) is highest
    assert reduce(advance_status, shuffled, start) is highest


@given(start=_statuses, reports=_reports)
def test_once_final_the_status_never_changes_again(
    start: MessageStatus, reports: list[MessageStatus]
) -> None:
    trail = _trail(start, reports)
    first_final = next((i for i, s in enumerate(trail) if s in FINALS), None)

    if first_final is not None:
        assert set(trail[first_final:]) == {trail[first_final]}


@given(
    start=st.sampled_from(NON_FINALS),
    reports=st.lists(st.sampled_from(sorted(FINALS)), min_size=1),
)
def test_between_two_different_finals_the_first_reported_wins(
    start: MessageStatus, reports: list[MessageStatus]
) -> None:
    assert reduce(advance_status, reports, start) is reports[0]


def test_queue_builds_a_queued_message_stamped_with_now() -> None:
    tenant_id = UUID("0b5e4a0e-7c1d-4f55-9f4e-ac3e00000001")
    now = datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)

    first = OutboundMessage.queue(
        tenant_id=tenant_id,
        conversation_id=None,
        to="+15005550006",
        from_="+18005551212",
        body="Hi, this is ACME-PLUMBING. Sorry we missed your call!",
        now=now,
    )
    second = OutboundMessage.queue(
        tenant_id=tenant_id,
        conversation_id=None,
        to="+15005550006",
        from_="+18005551212",
        body="Still there? ACME-PLUMBING can come out today.",
        now=now,
    )

    assert first.status is S.QUEUED
    assert first.created_at == now
    assert first.tenant_id == tenant_id
    assert (first.to, first.from_) == ("+15005550006", "+18005551212")
    assert first.provider_sid is None
    assert first.send_attempted_at is None
    assert first.id != second.id


def test_a_message_set_aside_for_review_moves_on_with_a_later_report_only() -> None:
    assert advance_status(S.NEEDS_REVIEW, S.QUEUED) is S.NEEDS_REVIEW
    assert advance_status(S.NEEDS_REVIEW, S.SENT) is S.SENT
    assert advance_status(S.NEEDS_REVIEW, S.DELIVERED) is S.DELIVERED
