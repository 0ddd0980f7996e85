"""How many SMS segments a text costs: GSM-7 when every character fits, else UCS-2.

GSM 03.38: the basic set costs one septet a character, the extension set (`^{}\\[~]|€` and the
form feed) two; one character outside both makes the whole text UCS-2. A single segment holds
160 septets (GSM-7) or 70 UTF-16 units (UCS-2); concatenated segments give up room for their
header: 153 septets or 67 units each. An escape pair never straddles two segments, and neither
does a surrogate pair (an emoji), so those are packed whole.
"""

from __future__ import annotations

import attrs

__all__ = ["GSM7_BASIC", "GSM7_EXTENDED", "Segments", "count_segments", "is_gsm7"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


@attrs.frozen
class Segments:
    """The encoding a text goes out in, how many segments it takes, and its length in units
    (septets for GSM-7, UTF-16 code units for UCS-2)."""

    encoding: str
    count: int
    units: int


def is_gsm7(text: str) -> bool:
    """Whether every character is in the GSM-7 basic or extension set."""
    return all(c in GSM7_BASIC or c in GSM7_EXTENDED for c in text)


def _pack(costs: list[int], single: int, multi: int) -> int:
    if sum(costs) <= single:
        return 1
    segments, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            segments, used = segments + 1, 0
        used += cost
    return segments


def count_segments(text: str) -> Segments:
    """Segments of `text` as a carrier counts them (an empty text still costs one)."""
    if is_gsm7(text):
        costs = [2 if c in GSM7_EXTENDED else 1 for c in text]
        return Segments("GSM-7", _pack(costs, 160, 153), sum(costs))
    costs = [2 if ord(c) > 0xFFFF else 1 for c in text]
    return Segments("UCS-2", _pack(costs, 70, 67), sum(costs))
