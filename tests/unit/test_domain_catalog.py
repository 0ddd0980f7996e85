"""Unit tests for the service catalog: validation of new items, PATCH changes, and currencies."""

import string
from typing import Any
from uuid import UUID

import pytest

from nmc_domain.catalog.currency import ISO_4217, check_currency
from nmc_domain.catalog.model import (
    MAX_ALIASES,
    ServiceItem,
    change_service_item,
    name_key,
    new_service_item,
)
from nmc_domain.shared.errors import InvalidInput

ACME_ID = UUID("0b5e4a0e-7c1d-4f55-9f4e-ac3e00000001")
FLUSH_ID = UUID("5e41ce00-0000-4000-8000-000000000001")


def _flush(**overrides: Any) -> ServiceItem:
    fields: dict[str, Any] = {
        "tenant_id": ACME_ID,
        "name": "Water heater flush",
        "aliases": ["tank flush", "water heater"],
        "price_cents": 18_900,
        "duration_minutes": 90,
        "item_id": FLUSH_ID,
    }
    fields.update(overrides)
    return new_service_item(**fields)


def _rejects(field: str, **overrides: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        _flush(**overrides)
    assert caught.value.field == field
    return caught.value


def test_new_item_has_the_given_fields_and_the_defaults() -> None:
    item = _flush()

    assert item == ServiceItem(
        id=FLUSH_ID,
        tenant_id=ACME_ID,
        name="Water heater flush",
        aliases=("tank flush", "water heater"),
        price_cents=18_900,
        currency="USD",
        duration_minutes=90,
        priority=0,
        active=True,
    )


def test_new_item_without_an_id_gets_a_fresh_one() -> None:
    first, second = _flush(item_id=None), _flush(item_id=None)

    assert first.id != second.id
    assert first.id != FLUSH_ID


def test_name_is_trimmed_and_keeps_its_case() -> None:
    assert _flush(name="  ACME Water Heater FLUSH \n").name == "ACME Water Heater FLUSH"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "must not be empty"),
        ("   \t ", "must not be empty"),
        ("x" * 101, "longer than 100 characters"),
        (None, "must be a string"),
        (42, "must be a string"),
    ],
)
def test_bad_names_are_rejected(name: object, reason: str) -> None:
    assert _rejects("name", name=name).reason == reason


def test_a_name_of_exactly_100_characters_is_accepted() -> None:
    assert _flush(name=" " + "x" * 100 + " ").name == "x" * 100


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Water heater flush", "water heater flush"),
        ("  WATER   Heater\tFLUSH ", "water heater flush"),
        ("Straße reinigen", "strasse reinigen"),
        ("STRASSE REINIGEN", "strasse reinigen"),
        ("Cafe\u0301 pipes", "café pipes"),  # decomposed é: same key as the composed one
    ],
)
def test_name_key_is_caseless_and_collapses_whitespace(name: str, key: str) -> None:
    assert name_key(name) == key


def test_names_differing_in_case_and_spacing_share_a_key_but_not_a_spelling() -> None:
    assert name_key("Drain  Cleaning") == name_key("drain cleaning")
    assert name_key("Drain cleaning") != name_key("Drain cleanings")


@pytest.mark.parametrize(
    ("aliases", "expected"),
    [
        ([], ()),
        (["Tank Flush"], ("tank flush",)),
        (["  water   HEATER\t"], ("water heater",)),
        (["", "   ", "tank flush"], ("tank flush",)),
        (
            ["tank flush", "TANK  flush", "water heater", "tank flush"],
            ("tank flush", "water heater"),
        ),
        (["water heater", "tank flush"], ("water heater", "tank flush")),  # order is kept
        (("Kühlschrank", "2 INCH pipe"), ("kühlschrank", "2 inch pipe")),
        ((alias for alias in ["Tank flush", "tank flush"]), ("tank flush",)),
    ],
)
def test_aliases_are_lowercased_trimmed_and_deduplicated(
    aliases: Any, expected: tuple[str, ...]
) -> None:
    assert _flush(aliases=aliases).aliases == expected


@pytest.mark.parametrize(
    ("aliases", "reason"),
    [
        ("pipe", "must be a list of strings"),  # not ("p", "i", "p", "e")
        (b"pipe", "must be a list of strings"),
        (42, "must be a list of strings"),
        (None, "must be a list of strings"),
        (["tank flush", 7], "alias 1 is not a string"),
        (["tank flush", None], "alias 1 is not a string"),
        (["x" * 101], "alias 0 is longer than 100 characters"),
        ([f"alias {n}" for n in range(MAX_ALIASES + 1)], f"more than {MAX_ALIASES} aliases"),
    ],
)
def test_bad_aliases_are_rejected(aliases: object, reason: str) -> None:
    assert _rejects("aliases", aliases=aliases).reason == reason


