"""Retry policy for outbox deliveries: exponential backoff with full jitter."""

from __future__ import annotations

from typing import Protocol

import attrs

__all__ = ["RetryPolicy", "UniformSource"]


class UniformSource(Protocol):
    """Anything with `random()` in [0, 1): `random.Random(seed)` makes tests deterministic."""

    def random(self) -> float: ...


@attrs.frozen
class RetryPolicy:
    """After a failed attempt wait a random time in [0, min(cap, base * 2**n)); give up at max."""

    base_seconds: float = 1.0
    cap_seconds: float = 300.0
    max_attempts: int = 8

    def __attrs_post_init__(self) -> None:
        if not 0 < self.base_seconds <= self.cap_seconds:  # also refuses NaN
            raise ValueError("need 0 < base_seconds <= cap_seconds")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def gives_up_after(self, attempts: int) -> bool:
        """True when `attempts` failed attempts exhaust the budget (dead-letter the row)."""
        return attempts >= self.max_attempts

    def delay(self, attempts: int, rng: UniformSource) -> float:
        """Seconds to wait after the `attempts`-th failure (attempts >= 1)."""
        # Past ~60 doublings any base exceeds any sane cap; stop there (2.0 ** 1024 overflows).
        doublings = min(max(attempts - 1, 0), 64)
        ceiling: float = min(self.cap_seconds, self.base_seconds * 2.0**doublings)
        return rng.random() * ceiling
