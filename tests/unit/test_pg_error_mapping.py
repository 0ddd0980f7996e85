"""Which driver errors the PostgreSQL unit of work reads as contention (TryAgain) or as an
outage (StorageUnavailable): by SQLSTATE, as the server reports them."""

from __future__ import annotations

import psycopg
import pytest

from nmc_adapters.postgres.uow import _is_contention, _is_outage


@pytest.mark.parametrize(
    "error",
    [
        psycopg.errors.DeadlockDetected(),
        psycopg.errors.SerializationFailure(),
        psycopg.errors.LockNotAvailable(),
        psycopg.errors.QueryCanceled(),
    ],
)
def test_deadlocks_serialization_failures_and_timeouts_are_contention(error: Exception) -> None:
    assert _is_contention(error)
    assert not _is_outage(error)


@pytest.mark.parametrize(
    "error",
    [psycopg.errors.ProgramLimitExceeded(), psycopg.errors.UniqueViolation(), ValueError()],
)
def test_bad_values_and_our_bugs_are_neither(error: Exception) -> None:
    assert not _is_contention(error)
    assert not _is_outage(error)


def test_a_lost_connection_is_an_outage() -> None:
    assert _is_outage(psycopg.OperationalError("server closed the connection unexpectedly"))
    assert _is_outage(psycopg.errors.AdminShutdown())
    assert not _is_contention(psycopg.OperationalError("connection refused"))