def test_the_alias_limit_counts_distinct_aliases() -> None:
    fifty = [f"alias {n}" for n in range(MAX_ALIASES)]

    item = _flush(aliases=fifty + [alias.upper() for alias in fifty] + ["", " "])

    assert item.aliases == tuple(fifty)
    assert _flush(aliases=["  " + "x" * 100 + "  "]).aliases == ("x" * 100,)


@pytest.mark.parametrize(
    ("field", "value", "accepted"),
    [
        ("price_cents", 0, True),
        ("price_cents", 10_000_000, True),
        ("price_cents", -1, False),
        ("price_cents", 10_000_001, False),
        ("price_cents", True, False),
        ("price_cents", 189.0, False),
        ("price_cents", "18900", False),
        ("price_cents", None, False),
        ("duration_minutes", 5, True),
        ("duration_minutes", 1440, True),
        ("duration_minutes", 4, False),
        ("duration_minutes", 1441, False),
        ("duration_minutes", 0, False),
        ("duration_minutes", 90.5, False),
        ("duration_minutes", False, False),
        ("priority", -1_000_000, True),
        ("priority", 1_000_000, True),
        ("priority", -1_000_001, False),
        ("priority", 1_000_001, False),
        ("priority", True, False),
        ("priority", 1.0, False),
        ("active", False, True),
        ("active", 0, False),
        ("active", "false", False),
        ("active", None, False),
    ],
)
def test_numbers_and_flags_are_checked_on_create_and_on_change(
    field: str, value: object, accepted: bool
) -> None:
    original = _flush()
    if accepted:
        assert getattr(_flush(**{field: value}), field) == value
        assert getattr(change_service_item(original, **{field: value}), field) == value
        return
    _rejects(field, **{field: value})
    with pytest.raises(InvalidInput) as caught:
        change_service_item(original, **{field: value})
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("given", "stored"),
    [("USD", "USD"), ("usd", "USD"), (" eur ", "EUR"), ("cad", "CAD"), ("XCG", "XCG")],
)
def test_currency_is_upper_cased(given: str, stored: str) -> None:
    assert _flush(currency=given).currency == stored
    assert check_currency(given) == stored


@pytest.mark.parametrize("currency", ["XYZ", "", "US", "USDD", "XAU", "BGN", "dollars", 840, None])
def test_unknown_currencies_are_rejected(currency: object) -> None:
    _rejects("currency", currency=currency)


def test_check_currency_names_the_field_and_the_code() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_currency("xyz", field="deposit_currency")

    assert caught.value.field == "deposit_currency"
    assert caught.value.reason == "unknown currency 'xyz'"


def test_the_currency_list_holds_current_codes_only() -> None:
    assert {"USD", "CAD", "MXN", "EUR", "GBP", "JPY", "XCD", "XOF", "XCG", "ZWG", "SLE"} <= ISO_4217
    assert not {"XAU", "XDR", "XTS", "XXX", "USN", "ANG", "BGN", "HRK", "ZWL"} & ISO_4217
    assert all(len(code) == 3 and set(code) <= set(string.ascii_uppercase) for code in ISO_4217)
    assert len(ISO_4217) == 155


def test_change_touches_only_the_given_fields() -> None:
    original = _flush(priority=3)

    changed = change_service_item(original, price_cents=21_500, aliases=["Tank Flush"])

    assert changed.price_cents == 21_500
    assert changed.aliases == ("tank flush",)
    assert changed == ServiceItem(
        id=original.id,
        tenant_id=original.tenant_id,
        name=original.name,
        aliases=("tank flush",),
        price_cents=21_500,
        currency=original.currency,
        duration_minutes=original.duration_minutes,
        priority=3,
        active=True,
    )
    assert original.price_cents == 18_900  # the original value is untouched


def test_deactivating_is_a_change_of_active() -> None:
    assert change_service_item(_flush(), active=False).active is False


def test_no_changes_give_an_equal_item() -> None:
    assert change_service_item(_flush()) == _flush()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "   "}, "name"),
        ({"aliases": "pipe"}, "aliases"),
        ({"currency": "ABC"}, "currency"),
        ({"colour": "red"}, "colour"),
        ({"id": UUID(int=7)}, "id"),
        ({"tenant_id": UUID(int=7)}, "tenant_id"),
    ],
)
def test_bad_changes_name_the_field(changes: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        change_service_item(_flush(), **changes)

    assert caught.value.field == field


def test_change_normalises_like_create() -> None:
    changed = change_service_item(_flush(), name="  Tank Flush Deluxe ", currency="cad")

    assert (changed.name, changed.currency) == ("Tank Flush Deluxe", "CAD")
