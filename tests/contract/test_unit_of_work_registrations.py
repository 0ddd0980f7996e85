"""Each backend's unit of work carries exactly the repositories the domain's ports declare.

The domain lists a context's repositories once (its UnitOfWork protocol); each backend
registers them once per context. This holds the two to each other: a repository declared
but not registered, or registered under a name no port declares, fails here.
"""

from __future__ import annotations

import typing

from nmc_adapters.memory.contexts import repositories as memory_repositories
from nmc_adapters.postgres.contexts import repositories as postgres_repositories
from nmc_domain.shared.ports import UnitOfWork as CoreUnitOfWork
from nmc_domain.unit_of_work import UnitOfWork
from tests.contract.backends import Backend


def declared_attributes() -> set[str]:
    """Every attribute (not method) the top UnitOfWork protocol and its bases annotate."""
    names: set[str] = set()
    for cls in UnitOfWork.__mro__:
        if getattr(cls, "_is_protocol", False):
            names |= set(getattr(cls, "__annotations__", {}))
    return names


def test_the_ports_declare_repositories_of_every_context() -> None:
    declared = declared_attributes()
    # A few from the bottom and the top of the context order: the chain is really walked.
    assert {"outbox", "webhooks", "users", "tenants", "bookings", "calls"} <= declared
    assert set(typing.get_type_hints(CoreUnitOfWork)) <= declared


def test_postgres_registers_exactly_the_declared_repositories() -> None:
    assert set(postgres_repositories()) == declared_attributes()


def test_memory_registers_exactly_the_declared_repositories() -> None:
    assert set(memory_repositories()) == declared_attributes()


async def test_an_open_unit_of_work_has_every_declared_repository(backend: Backend) -> None:
    async with backend.new_uow() as uow:
        missing = [name for name in declared_attributes() if not hasattr(uow, name)]
    assert missing == []
