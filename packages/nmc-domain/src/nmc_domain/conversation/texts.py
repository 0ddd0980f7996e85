"""The assistant's own words: GSM-7 only, two segments at most, dates in the tenant's zone."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from nmc_domain.conversation.memory import Offer
from nmc_domain.messaging.segments import GSM7_BASIC, count_segments

__all__ = [
    "MAX_SEGMENTS",
    "booked",
    "clarify",
    "fit",
    "gsm7",
    "handed_off",
    "lead_with",
    "money",
    "offers",
    "when",
]

MAX_SEGMENTS = 2
# Typographic characters callers' phones and catalogs are full of, in plain GSM-7.
_PLAIN = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
    }
)


def gsm7(text: str) -> str:
    """The text in GSM-7's basic set: accents dropped where the set lacks them, the rest out."""
    text = text.translate(_PLAIN)
    kept = []
    for character in text:
        if character in GSM7_BASIC:
            kept.append(character)
            continue
        plain = unicodedata.normalize("NFKD", character)
        kept.extend(c for c in plain if c in GSM7_BASIC)
    return "".join(kept)


def fit(text: str) -> str:
    """GSM-7, and cut (with an ellipsis) to what two segments hold."""
    text = gsm7(text)
    while count_segments(text).count > MAX_SEGMENTS:
        text = text[: len(text) - 4].rstrip() + "..."
    return text


def lead_with(line: str, body: str) -> str:
    """`line` (the disclosure) before `body`, in two segments: the line is shortened before
    the body is, so the times a contact is asked to pick from are never cut off."""
    line, body = gsm7(line), fit(body)
    while len(line) > 3 and count_segments(f"{line}. {body}").count > MAX_SEGMENTS:
        line = line[: len(line) - 4].rstrip() + "..."
    return fit(f"{line}. {body}")


def when(moment: datetime, zone: ZoneInfo) -> str:
    """ "Tue Dec 2, 9:00 AM" in the tenant's zone."""
    local = moment.astimezone(zone)
    hour = local.hour % 12 or 12
    return f"{local:%a %b} {local.day}, {hour}:{local:%M} {'AM' if local.hour < 12 else 'PM'}"


def money(cents: int, currency: str) -> str:
    symbol = {"USD": "$", "CAD": "$", "AUD": "$"}.get(currency)
    amount = f"{cents // 100:,}.{cents % 100:02d}"
    return f"{symbol}{amount}" if symbol else f"{amount} {currency}"


def offers(item: str, price: str, choices: Sequence[Offer], zone: ZoneInfo) -> str:
    lines = [f"{n.number}) {when(n.start, zone)}" for n in choices]
    numbers = ", ".join(str(n.number) for n in choices[:-1]) + f" or {choices[-1].number}"
    if len(choices) == 1:
        numbers = "1"
    return fit(f"{item}: {price}. Reply {numbers} to book:\n" + "\n".join(lines))


def booked(item: str, start: datetime, price: str, zone: ZoneInfo) -> str:
    return fit(f"You're booked: {item}, {when(start, zone)}, {price}. See you then!")


def clarify() -> str:
    return "Sorry, what do you need help with? For example: a leak, a water heater, a drain."


def handed_off(business: str) -> str:
    return fit(f"Thanks! Someone from {business} will text you back shortly.")
