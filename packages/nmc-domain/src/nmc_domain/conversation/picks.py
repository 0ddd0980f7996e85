"""Reading which offered time a contact picked: "2", "#2", "option 2", "the second one",
or the time as written ("9am tuesday", "tue 9:30", "2pm")."""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise
from zoneinfo import ZoneInfo

from nmc_domain.conversation.memory import Offer

__all__ = ["pick_offer"]

_ORDINALS = {
    "first": 1, "1st": 1, "one": 1,
    "second": 2, "2nd": 2, "two": 2,
    "third": 3, "3rd": 3, "three": 3,
}  # fmt: skip
_NUMBER = re.compile(r"^\s*(?:option|opt|number|no\.?|#)?\s*#?\s*([1-9])\s*[.!)]*\s*$", re.I)
_TIME = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?", re.I)
_DAYS = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4,
    "sat": 5, "saturday": 5, "sun": 6, "sunday": 6,
}  # fmt: skip
_WORD = re.compile(r"[a-z0-9]+")
_ORDINAL_WORDS = frozenset({"first", "1st", "second", "2nd", "third", "3rd"})
# A clock time ("2 pm", "2:00"): its digits are an hour, not an option's number.
_CLOCK = re.compile(r"\d\s*(?::\d{2}|[ap]\.?m\b)", re.I)


def _by_number(text: str, offers: Sequence[Offer]) -> Offer | None:
    numbers = {offer.number: offer for offer in offers}
    found = _NUMBER.match(text)
    if found:
        return numbers.get(int(found.group(1)))
    words = _WORD.findall(text.lower())
    # "one" right after an ordinal is the noun ("the second one"), not the number 1.
    picked = {
        _ORDINALS[word]
        for before, word in pairwise(["", *words])
        if word in _ORDINALS and not (word == "one" and before in _ORDINAL_WORDS)
    }
    # "option 2", "#2 please", "the 2nd one": one number among few words.
    if not _CLOCK.search(text):
        picked |= {int(w) for w in words if w.isdigit() and len(w) == 1 and len(words) <= 4}
    if len(picked) == 1:
        return numbers.get(picked.pop())
    return None


def _by_time(text: str, offers: Sequence[Offer], zone: ZoneInfo) -> Offer | None:
    lowered = text.lower()
    days = {_DAYS[w] for w in _WORD.findall(lowered) if w in _DAYS}
    found = _TIME.search(lowered)
    if found is None or (not found.group(3) and not found.group(2) and not days):
        return None  # a bare number without a day or am/pm is not a time
    hour, minute = int(found.group(1)), int(found.group(2) or 0)
    meridiem = (found.group(3) or "").replace(".", "")
    if hour > 23 or minute > 59 or (meridiem and not 1 <= hour <= 12):
        return None
    if meridiem == "pm" and hour != 12:
        hour += 12
    elif meridiem == "am" and hour == 12:
        hour = 0
    matches = []
    for offer in offers:
        local = offer.start.astimezone(zone)
        hours = {local.hour} if meridiem else {local.hour, (local.hour % 12) or 12}
        if hour in hours and local.minute == minute and (not days or local.weekday() in days):
            matches.append(offer)
    return matches[0] if len(matches) == 1 else None


def pick_offer(text: str, offers: Sequence[Offer], zone: ZoneInfo) -> Offer | None:
    """The offer the text picks, or None when it picks none (or is ambiguous)."""
    if not offers:
        return None
    return _by_number(text, offers) or _by_time(text, offers, zone)
