"""Matching a caller's words against the catalog: which items they are asking about, best first."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable

import attrs

from nmc_domain.catalog.model import ServiceItem, name_key

__all__ = ["Match", "match_items", "normalise"]

_Phrase = tuple[str, ...]
_ASCII_WORD = re.compile(r"[a-z0-9]+")


@attrs.frozen
class Match:
    """An item the text asks about, and the phrase (normalised words joined by one space) found."""

    item: ServiceItem
    matched: str

    @property
    def by_name(self) -> bool:
        """Whether the item's own name matched (rather than only one of its aliases)."""
        return " ".join(normalise(self.item.name)) == self.matched

    @property
    def rank_key(self) -> tuple[int, int, int, int, str, str]:
        """Sorts the best match first; it ends in the item's id, so no two items tie."""
        return (
            -len(self.matched.split()),
            -len(self.matched),
            -self.item.priority,
            0 if self.by_name else 1,
            name_key(self.item.name),
            str(self.item.id),
        )


def _is_word_character(character: str) -> bool:
    # Combining marks belong to the letter before them: a decomposed "e\u0301" or a Devanagari
    # vowel sign must not split a word in two.
    return character.isalnum() or unicodedata.category(character).startswith("M")


def normalise(text: str) -> tuple[str, ...]:
    """The text's words, caseless; any run of other characters (spaces, punctuation) separates."""
    # NFKC so that full-width or ligature spellings read like the plain ones; casefold so that
    # "STRASSE" and "Straße" are the same word.
    folded = unicodedata.normalize("NFKC", text).casefold()
    if folded.isascii():  # most texts and catalogs: a regex is much faster than the loop below
        return tuple(_ASCII_WORD.findall(folded))
    runs = itertools.groupby(folded, key=_is_word_character)
    return tuple("".join(run) for is_word, run in runs if is_word)


def _phrases(item: ServiceItem) -> list[tuple[_Phrase, bool]]:
    """The item's name and aliases as word tuples, each flagged True if it is the name."""
    candidates = [(normalise(item.name), True)]
    candidates += [(normalise(alias), False) for alias in item.aliases]
    return [(phrase, is_name) for phrase, is_name in candidates if phrase]


def _phrase_rank(candidate: tuple[_Phrase, bool]) -> tuple[int, int, int, str]:
    phrase, is_name = candidate
    joined = " ".join(phrase)
    return (-len(phrase), -len(joined), 0 if is_name else 1, joined)


def _ngrams(words: _Phrase, longest: int) -> set[_Phrase]:
    """Every run of 1 to `longest` consecutive words: one set lookup per phrase afterwards."""
    return {
        words[start : start + size]
        for size in range(1, min(longest, len(words)) + 1)
        for start in range(len(words) - size + 1)
    }


def match_items(text: str, items: Iterable[ServiceItem]) -> list[Match]:
    """The active items whose name or an alias occurs in `text` as whole words, best first.

    Items are told apart by id (a catalog holds each id once); the same item listed twice is
    still one match, and the order of `items` never changes the result.
    """
    candidates = {item: _phrases(item) for item in set(items) if item.active}
    longest = max((len(p) for phrases in candidates.values() for p, _ in phrases), default=0)
    present = _ngrams(normalise(text), longest)
    matches = []
    for item, phrases in candidates.items():
        found = [candidate for candidate in phrases if candidate[0] in present]
        if found:
            best, _ = min(found, key=_phrase_rank)
            matches.append(Match(item=item, matched=" ".join(best)))
    return sorted(matches, key=lambda match: match.rank_key)
