"""Retry policy for outbox deliveries: exponential backoff with full jitter, a budget in time."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Protocol

import attrs

from nmc_domain.shared.events import DomainEvent

__all__ = ["RetryPolicies", "RetryPolicy", "UniformSource"]


class UniformSource(Protocol):
    """Anything with `random()` in [0, 1): `random.Random(seed)` makes tests deterministic."""

    def random(self) -> float: ...


@attrs.frozen
class RetryPolicy:
    """After the n-th failed attempt wait a random time in [0, min(cap, base * 2**(n-1)));
    give up once the row is `give_up_seconds` old (counted from when it was written).

    The budget is time, not a count: an outage of an hour is ridden out whatever the backoff
    drew. A retry is never set later than the give-up moment, so the last try happens at it.
    """

    base_seconds: float = 1.0
    cap_seconds: float = 300.0
    give_up_seconds: float = 6 * 3600.0
    # A row whose claims lapsed this many times (it killed or hung its worker each time) is
    # buried at once instead of taking workers down until its time runs out.
    max_reclaims: int = 5

    def __attrs_post_init__(self) -> None:
        if not 0 < self.base_seconds <= self.cap_seconds:  # also refuses NaN
            raise ValueError("need 0 < base_seconds <= cap_seconds")
        if not 0 < self.give_up_seconds < math.inf:
            raise ValueError("give_up_seconds must be positive and finite")
        if self.max_reclaims < 1:
            raise ValueError("max_reclaims must be at least 1")

    def gives_up(self, age_seconds: float) -> bool:
        """True when a row this old (seconds since written) has used up its budget."""
        return age_seconds >= self.give_up_seconds

    def gives_up_on_reclaim(self, age_seconds: float, reclaims: int) -> bool:
        """True when a row claimed again after its worker died should not run again."""
        return self.gives_up(age_seconds) or reclaims >= self.max_reclaims

    def delay(self, attempts: int, rng: UniformSource, *, age_seconds: float = 0.0) -> float:
        """Seconds to wait after the `attempts`-th failure (attempts >= 1) of a row this old."""
        # Past ~60 doublings any base exceeds any sane cap; stop there (2.0 ** 1024 overflows).
        doublings = min(max(attempts - 1, 0), 64)
        ceiling: float = min(self.cap_seconds, self.base_seconds * 2.0**doublings)
        return max(0.0, min(rng.random() * ceiling, self.give_up_seconds - age_seconds))


@attrs.frozen
class RetryPolicies:
    """Each event type's policy; the rest use `default`."""

    default: RetryPolicy = RetryPolicy()
    by_event: Mapping[type[DomainEvent], RetryPolicy] = attrs.field(factory=dict)

    def of(self, event: type[DomainEvent] | None) -> RetryPolicy:
        return self.default if event is None else self.by_event.get(event, self.default)
