"""The /v1 edge without a server: JSON nesting depth, cursors, and the words for pattern errors."""

from __future__ import annotations

import base64
import json
import uuid

import msgspec
import pytest

from nmc_api.v1.bodies import MAX_DEPTH, depth
from nmc_api.v1.fields import Name, explain
from nmc_api.v1.schemas import decode_cursor, encode_cursor
from nmc_domain.shared.errors import InvalidInput

ROW = uuid.UUID("6f1c2a9e-4b7d-4e0a-9c3f-2d8e5b1a7c40")


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ("Drain", 0),
        (None, 0),
        ({}, 1),
        ([], 1),
        ({"item_id": "x"}, 1),
        ({"aliases": ["tank flush"]}, 2),
        ({"a": [{"b": [1]}], "c": 2}, 4),
        ([[], [[[]]], []], 4),
    ],
)
def test_depth_counts_objects_and_arrays(document, expected) -> None:
    assert depth(document) == expected


def test_depth_stops_counting_past_the_limit() -> None:
    document: list[object] = []
    for _ in range(10_000):
        document = [document]

    assert MAX_DEPTH < depth(document) <= MAX_DEPTH + 1


@pytest.mark.parametrize("sort_key", ["Drain Cleaning", "Débouchage d'évier 🚿", "", "a" * 300])
def test_a_cursor_round_trips(sort_key) -> None:
    cursor = encode_cursor((sort_key, ROW))

    assert cursor is not None
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert decode_cursor(cursor) == (sort_key, ROW)


def test_a_cursor_handed_out_before_this_encoding_still_reads() -> None:
    legacy = json.dumps(["Débouchage", str(ROW)], separators=(",", ":")).encode()
    cursor = base64.urlsafe_b64encode(legacy).decode().rstrip("=")

    assert decode_cursor(cursor) == ("Débouchage", ROW)


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        b64(b'["Drain", 5]'),
        b64(b'[["Drain"], "' + str(ROW).encode() + b'"]'),
        b64(b'{"Drain": "' + str(ROW).encode() + b'"}'),
        b64(b'["Drain\\u0000", "' + str(ROW).encode() + b'"]'),
        b64(b"[" * 3000),
        b64(b'["\xff", "' + str(ROW).encode() + b'"]'),
        "A",  # one character more than a whole number of base64 quanta
        "Drain Cleaning",
        "A" * 5000,
    ],
)
def test_anything_else_is_invalid_input_naming_cursor(cursor) -> None:
    with pytest.raises(InvalidInput) as raised:
        decode_cursor(cursor)

    assert raised.value.field == "cursor"


def test_no_cursor_is_the_first_page() -> None:
    assert decode_cursor(None) is None
    assert decode_cursor("") is None
    assert encode_cursor(None) is None


@pytest.mark.parametrize("text", ["Drain\n", "Drain\x00Cleaning", "\x7f", "\tDrain"])
def test_a_name_with_a_control_character_is_refused_in_plain_words(text) -> None:
    with pytest.raises(msgspec.ValidationError) as raised:
        msgspec.convert(text, Name)

    assert explain(str(raised.value)) == (
        "must not contain control characters (U+0000-U+001F, U+007F)"
    )


def test_other_messages_pass_through() -> None:
    assert explain("Expected `int`, got `str`") == "Expected `int`, got `str`"
