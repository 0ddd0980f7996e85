"""Unit tests for the outbox retry policy: capped exponential backoff with full jitter."""

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nmc_domain.shared.retry import RetryPolicy


class FixedSource:
    """A UniformSource that always returns the same draw, to read the ceiling off the delay."""

    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


LARGEST_DRAW = math.nextafter(1.0, 0.0)  # the largest value random() may return


@given(
    base=st.floats(min_value=1e-3, max_value=1e3),
    cap_factor=st.floats(min_value=1.0, max_value=1e6),
    attempts=st.integers(min_value=1, max_value=1024),
    seed=st.integers(min_value=0, max_value=2**32),
)
def test_delay_is_within_zero_and_the_capped_exponential_ceiling(
    base: float, cap_factor: float, attempts: int, seed: int
) -> None:
    policy = RetryPolicy(base_seconds=base, cap_seconds=base * cap_factor, max_attempts=8)
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
    policy = RetryPolicy(base_seconds=base, cap_seconds=base * cap_factor)
    ceiling = min(base * cap_factor, base * 2.0 ** (attempts - 1))

    assert policy.delay(attempts, FixedSource(LARGEST_DRAW)) < ceiling
    assert policy.delay(attempts, FixedSource(0.0)) == 0.0


def test_ceiling_doubles_until_the_cap() -> None:
    policy = RetryPolicy(base_seconds=1.0, cap_seconds=60.0, max_attempts=10)
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


def test_different_seeds_give_different_delays() -> None:
    policy = RetryPolicy()

    delays_42 = [policy.delay(n, random.Random(42)) for n in range(1, 9)]
    delays_7 = [policy.delay(n, random.Random(7)) for n in range(1, 9)]

    assert delays_42 != delays_7


@pytest.mark.parametrize("max_attempts", [1, 3, 8, 25])
def test_gives_up_exactly_at_max_attempts(max_attempts: int) -> None:
    policy = RetryPolicy(max_attempts=max_attempts)

    assert policy.gives_up_after(max_attempts) is True
    assert policy.gives_up_after(max_attempts + 1) is True
    assert policy.gives_up_after(max_attempts - 1) is False


def test_defaults_are_valid() -> None:
    policy = RetryPolicy()

    assert (policy.base_seconds, policy.cap_seconds, policy.max_attempts) == (1.0, 300.0, 8)


def test_cap_equal_to_base_is_allowed_and_the_ceiling_stays_flat() -> None:
    policy = RetryPolicy(base_seconds=5.0, cap_seconds=5.0)

    assert [policy.delay(n, FixedSource(0.5)) for n in (1, 2, 10)] == [2.5, 2.5, 2.5]


@pytest.mark.parametrize(
    ("base", "cap", "max_attempts"),
    [
        pytest.param(0.0, 300.0, 8, id="zero-base"),
        pytest.param(-1.0, 300.0, 8, id="negative-base"),
        pytest.param(10.0, 9.99, 8, id="cap-below-base"),
        pytest.param(1.0, 300.0, 0, id="zero-attempts"),
        pytest.param(1.0, 300.0, -3, id="negative-attempts"),
    ],
)
def test_invalid_policies_are_rejected(base: float, cap: float, max_attempts: int) -> None:
    with pytest.raises(ValueError, match=r"base_seconds|max_attempts"):
        RetryPolicy(base_seconds=base, cap_seconds=cap, max_attempts=max_attempts)


def test_delay_after_very_many_attempts_is_capped_not_an_overflow() -> None:
    policy = RetryPolicy(base_seconds=1.0, cap_seconds=300.0, max_attempts=5000)

    assert 0.0 <= policy.delay(1025, random.Random(42)) < 300.0


@pytest.mark.parametrize(
    ("base", "cap"),
    [pytest.param(math.nan, 300.0, id="nan-base"), pytest.param(1.0, math.nan, id="nan-cap")],
)
def test_nan_settings_are_rejected(base: float, cap: float) -> None:
    with pytest.raises(ValueError, match="base_seconds"):
        RetryPolicy(base_seconds=base, cap_seconds=cap)
