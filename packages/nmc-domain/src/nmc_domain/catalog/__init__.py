"""The catalog: service items, matching a caller's words to them, quotes, money."""

from nmc_domain.catalog.currency import ISO_4217, check_currency
from nmc_domain.catalog.events import CatalogUpdated
from nmc_domain.catalog.matching import Match, match_items, normalise
from nmc_domain.catalog.model import (
    MAX_ALIASES,
    ServiceItem,
    change_service_item,
    name_key,
    new_service_item,
)
from nmc_domain.catalog.ports import CatalogRepository, CatalogUnitOfWork, QuoteRepository
from nmc_domain.catalog.quotes import Quote, quote_for
from nmc_domain.catalog.use_cases import (
    NewItem,
    create_item,
    get_item,
    list_items,
    match_catalog,
    quote_item,
    update_item,
)

__all__ = [
    "ISO_4217",
    "MAX_ALIASES",
    "CatalogRepository",
    "CatalogUnitOfWork",
    "CatalogUpdated",
    "Match",
    "NewItem",
    "Quote",
    "QuoteRepository",
    "ServiceItem",
    "change_service_item",
    "check_currency",
    "create_item",
    "get_item",
    "list_items",
    "match_catalog",
    "match_items",
    "name_key",
    "new_service_item",
    "normalise",
    "quote_for",
    "quote_item",
    "update_item",
]
