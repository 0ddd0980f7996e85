"""What /v1 accepts, field by field: one annotation both enforces a limit and documents it."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar.params import Parameter
from msgspec import Meta

from nmc_domain.catalog.model import (
    DURATION_MINUTES,
    MAX_ALIASES,
    MAX_PHRASE,
    PRICE_CENTS,
    PRIORITY,
)
from nmc_domain.identity.model import MAX_SUBJECT
from nmc_domain.shared.pages import DEFAULT_LIMIT, MAX_LIMIT

__all__ = [
    "CURSOR_PATTERN",
    "LINES",
    "MAX_CURSOR",
    "MAX_EMAIL",
    "MAX_MATCH_TEXT",
    "NO_CONTROLS",
    "Alias",
    "Aliases",
    "Currency",
    "Cursor",
    "DurationMinutes",
    "Email",
    "Limit",
    "MatchText",
    "Name",
    "PriceCents",
    "Priority",
    "Role",
    "Subject",
    "explain",
]

# Patterns end in `\Z` where they are enforced: msgspec checks with Python's `re.search`, where
# `$` also matches before a final newline ("Drain\n" would pass). The document says `$`, which is
# the very end in the ECMA regexes OpenAPI speaks (nmc_api.v1.openapi and `schema_extra` below
# rewrite it); the two accept the same strings.
_CONTROLS = r"\x00-\x1F\x7F"  # C0 controls and DEL: PostgreSQL refuses NUL, nobody types the rest
NO_CONTROLS = rf"^[^{_CONTROLS}]*"
# Free text (what a caller wrote) keeps its tabs and line breaks.
_LINE_CONTROLS = r"\x00-\x08\x0B\x0C\x0E-\x1F\x7F"
LINES = rf"^[^{_LINE_CONTROLS}]*"
CURSOR_PATTERN = r"^[A-Za-z0-9_-]*"
_CURRENCY = r"^[A-Za-z]{3}"

# RFC 5321 caps a forward-path at 256 octets, brackets included: 254 for the address.
MAX_EMAIL = 254
# Twilio's limit on one message body: matching text is what a caller texted.
MAX_MATCH_TEXT = 1600
# Room for a sort key of a few hundred characters and a row id, base64url-encoded.
MAX_CURSOR = 4096


def _text(
    pattern: str, description: str, min_length: int | None = None, max_length: int | None = None
) -> Meta:
    return Meta(
        pattern=pattern + r"\Z",
        description=description,
        min_length=min_length,
        max_length=max_length,
    )


def _between(bounds: tuple[int, int], description: str) -> Meta:
    return Meta(ge=bounds[0], le=bounds[1], description=description)


_CONTROL_CHARACTERS = "control characters (U+0000-U+001F, U+007F)"
_PLAIN = f"no {_CONTROL_CHARACTERS}"

Name = Annotated[
    str,
    _text(
        NO_CONTROLS, f"1 to {MAX_PHRASE} characters; {_PLAIN}", min_length=1, max_length=MAX_PHRASE
    ),
]
Alias = Annotated[
    str, _text(NO_CONTROLS, f"at most {MAX_PHRASE} characters; {_PLAIN}", max_length=MAX_PHRASE)
]
Aliases = Annotated[
    list[Alias],
    Meta(max_length=MAX_ALIASES, description="Other words callers use; lower-cased, deduplicated"),
]
Currency = Annotated[str, _text(_CURRENCY, "An ISO 4217 code, in any case (USD, CAD, EUR...)")]
PriceCents = Annotated[int, _between(PRICE_CENTS, "Price in minor units (cents)")]
DurationMinutes = Annotated[int, _between(DURATION_MINUTES, "How long the job takes, minutes")]
Priority = Annotated[int, _between(PRIORITY, "Breaks ties between equally good matches")]
Email = Annotated[
    str, _text(NO_CONTROLS, f"An email address; {_PLAIN}", min_length=1, max_length=MAX_EMAIL)
]
Subject = Annotated[
    str,
    _text(
        NO_CONTROLS,
        f"The identity provider's subject; defaults to the email; {_PLAIN}",
        min_length=1,
        max_length=MAX_SUBJECT,
    ),
]
Role = Literal["OWNER", "TECH"]

# Query parameters: Litestar reads these (Parameter), with the same split between `\Z` and `$`.
Limit = Annotated[
    int,
    Parameter(ge=1, le=MAX_LIMIT, description=f"Rows per page (default {DEFAULT_LIMIT})"),
]
Cursor = Annotated[
    str | None,
    Parameter(
        max_length=MAX_CURSOR,
        pattern=CURSOR_PATTERN + r"\Z",
        schema_extra={"pattern": CURSOR_PATTERN + "$"},
        description="The next_cursor of the previous page, as it was handed out",
    ),
]
MatchText = Annotated[
    str,
    Parameter(
        min_length=1,
        max_length=MAX_MATCH_TEXT,
        pattern=LINES + r"\Z",
        schema_extra={"pattern": LINES + "$"},
        description="What the caller wrote; tabs and line breaks are fine, other controls are not",
    ),
]

_EXPLAINED = {
    NO_CONTROLS: f"must not contain {_CONTROL_CHARACTERS}",
    LINES: "must not contain control characters other than tab, line feed and carriage return",
    CURSOR_PATTERN: "not a cursor this API handed out",
    _CURRENCY: "must be a three-letter ISO 4217 code",
}


def explain(message: str) -> str:
    """A msgspec message that quotes one of our patterns, in words a client can act on."""
    if "matching regex" in message:
        for pattern, words in _EXPLAINED.items():
            if repr(pattern + r"\Z") in message:
                return words
    return message
