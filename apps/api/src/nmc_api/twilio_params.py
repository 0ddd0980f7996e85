"""What a signed Twilio callback may contain: checked once at the edge, before any use case runs."""

# A valid signature proves who sent a request, not that its values are sane (a leaked auth
# token, a tampered replay, a bug at the provider). Anything that could break storage or mislead
# a reader is refused here with a 400 that names the parameter and never echoes its value.

from __future__ import annotations

import re
from collections.abc import Mapping

from nmc_domain.shared.errors import InvalidInput

__all__ = [
    "DURATIONS",
    "FREE_TEXT",
    "KNOWN",
    "MAX_DURATION_SECONDS",
    "MAX_FORM_BYTES",
    "MAX_STORED_BYTES",
    "MAX_STORED_VALUE",
    "SIDS",
    "checked",
    "seconds",
    "stored_payload",
]

MAX_FORM_BYTES = 64 * 1024  # a Twilio callback is a few hundred bytes; a long SMS a few KB
MAX_DURATION_SECONDS = 86_400  # a call lasting longer than a day is not a call
MAX_VALUE = 256  # a number, sid, status, city, SIP address: nothing structured is longer
MAX_FREE_TEXT = 1_600  # Twilio's own limit on an SMS body
MAX_STORED_VALUE = 512  # characters of one value kept in webhook_events
MAX_STORED_BYTES = 8 * 1024  # UTF-8 bytes of names and values kept in webhook_events
_DROPPED = "_nmc_dropped"
_BUDGET = MAX_STORED_BYTES - 32  # room left for the _nmc_dropped note
_MAX_UNKNOWN_NAME = 64

# Sids of every kind: two capital letters naming the kind, then 32 hex digits.
SIDS = ("AccountSid", "CallSid", "ParentCallSid", "DialCallSid", "MessageSid", "SmsSid")
DURATIONS = ("CallDuration", "DialCallDuration")
_SID = re.compile(r"[A-Z]{2}[0-9a-fA-F]{32}")
_DIGITS = re.compile(r"[0-9]{1,5}")  # ASCII only: str.isdigit() accepts "²" and "٣"

# Values people typed (an SMS, a caller-id name): tabs and line breaks are part of the text.
FREE_TEXT = frozenset({"Body", "CallerName"})
# Every other value must be free of any control character (C0, DEL, C1).
_ANY_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Free text may hold \t \n \r but no other C0 control (a NUL cannot even be stored in JSONB).
_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# The parameters Twilio documents for the voice and messaging callbacks we receive.
KNOWN = frozenset(
    {
        *SIDS,
        *FREE_TEXT,
        "ApiVersion",
        "CallStatus",
        "CallDuration",
        "CallbackSource",
        "Called",
        "CalledCity",
        "CalledCountry",
        "CalledState",
        "CalledZip",
        "Caller",
        "CallerCity",
        "CallerCountry",
        "CallerState",
        "CallerZip",
        "DialBridged",
        "DialCallDuration",
        "DialCallStatus",
        "Direction",
        "Duration",
        "ErrorCode",
        "ErrorMessage",
        "ForwardedFrom",
        "From",
        "FromCity",
        "FromCountry",
        "FromState",
        "FromZip",
        "MessageStatus",
        "MessagingServiceSid",
        "NumMedia",
        "NumSegments",
        "SequenceNumber",
        "SipResponseCode",
        "SmsMessageSid",
        "SmsStatus",
        "StirVerstat",
        "Timestamp",
        "To",
        "ToCity",
        "ToCountry",
        "ToState",
        "ToZip",
    }
)


def checked(params: Mapping[str, str]) -> Mapping[str, str]:
    """The parameters, if every name and value is sane; raises InvalidInput (400) otherwise.

    Names and structured values hold no control character and at most MAX_VALUE characters;
    free text may hold tabs and line breaks; sids have their shape when present (an empty
    optional sid counts as absent); durations are whole seconds when present.
    """
    for name, value in params.items():
        if _ANY_CONTROL.search(name) or len(name) > MAX_VALUE:
            raise InvalidInput("parameter name", "contains a control character or is too long")
        _check_value(name, value)
    for name in SIDS:
        value = params.get(name, "")
        if value and not _SID.fullmatch(value):
            raise InvalidInput(name, "not a Twilio sid (two letters and 32 hex digits)")
    for name in DURATIONS:
        seconds(params, name)
    return params


def _check_value(name: str, value: str) -> None:
    if name in FREE_TEXT or name not in KNOWN:
        # Unknown parameters are held to the free-text rule: their length does not matter,
        # they are cut down before they are stored (see stored_payload).
        if _TEXT_CONTROL.search(value):
            raise InvalidInput(name, "contains a control character")
        if name in FREE_TEXT and len(value) > MAX_FREE_TEXT:
            raise InvalidInput(name, f"longer than {MAX_FREE_TEXT} characters")
        return
    if _ANY_CONTROL.search(value):
        raise InvalidInput(name, "contains a control character")
    if len(value) > MAX_VALUE:
        raise InvalidInput(name, f"longer than {MAX_VALUE} characters")


def seconds(params: Mapping[str, str], name: str) -> int | None:
    """A duration in whole seconds (ASCII digits, 0..MAX_DURATION_SECONDS), None when absent."""
    raw = params.get(name, "")
    if not raw:
        return None
    if not _DIGITS.fullmatch(raw) or int(raw) > MAX_DURATION_SECONDS:
        raise InvalidInput(name, f"expected whole seconds between 0 and {MAX_DURATION_SECONDS}")
    return int(raw)


def stored_payload(params: Mapping[str, str]) -> dict[str, str]:
    """What webhook_events keeps of a callback: a record for people, never a dump of the body.

    The rule: parameters are taken known ones first, then unknown ones, each group in name
    order. Every value is cut to MAX_STORED_VALUE characters; an unknown name longer than 64
    characters is dropped; a parameter is kept only while the running total of UTF-8 bytes of
    names and values stays within MAX_STORED_BYTES (less a little room for the note). When
    anything was dropped, `_nmc_dropped` says how many parameters, so a reader knows the
    record is incomplete. (Known values are
    checked short, so in practice every known parameter is kept whole.)
    """
    ordered = sorted(params, key=lambda name: (name not in KNOWN, name))
    kept: dict[str, str] = {}
    total = dropped = 0
    for name in ordered:
        value = params[name][:MAX_STORED_VALUE]
        size = len(name.encode()) + len(value.encode())
        if (name not in KNOWN and len(name) > _MAX_UNKNOWN_NAME) or total + size > _BUDGET:
            dropped += 1
            continue
        kept[name] = value
        total += size
    if dropped:
        kept[_DROPPED] = str(dropped)
    return kept
