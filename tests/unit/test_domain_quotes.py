"""Unit tests for quotes: a snapshot of price, currency and duration, or 404 / 410."""

from uuid import UUID

import attrs
import pytest

from nmc_domain.catalog.model import ServiceItem, change_service_item, new_service_item
from nmc_domain.catalog.quotes import Quote, quote_for
from nmc_domain.shared.errors import Gone, NotFound

ACME_ID = UUID("0b5e4a0e-7c1d-4f55-9f4e-ac3e00000001")
FLUSH_ID = UUID("5e41ce00-0000-4000-8000-000000000001")
UNKNOWN_ID = UUID("5e41ce00-0000-4000-8000-0000000000ff")


def _flush(**changes: object) -> ServiceItem:
    item = new_service_item(
        tenant_id=ACME_ID,
        name="Water heater flush",
        aliases=["tank flush", "water heater"],
        price_cents=18_900,
        currency="cad",
        duration_minutes=90,
        item_id=FLUSH_ID,
    )
    return change_service_item(item, **changes)


def test_quote_is_the_items_price_currency_and_duration() -> None:
    assert quote_for(_flush(), FLUSH_ID) == Quote(
        item_id=FLUSH_ID, price_cents=18_900, currency="CAD", duration_minutes=90
    )


def test_a_free_item_is_quoted_at_zero() -> None:
    assert quote_for(_flush(price_cents=0), FLUSH_ID).price_cents == 0


def test_unknown_item_is_not_found() -> None:
    with pytest.raises(NotFound) as caught:
        quote_for(None, UNKNOWN_ID)

    assert (caught.value.what, caught.value.key) == ("catalog item", UNKNOWN_ID)


def test_inactive_item_is_gone() -> None:
    with pytest.raises(Gone) as caught:
        quote_for(_flush(active=False), FLUSH_ID)

    assert (caught.value.what, caught.value.key) == ("catalog item", FLUSH_ID)


def test_a_reactivated_item_can_be_quoted_again() -> None:
    item = change_service_item(_flush(active=False), active=True)

    assert quote_for(item, FLUSH_ID).price_cents == 18_900


def test_a_later_change_of_the_item_leaves_the_quote_alone() -> None:
    item = _flush()
    quote = quote_for(item, FLUSH_ID)

    repriced = change_service_item(item, price_cents=24_900, currency="usd", duration_minutes=120)

    assert quote == Quote(item_id=FLUSH_ID, price_cents=18_900, currency="CAD", duration_minutes=90)
    assert quote_for(repriced, FLUSH_ID) == Quote(
        item_id=FLUSH_ID, price_cents=24_900, currency="USD", duration_minutes=120
    )


def test_a_quote_cannot_be_edited_in_place() -> None:
    quote = quote_for(_flush(), FLUSH_ID)

    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        quote.price_cents = 1  # type: ignore[misc]
