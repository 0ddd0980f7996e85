"""The edge's rules for a signed Twilio callback: what is refused, and what is stored."""

from __future__ import annotations

import json

import pytest

from nmc_api.twilio_params import (
    KNOWN,
    MAX_STORED_BYTES,
    MAX_STORED_VALUE,
    checked,
    seconds,
    stored_payload,
)
from nmc_domain.shared.errors import InvalidInput

CALL_SID = "CA" + "0123456789abcdef" * 2
ACCOUNT_SID = "AC" + "a1" * 16


def callback(**changes: str) -> dict[str, str]:
    return {
        "AccountSid": ACCOUNT_SID,
        "CallSid": CALL_SID,
        "CallStatus": "no-answer",
        "CallDuration": "0",
        "From": "+15005550006",
        "To": "+14155550123",
        **changes,
    }


def refused(params: dict[str, str]) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        checked(params)
    return caught.value


def test_an_ordinary_callback_passes_unchanged() -> None:
    params = callback(DialCallSid="CA" + "F" * 32, ParentCallSid="", Body="Hi\tthere\r\nBob")

    assert checked(params) == params


@pytest.mark.parametrize("field", ["To", "From", "CallSid", "CallStatus", "AccountSid"])
@pytest.mark.parametrize("control", ["\x00", "\x1b", "\n", "\t", "\x7f", "\x85"])
def test_structured_values_refuse_every_control_character(field: str, control: str) -> None:
    params = callback()
    params[field] = params[field][:5] + control + params[field][5:]

    error = refused(params)

    assert error.field == field
    assert control not in str(error)


@pytest.mark.parametrize("control", ["\x00", "\x01", "\x08", "\x0b", "\x0c", "\x1f", "\x7f"])
@pytest.mark.parametrize("field", ["Body", "SomethingNew"])
def test_free_text_and_unknown_values_refuse_c0_controls_but_line_breaks(
    field: str, control: str
) -> None:
    assert checked(callback(**{field: "line one\r\n\tline two"}))

    assert refused(callback(**{field: f"line{control}one"})).field == field


def test_a_control_character_in_a_name_is_refused() -> None:
    params = callback()
    params["Call\x00Sid"] = "x"

    assert refused(params).field == "parameter name"


@pytest.mark.parametrize(
    "sid",
    [
        "CA" + "0" * 31,
        "CA" + "0" * 33,
        "ca" + "0" * 32,
        "C1" + "0" * 32,
        "CA" + "g" * 32,
        CALL_SID + "\n",
        " " + CALL_SID,
        "CA" + "٣" * 32,
        "CA" + "0" * 10_000,
    ],
)
@pytest.mark.parametrize(
    "field", ["CallSid", "ParentCallSid", "DialCallSid", "AccountSid", "MessageSid"]
)
def test_sids_must_be_two_letters_and_32_hex_digits(field: str, sid: str) -> None:
    error = refused(callback(**{field: sid}))

    assert error.field == field
    assert "0" * 40 not in str(error)  # the value is never echoed


def test_sids_are_case_insensitive_on_the_hex() -> None:
    assert checked(callback(CallSid="CA" + "aBcDeF0123456789" * 2))


@pytest.mark.parametrize(
    "raw",
    ["²", "٣", "1²", "-1", "+5", "1e3", " 42", "42 ", "4.2", "86401", "2147483648", "9" * 5000],
)
@pytest.mark.parametrize("field", ["CallDuration", "DialCallDuration"])
def test_durations_are_ascii_digits_within_a_day(field: str, raw: str) -> None:
    assert refused(callback(**{field: raw})).field == field
    with pytest.raises(InvalidInput):
        seconds({field: raw}, field)


@pytest.mark.parametrize(("raw", "value"), [("0", 0), ("42", 42), ("86400", 86_400), ("", None)])
def test_durations_that_pass(raw: str, value: int | None) -> None:
    params = callback(CallDuration=raw)

    assert checked(params) == params
    assert seconds(params, "CallDuration") == value
    assert seconds({}, "CallDuration") is None


def test_a_structured_value_longer_than_256_is_refused_free_text_up_to_an_sms() -> None:
    assert refused(callback(From="+1" + "5" * 300)).field == "From"
    assert checked(callback(Body="x" * 1600))
    assert refused(callback(Body="x" * 1601)).field == "Body"


def size(payload: dict[str, str]) -> int:
    return sum(len(name.encode()) + len(value.encode()) for name, value in payload.items())


def test_the_stored_payload_keeps_known_parameters_whole() -> None:
    params = callback(DialCallSid="CA" + "b" * 32, CallerName="ACME PLUMBING")

    assert stored_payload(params) == params


def test_the_stored_payload_cuts_unknown_values_and_drops_what_does_not_fit() -> None:
    params = callback(
        Huge="é" * 50_000,
        **{f"Extra{i:03}": "z" * 600 for i in range(100)},
        **{"N" * 65: "long name"},
    )

    stored = stored_payload(params)

    assert {name: stored[name] for name in callback()} == callback()  # known: kept whole
    assert all(len(value) <= MAX_STORED_VALUE for value in stored.values())
    assert stored["Extra000"] == "z" * MAX_STORED_VALUE
    assert "N" * 65 not in stored
    assert size(stored) <= MAX_STORED_BYTES
    assert len(json.dumps(stored, ensure_ascii=False).encode()) <= MAX_STORED_BYTES + 1024
    kept_unknown = [name for name in stored if name not in KNOWN and name != "_nmc_dropped"]
    assert int(stored["_nmc_dropped"]) == len(params) - len(callback()) - len(kept_unknown)
    assert int(stored["_nmc_dropped"]) > 0


def test_nothing_dropped_means_no_note() -> None:
    stored = stored_payload(callback(Extra="small"))

    assert stored == callback(Extra="small")
