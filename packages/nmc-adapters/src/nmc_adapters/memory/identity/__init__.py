"""Identity in memory: users."""

from nmc_adapters.memory.identity.repositories import InMemoryUsers
from nmc_adapters.memory.spec import MemoryContext

__all__ = ["CONTEXT", "InMemoryUsers"]

CONTEXT = MemoryContext(
    tables=("users",),
    repositories={"users": lambda views, _: InMemoryUsers(views["users"], views["tenants"])},
)
