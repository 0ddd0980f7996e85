"""Requests signed the way Twilio signs them, by Twilio's own SDK."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from twilio.request_validator import RequestValidator

AUTH_TOKEN = "acme-test-auth-token"
ACCOUNT_SID = "AC" + "a1" * 16
PUBLIC_BASE_URL = "https://nmc.example.com"
JWT_SECRET = "acme-test-jwt-secret-of-at-least-32-bytes"


def sign(url: str, params: Mapping[str, str], token: str = AUTH_TOKEN) -> str:
    """X-Twilio-Signature for a form POST to `url` (computed by the twilio SDK)."""
    return RequestValidator(token).compute_signature(url, dict(params))


def call_sid() -> str:
    return "CA" + uuid.uuid4().hex


def status_callback(
    number: str, caller: str, sid: str, status: str = "no-answer", duration: int = 0
) -> dict[str, str]:
    """Topology B: the call's status callback."""
    return {
        "AccountSid": ACCOUNT_SID,
        "ApiVersion": "2010-04-01",
        "CallSid": sid,
        "CallStatus": status,
        "CallDuration": str(duration),
        "Direction": "inbound",
        "From": caller,
        "To": number,
    }


def dial_action(
    number: str, caller: str, sid: str, status: str = "no-answer", duration: int = 0
) -> dict[str, str]:
    """Topology A: the <Dial action> callback of the parent call."""
    return {
        "AccountSid": ACCOUNT_SID,
        "CallSid": sid,
        "CallStatus": "in-progress",
        "DialCallSid": "CA" + uuid.uuid4().hex,
        "DialCallStatus": status,
        "DialCallDuration": str(duration),
        "Direction": "inbound",
        "From": caller,
        "To": number,
    }
