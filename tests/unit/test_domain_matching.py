"""Unit tests for catalog matching: normalisation, whole-word phrases, and a total ranking."""

from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nmc_domain.catalog.matching import Match, match_items, normalise
from nmc_domain.catalog.model import ServiceItem, name_key, new_service_item

ACME_ID = UUID("0b5e4a0e-7c1d-4f55-9f4e-ac3e00000001")


def _item(name: str, *aliases: str, n: int = 1, **overrides: Any) -> ServiceItem:
    fields: dict[str, Any] = {
        "tenant_id": ACME_ID,
        "name": name,
        "aliases": aliases,
        "price_cents": 18_900,
        "duration_minutes": 90,
        "item_id": UUID(int=n),
    }
    fields.update(overrides)
    return new_service_item(**fields)


FLUSH = _item("Water heater flush", "tank flush", "water heater", n=1)
HEATER = _item("Heater repair", "heater", n=2)
DRAIN = _item("Drain cleaning", "clogged drain", "drain", n=3)


def _found(text: str, items: list[ServiceItem]) -> list[tuple[str, str]]:
    return [(match.item.name, match.matched) for match in match_items(text, items)]


# --- normalisation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("My WATER-HEATER is leaking!!", ("my", "water", "heater", "is", "leaking")),
        ("  tank   flush\n\tplease ", ("tank", "flush", "please")),
        ("drain...clogged,again?!", ("drain", "clogged", "again")),
        ("the 2 inch pipe burst", ("the", "2", "inch", "pipe", "burst")),
        ('2" pipe; 3/4in valve', ("2", "pipe", "3", "4in", "valve")),
        ("Der Kühlschrank ist KAPUTT", ("der", "kühlschrank", "ist", "kaputt")),
        ("KÜHLSCHRANK", ("kühlschrank",)),
        ("Cafe\u0301 Café", ("café", "café")),  # decomposed and composed é read alike
        ("पानी लीक", ("पानी", "लीक")),  # vowel signs are marks, and stay inside their word
        ("Straße", ("strasse",)),
        ("ＷＡＴＥＲ ｈｅａｔｅｒ", ("water", "heater")),  # noqa: RUF001 (full-width letters: on purpose)
        ("don't_panic", ("don", "t", "panic")),  # the underscore separates, like any punctuation
        ("", ()),
        ("!!! --- ???", ()),
    ],
)
def test_normalise_lowercases_and_splits_on_anything_but_letters_and_digits(
    text: str, words: tuple[str, ...]
) -> None:
    assert normalise(text) == words


@given(text=st.text(st.characters(max_codepoint=127)))
def test_ascii_text_splits_as_any_other_text(text: str) -> None:
    # A trailing non-ASCII word sends the text down the general path instead of the ASCII one.
    assert normalise(text + " é") == (*normalise(text), "é")
    assert all(word.isalnum() and word == word.lower() for word in normalise(text))


# --- what matches --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "my water-heater broke",
            [("Water heater flush", "water heater"), ("Heater repair", "heater")],
        ),
        ("HEATER!!", [("Heater repair", "heater")]),
        ("two heaters are cold", []),
        ("the preheater is off", []),
        ("my heat er is broken", []),
        ("flush the tank", []),  # the words are there, not as the phrase "tank flush"
        ("need a tank-flush", [("Water heater flush", "tank flush")]),
        (
            "Water Heater Flush, please",
            [("Water heater flush", "water heater flush"), ("Heater repair", "heater")],
        ),
        ("", []),
    ],
)
def test_phrases_match_as_whole_words_only(text: str, expected: list[tuple[str, str]]) -> None:
    assert _found(text, [FLUSH, HEATER, DRAIN]) == expected


def test_unicode_and_digit_phrases_match() -> None:
    fridge = _item("Kühlschrank Reparatur", "kühlschrank", n=4)
    pipe = _item("2 inch pipe replacement", "2 inch pipe", n=5)

    assert _found("Mein KÜHLSCHRANK ist kaputt", [fridge, pipe]) == [
        ("Kühlschrank Reparatur", "kühlschrank")
    ]
    assert _found("my 2-inch pipe burst", [fridge, pipe]) == [
        ("2 inch pipe replacement", "2 inch pipe")
    ]
    assert _found("my 12 inch pipe burst", [fridge, pipe]) == []


