"""Each backend's unit of work carries exactly what the domain's ports declare.

The domain lists a context's repositories once (its UnitOfWork protocol); each backend
registers them once per context. This holds the two to each other: a repository declared
but not registered, or registered under a name no port declares, fails here. A port may also
declare a plain value (how billing is enforced here): a declared attribute whose type is not a
protocol. Values are not registered; each unit of work is given them when it is made (a
keyword with a default), and carries them.
"""

from __future__ import annotations

import inspect
import typing

import pytest

from nmc_adapters.memory import InMemoryUnitOfWork
from nmc_adapters.memory.contexts import repositories as memory_repositories
from nmc_adapters.postgres import PgUnitOfWork
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


def declared_types() -> dict[str, object]:
    return typing.get_type_hints(UnitOfWork)


def declared_repositories() -> set[str]:
    """The declared attributes typed by a protocol: what a backend builds on its transaction."""
    hints = declared_types()
    return {
        name
        for name in declared_attributes()
        if getattr(hints[name], "_is_protocol", False) is True
    }


def declared_values() -> set[str]:
    """The declared attributes of a plain type: given to the unit of work when it is made."""
    return declared_attributes() - declared_repositories()


def test_the_ports_declare_repositories_of_every_context() -> None:
    declared = declared_repositories()
    # A few from the bottom and the top of the context order: the chain is really walked.
    assert {"outbox", "webhooks", "users", "tenants", "bookings", "calls", "subscriptions"} <= (
        declared
    )
    assert set(typing.get_type_hints(CoreUnitOfWork)) <= declared


def test_the_ports_declare_the_billing_terms_as_a_value() -> None:
    assert declared_values() == {"billing_terms"}


def test_postgres_registers_exactly_the_declared_repositories() -> None:
    assert set(postgres_repositories()) == declared_repositories()


def test_memory_registers_exactly_the_declared_repositories() -> None:
    assert set(memory_repositories()) == declared_repositories()


@pytest.mark.parametrize("uow_class", [PgUnitOfWork, InMemoryUnitOfWork])
def test_each_unit_of_work_is_given_every_declared_value_with_a_default(
    uow_class: type,
) -> None:
    parameters = inspect.signature(uow_class).parameters
    given = {
        name
        for name in declared_values()
        if name in parameters
        and parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
        and parameters[name].default is not inspect.Parameter.empty
    }
    assert given == declared_values()


async def test_an_open_unit_of_work_has_every_declared_repository(backend: Backend) -> None:
    async with backend.new_uow() as uow:
        missing = [name for name in declared_attributes() if not hasattr(uow, name)]
    assert missing == []


async def test_an_open_unit_of_work_holds_each_value_of_its_declared_type(
    backend: Backend,
) -> None:
    hints = declared_types()
    async with backend.new_uow() as uow:
        wrong = {
            name: type(getattr(uow, name)).__name__
            for name in declared_values()
            if not isinstance(getattr(uow, name), typing.cast(type, hints[name]))
        }
    assert wrong == {}
