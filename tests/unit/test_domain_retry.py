"""Unit tests for the outbox retry policy: capped exponential backoff with full jitter, and a
retry budget measured in time (the row's age), not in attempts."""

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nmc_domain.compliance.events import ComplianceStatusChanged
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.shared.retry import RetryPolicies, RetryPolicy


class FixedSource:
    """A UniformSource that always returns the same draw, to read the ceiling off the delay."""

    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


LARGEST_DRAW = math.nextafter(1.0, 0.0)  # the largest value random() may return
SIX_HOURS = 21600.0


@given(
    base=st.floats(min_value=1e-3, max_value=1e3),
    cap_factor=st.floats(min_value=1.0, max_value=1e6),
    attempts=st.integers(min_value=1, max_value=1024),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_delay_is_within_zero_and_the_capped_exponential_ceiling(
    base: float, cap_factor: float, attempts: int, seed: int
) -> None:
    # A budget far beyond any ceiling: the clamp to the give-up moment plays no part here.
    policy = RetryPolicy(base_seconds=base, cap_seconds=base * cap_factor, give_up_seconds=1e12)
    ceiling = min(base * cap_factor, base * 2.0 ** (attempts - 1))

    delay = policy.delay(attempts, random.Random(seed))

    assert 0.0 <= delay < ceiling


@given(
    base=st.floats(min_value=1e-3, max_value=1e3),
    cap_factor=st.floats(min_value=1.0, max_value=1e6),
    attempts=st.integers(min_value=1, max_value=1024),
)
def test_even_the_largest_draw_stays_below_the_ceiling(
    base: float, cap_factor: float, attempts: int
) -> None:
    policy = RetryPolicy(base_seconds=base, cap_seconds=base * cap_factor, give_up_seconds=1e12)
    ceiling = min(base * cap_factor, base * 2.0 ** (attempts - 1))

    assert policy.delay(attempts, FixedSource(LARGEST_DRAW)) < ceiling
    assert policy.delay(attempts, FixedSource(0.0)) == 0.0


@given(
    give_up=st.floats(min_value=1.0, max_value=1e6),
    age_fraction=st.floats(min_value=0.0, max_value=2.0),
    attempts=st.integers(min_value=1, max_value=64),
    draw=st.floats(min_value=0.0, max_value=LARGEST_DRAW),
)
def test_a_retry_never_lands_after_the_give_up_moment(
    give_up: float, age_fraction: float, attempts: int, draw: float
) -> None:
    policy = RetryPolicy(base_seconds=1.0, cap_seconds=300.0, give_up_seconds=give_up)
    age = give_up * age_fraction

    delay = policy.delay(attempts, FixedSource(draw), age_seconds=age)

    assert delay >= 0.0
    assert delay <= max(0.0, give_up - age)


def test_ceiling_doubles_until_the_cap() -> None:
    policy = RetryPolicy(base_seconds=1.0, cap_seconds=60.0)
    half = FixedSource(0.5)

    ceilings = [2 * policy.delay(n, half) for n in range(1, 10)]

    assert ceilings == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0, 60.0]


def test_same_seed_gives_the_same_delays() -> None:
    policy_a = RetryPolicy(base_seconds=2.0, cap_seconds=300.0)
    policy_b = RetryPolicy(base_seconds=2.0, cap_seconds=300.0)
    rng_a, rng_b = random.Random(42), random.Random(42)

    delays_a = [policy_a.delay(n, rng_a) for n in range(1, 9)]
    delays_b = [policy_b.delay(n, rng_b) for n in range(1, 9)]

    assert delays_a == delays_b
    assert len(set(delays_a)) == len(delays_a)  # jittered: not one constant value


def test_seeded_delays_are_the_draws_times_the_literal_ceilings() -> None:
    policy = RetryPolicy(base_seconds=2.0, cap_seconds=300.0)
    draws = random.Random(42)
    expected = [draws.random() * ceiling for ceiling in (2.0, 4.0, 8.0, 16.0, 32.0)]

    rng = random.Random(42)
    assert [policy.delay(n, rng) for n in range(1, 6)] == expected


def test_different_seeds_give_different_delays() -> None:
    policy = RetryPolicy()

    delays_42 = [policy.delay(n, random.Random(42)) for n in range(1, 9)]
    delays_7 = [policy.delay(n, random.Random(7)) for n in range(1, 9)]

    assert delays_42 != delays_7


# --- the budget is time ------------------------------------------------------------------------


@pytest.mark.parametrize("give_up", [1.0, 600.0, SIX_HOURS, 86400.0])
def test_gives_up_once_the_row_is_as_old_as_the_budget(give_up: float) -> None:
    policy = RetryPolicy(give_up_seconds=give_up)

    assert policy.gives_up(give_up) is True
    assert policy.gives_up(give_up + 0.001) is True
    assert policy.gives_up(give_up * 10) is True
    assert policy.gives_up(give_up - 0.001) is False
    assert policy.gives_up(0.0) is False


def test_the_number_of_attempts_plays_no_part_in_giving_up() -> None:
    # Eight quick failures used to kill a row after about two minutes; now only age counts.
    policy = RetryPolicy(base_seconds=1.0, cap_seconds=300.0, give_up_seconds=SIX_HOURS)

    assert policy.gives_up(120.0) is False
    assert policy.gives_up(5 * 3600.0) is False
    assert policy.gives_up(SIX_HOURS) is True


def test_defaults_are_one_second_five_minutes_six_hours_and_five_reclaims() -> None:
    policy = RetryPolicy()

    assert (
        policy.base_seconds,
        policy.cap_seconds,
        policy.give_up_seconds,
        policy.max_reclaims,
    ) == (1.0, 300.0, 21600.0, 5)


