"""E.164 numbers as the domain sees them: already parsed, checked by shape only."""

from __future__ import annotations

import re

__all__ = ["is_e164", "mask_number"]

# Parsing and validation proper happens at the edge (phonenumbers, behind the PhoneNumberParser
# port); inside the domain a number is a string of this shape.
_E164 = re.compile(r"\+[1-9][0-9]{6,14}")


def is_e164(value: str) -> bool:
    """True when `value` has the E.164 shape (a caller id like 'anonymous' has not)."""
    return _E164.fullmatch(value) is not None


def mask_number(value: str) -> str:
    """Hide all but the last four digits, keeping the length visible: +*******1212."""
    if len(value) <= 4:
        return "*" * len(value)
    head, tail = value[:-4], value[-4:]
    return "".join(c if c == "+" else "*" for c in head) + tail
