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
        if self.base_seconds <= 0 or self.cap_seconds < self.base_seconds:
            raise ValueError("need 0 < base_seconds <= cap_seconds")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")

    def gives_up_after(self, attempts: int) -> bool:
        """True when `attempts` failed attempts exhaust the budget (dead-letter the row)."""
        return attempts >= self.max_attempts

    def delay(self, attempts: int, rng: UniformSource) -> float:
        """Seconds to wait after the `attempts`-th failure (attempts >= 1)."""
        ceiling: float = min(self.cap_seconds, self.base_seconds * 2.0 ** max(attempts - 1, 0))
        return rng.random() * ceiling