@pytest.mark.parametrize(
    ("age", "reclaims", "expected"),
    [
        pytest.param(0.0, 1, False, id="young-reclaimed-once"),
        pytest.param(3599.0, 2, False, id="under-both-limits"),
        pytest.param(3600.0, 1, True, id="budget-spent"),
        pytest.param(10.0, 3, True, id="too-many-lapsed-claims"),
        pytest.param(10.0, 7, True, id="far-too-many"),
    ],
)
def test_a_reclaimed_row_is_given_up_on_by_age_or_by_lapsed_claims(
    age: float, reclaims: int, expected: bool
) -> None:
    policy = RetryPolicy(give_up_seconds=3600.0, max_reclaims=3)

    assert policy.gives_up_on_reclaim(age, reclaims) is expected


@pytest.mark.parametrize("max_reclaims", [0, -1])
def test_max_reclaims_below_one_is_rejected(max_reclaims: int) -> None:
    with pytest.raises(ValueError, match="max_reclaims"):
        RetryPolicy(max_reclaims=max_reclaims)


@pytest.mark.parametrize(
    ("age", "expected"),
    [
        pytest.param(0.0, 150.0, id="young-row-full-draw"),
        pytest.param(3400.0, 150.0, id="draw-still-fits"),
        pytest.param(3500.0, 100.0, id="clamped-to-the-deadline"),
        pytest.param(3599.5, 0.5, id="half-a-second-left"),
        pytest.param(3600.0, 0.0, id="at-the-deadline"),
        pytest.param(4000.0, 0.0, id="past-the-deadline-never-negative"),
    ],
)
def test_delay_is_clamped_so_the_last_try_happens_at_the_give_up_moment(
    age: float, expected: float
) -> None:
    policy = RetryPolicy(base_seconds=1.0, cap_seconds=300.0, give_up_seconds=3600.0)

    # Attempt 20: the ceiling is the 300 s cap; a draw of 0.5 asks for 150 s.
    assert policy.delay(20, FixedSource(0.5), age_seconds=age) == expected


def test_delay_without_an_age_treats_the_row_as_new() -> None:
    policy = RetryPolicy(base_seconds=1.0, cap_seconds=300.0, give_up_seconds=100.0)

    # 0.5 * 300 = 150 s would land after the 100 s budget of a brand-new row.
    assert policy.delay(20, FixedSource(0.5)) == 100.0
    assert policy.delay(3, FixedSource(0.5)) == 2.0


def test_cap_equal_to_base_is_allowed_and_the_ceiling_stays_flat() -> None:
    policy = RetryPolicy(base_seconds=5.0, cap_seconds=5.0)

    assert [policy.delay(n, FixedSource(0.5)) for n in (1, 2, 10)] == [2.5, 2.5, 2.5]


@pytest.mark.parametrize(
    ("base", "cap"),
    [
        pytest.param(0.0, 300.0, id="zero-base"),
        pytest.param(-1.0, 300.0, id="negative-base"),
        pytest.param(10.0, 9.99, id="cap-below-base"),
    ],
)
def test_invalid_backoffs_are_rejected(base: float, cap: float) -> None:
    with pytest.raises(ValueError, match="base_seconds"):
        RetryPolicy(base_seconds=base, cap_seconds=cap)


@pytest.mark.parametrize(
    "give_up",
    [
        pytest.param(0.0, id="zero"),
        pytest.param(-1.0, id="negative"),
        pytest.param(-math.inf, id="minus-infinity"),
        pytest.param(math.inf, id="infinity"),
        pytest.param(math.nan, id="nan"),
    ],
)
def test_invalid_give_up_budgets_are_rejected(give_up: float) -> None:
    with pytest.raises(ValueError, match="give_up_seconds"):
        RetryPolicy(give_up_seconds=give_up)


def test_a_tiny_positive_budget_is_allowed() -> None:
    policy = RetryPolicy(give_up_seconds=0.001)

    assert policy.gives_up(0.001) is True
    assert policy.gives_up(0.0) is False


def test_delay_after_very_many_attempts_is_capped_not_an_overflow() -> None:
    policy = RetryPolicy(base_seconds=1.0, cap_seconds=300.0)

    assert 0.0 <= policy.delay(1025, random.Random(42)) < 300.0


@pytest.mark.parametrize(
    ("base", "cap"),
    [pytest.param(math.nan, 300.0, id="nan-base"), pytest.param(1.0, math.nan, id="nan-cap")],
)
def test_nan_settings_are_rejected(base: float, cap: float) -> None:
    with pytest.raises(ValueError, match="base_seconds"):
        RetryPolicy(base_seconds=base, cap_seconds=cap)


# --- one policy per event type -----------------------------------------------------------------


def test_policies_give_each_event_type_its_own_and_the_rest_the_default() -> None:
    default = RetryPolicy(base_seconds=1.0, cap_seconds=300.0, give_up_seconds=86400.0)
    sms = RetryPolicy(base_seconds=1.0, cap_seconds=300.0, give_up_seconds=SIX_HOURS)
    policies = RetryPolicies(default=default, by_event={MessageQueued: sms})

    assert policies.of(MessageQueued) is sms
    assert policies.of(ComplianceStatusChanged) is default
    assert policies.of(None) is default  # a payload this version cannot read


def test_policies_without_entries_use_the_default_for_everything() -> None:
    policies = RetryPolicies()

    assert policies.of(MessageQueued) == RetryPolicy()
    assert policies.of(None) == RetryPolicy()
    assert policies.of(MessageQueued).give_up_seconds == 21600.0
