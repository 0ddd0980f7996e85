"""Contract suites: every test takes `backend` and so runs on the fakes and on PostgreSQL."""

from __future__ import annotations

import pytest

from tests.contract.backends import BACKENDS, Backend, memory_backend, postgres_backend


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    """A fresh in-memory store per test, or the module's PostgreSQL database (shared: tests
    use fresh tenants, numbers and ids, and only assert on what they created)."""
    if request.param == "memory":
        return memory_backend()
    # Looked up lazily, so running only the memory variants needs no PostgreSQL.
    return postgres_backend(
        request.getfixturevalue("engine"), request.getfixturevalue("admin_engine")
    )
