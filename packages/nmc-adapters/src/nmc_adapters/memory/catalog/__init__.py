"""The catalog in memory: service items and quotes."""

from nmc_adapters.memory.catalog.repositories import InMemoryCatalog, InMemoryQuotes
from nmc_adapters.memory.spec import MemoryContext

__all__ = ["CONTEXT", "InMemoryCatalog", "InMemoryQuotes"]

CONTEXT = MemoryContext(
    tables=("catalog_items", "quotes"),
    repositories={
        "catalog": lambda views, _: InMemoryCatalog(views["catalog_items"], views["tenants"]),
        "quotes": lambda views, _: InMemoryQuotes(views["quotes"], views["catalog_items"]),
    },
)
