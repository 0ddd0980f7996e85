"""Percentiles (PostgreSQL's percentile_cont, exactly), fixed buckets, and their merge."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

__all__ = [
    "BUCKET_BOUNDS",
    "bucket_counts",
    "bucket_percentile",
    "merge_buckets",
    "percentile_cont",
]

# Upper bounds (seconds, inclusive) of the latency buckets; the last one is open.
BUCKET_BOUNDS: tuple[float, ...] = (
    1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600, math.inf,
)  # fmt: skip


def percentile_cont(values: Iterable[float], q: float) -> float | None:
    """The q-quantile with linear interpolation between the closest ranks (None for no values),
    as `percentile_cont(q) WITHIN GROUP (ORDER BY v)` computes it."""
    if not 0.0 <= q <= 1.0:
        raise ValueError("q must be within [0, 1]")
    ordered = sorted(values)
    if not ordered:
        return None
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = math.ceil(position)
    if low == high:
        return float(ordered[low])
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def bucket_counts(values: Iterable[float]) -> tuple[int, ...]:
    """How many values fall in each bucket (`bound[i-1] < v <= bound[i]`)."""
    counts = [0] * len(BUCKET_BOUNDS)
    for value in values:
        counts[next(i for i, bound in enumerate(BUCKET_BOUNDS) if value <= bound)] += 1
    return tuple(counts)


def merge_buckets(many: Iterable[Sequence[int]]) -> tuple[int, ...]:
    """Bucket counts added up (rows without buckets count as none)."""
    merged = [0] * len(BUCKET_BOUNDS)
    for counts in many:
        for i, count in enumerate(counts):
            merged[i] += count
    return tuple(merged)


def bucket_percentile(counts: Sequence[int], q: float) -> float | None:
    """The q-quantile read off merged buckets, at their resolution: the upper bound of the
    bucket holding the value of rank ceil(q * n) (at least 1), so never below the exact value;
    in the open last bucket, its lower bound (3600 reads "an hour or more"). None if empty."""
    total = sum(counts)
    if total == 0:
        return None
    rank = max(1, math.ceil(q * total))
    seen = 0
    for i, count in enumerate(counts):
        seen += count
        if seen >= rank:
            bound = BUCKET_BOUNDS[i]
            return BUCKET_BOUNDS[i - 1] if math.isinf(bound) else bound
    raise AssertionError("unreachable: rank <= total")  # pragma: no cover