def test_inactive_items_never_match() -> None:
    retired = _item("Water heater flush", "water heater", n=9, active=False)

    assert _found("water heater flush", [retired, HEATER]) == [("Heater repair", "heater")]


def test_phrases_that_normalise_to_nothing_are_ignored() -> None:
    odd = _item("!!!", "---", n=6)

    assert match_items("!!! --- !!!", [odd]) == []
    assert match_items("anything at all", [odd]) == []


def test_the_same_item_listed_twice_matches_once() -> None:
    assert _found("water heater", [FLUSH, FLUSH]) == [("Water heater flush", "water heater")]


# --- which phrase an item reports --------------------------------------------------------------


@pytest.mark.parametrize(
    ("item", "text", "matched"),
    [
        # More words beat fewer, wherever they are in the text.
        (FLUSH, "tank flush? no, a water heater flush", "water heater flush"),
        (FLUSH, "a tank flush for the water heater", "water heater"),  # 2 words, 12 > 10 chars
        # Same words and characters: the name beats an alias.
        (_item("Leak fix", "pipe fix"), "pipe fix or leak fix", "leak fix"),
        (_item("Pipe fix", "leak fix"), "pipe fix or leak fix", "pipe fix"),
        # Two aliases alike in length: alphabetical.
        (_item("Plumbing", "pipe fix", "leak fix"), "pipe fix or leak fix", "leak fix"),
    ],
)
def test_an_item_reports_its_best_phrase(item: ServiceItem, text: str, matched: str) -> None:
    assert [match.matched for match in match_items(text, [item])] == [matched]


# --- ranking -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "items", "order"),
    [
        pytest.param(
            "water heater tank",
            [_item("Tank", n=1, priority=9), _item("Water heater", n=2)],
            ["Water heater", "Tank"],
            id="more words beat higher priority",
        ),
        pytest.param(
            "sump pump or drain unit",
            [_item("Sump pump", n=1, priority=9), _item("Drain unit", n=2)],
            ["Drain unit", "Sump pump"],
            id="more characters beat higher priority",
        ),
        pytest.param(
            "leak and drip",
            [_item("Leak", n=1, priority=1), _item("Drip", n=2, priority=5)],
            ["Drip", "Leak"],
            id="then higher priority",
        ),
        pytest.param(
            "leak and drip",
            [_item("Faucet", "leak", n=1), _item("Drip", n=2)],
            ["Drip", "Faucet"],
            id="then a name before an alias",
        ),
        pytest.param(
            "leak and drip",
            [_item("Faucet", "leak", n=1), _item("Basin", "drip", n=2)],
            ["Basin", "Faucet"],
            id="then by name, caselessly",
        ),
        pytest.param(
            "leak",
            [_item("leak", n=2), _item("LEAK", n=1)],
            ["LEAK", "leak"],
            id="then by id",
        ),
    ],
)
def test_ranking_rules(text: str, items: list[ServiceItem], order: list[str]) -> None:
    assert [match.item.name for match in match_items(text, items)] == order
    assert [match.item.name for match in match_items(text, items[::-1])] == order


def test_rank_key_says_whether_the_name_matched() -> None:
    by_name, by_alias = match_items("water heater, heater repair", [FLUSH, HEATER])

    assert (by_alias.item, by_alias.by_name) == (FLUSH, False)
    assert (by_name.item, by_name.by_name) == (HEATER, True)


# --- properties ----------------------------------------------------------------------------------

# A small vocabulary, so that names and aliases overlap and often contain one another.
WORDS = ["water", "heater", "tank", "flush", "drain", "leak", "2", "inch", "pipe", "kühlschrank"]
NOISE = ["my", "is", "heaters", "preheater", "broken", "PIPE", "Leak", "WATER"]
SEPARATORS = [" ", "-", "!! ", ", ", "\n", "/", "   "]

CASES = [str.lower, str.upper, str.title, str.capitalize]


def _joined(pairs: list[tuple[str, str]]) -> str:
    return "".join(word + separator for word, separator in pairs)


def _words(vocabulary: list[str], min_size: int, max_size: int) -> st.SearchStrategy[str]:
    pair = st.tuples(st.sampled_from(vocabulary), st.sampled_from(SEPARATORS))
    return st.lists(pair, min_size=min_size, max_size=max_size).map(_joined)


# Names and aliases of 1 to 3 words, with any separators; now and then a phrase of punctuation
# only, which matching must ignore.
phrases = _words(WORDS, 1, 3) | st.just("!!!")


@st.composite
def catalogs(draw: st.DrawFn) -> list[ServiceItem]:
    ids = draw(st.lists(st.uuids(), min_size=1, max_size=8, unique=True))
    return [
        _item(
            draw(st.sampled_from(CASES))(draw(phrases)),
            *draw(st.lists(phrases.map(str.upper) | phrases, max_size=3)),
            item_id=item_id,
            priority=draw(st.integers(-1, 1)),
            active=draw(st.sampled_from([True, True, False])),
        )
        for item_id in ids
    ]


@st.composite
def cases(draw: st.DrawFn) -> tuple[str, list[ServiceItem]]:
    """A catalog, and a text that quotes some of its phrases among other words."""
    catalog = draw(catalogs())
    quotable = [phrase for item in catalog for phrase in (item.name, *item.aliases)]
    fragment = st.sampled_from(quotable) | st.sampled_from(WORDS + NOISE)
    pieces = draw(
        st.lists(st.tuples(fragment, st.sampled_from(SEPARATORS)), min_size=1, max_size=8)
    )
    return _joined(pieces), catalog


def _occurs(phrase: str, text: str) -> bool:
    """Whole-word containment, checked by string search rather than the n-gram index."""
    return f" {phrase} " in f" {' '.join(normalise(text))} "


def _item_phrases(item: ServiceItem) -> list[str]:
    return [" ".join(normalise(p)) for p in (item.name, *item.aliases) if normalise(p)]


def _by_name(match: Match) -> bool:
    return " ".join(normalise(match.item.name)) == match.matched


def _precedes(first: Match, second: Match) -> bool:
    """The issue's rules, written out one by one."""
    rules = [
        (len(first.matched.split()), len(second.matched.split())),
        (len(first.matched), len(second.matched)),
        (first.item.priority, second.item.priority),
        (_by_name(first), _by_name(second)),
    ]
    for mine, theirs in rules:
        if mine != theirs:
            return mine > theirs
    return (name_key(first.item.name), str(first.item.id)) < (
        name_key(second.item.name),
        str(second.item.id),
    )


@given(case=cases())
def test_ranking_is_a_total_order_following_the_rules(
    case: tuple[str, list[ServiceItem]],
) -> None:
    text, catalog = case
    matches = match_items(text, catalog)

    keys = [match.rank_key for match in matches]
    assert keys == sorted(set(keys))  # strictly increasing: no two results tie
    for index, first in enumerate(matches):
        for second in matches[index + 1 :]:
            assert _precedes(first, second)
            assert not _precedes(second, first)


@given(case=cases(), data=st.data())
def test_result_is_stable_and_independent_of_catalog_order(
    case: tuple[str, list[ServiceItem]], data: st.DataObject
) -> None:
    text, catalog = case
    expected = match_items(text, catalog)
    shuffled = data.draw(st.permutations(catalog))

    assert match_items(text, catalog) == expected
    assert match_items(text, shuffled) == expected
    assert match_items(text, list(reversed(catalog))) == expected
    assert match_items(text, iter(catalog)) == expected


@given(case=cases())
def test_exactly_the_active_items_with_a_phrase_in_the_text_match_once_by_their_best_phrase(
    case: tuple[str, list[ServiceItem]],
) -> None:
    text, catalog = case
    matches = match_items(text, catalog)

    expected = {
        item.id
        for item in catalog
        if item.active and any(_occurs(phrase, text) for phrase in _item_phrases(item))
    }
    assert sorted(match.item.id for match in matches) == sorted(expected)  # once each, no more
    for match in matches:
        present = [phrase for phrase in _item_phrases(match.item) if _occurs(phrase, text)]
        assert match.matched in present
        assert (len(match.matched.split()), len(match.matched)) == max(
            (len(phrase.split()), len(phrase)) for phrase in present
        )
