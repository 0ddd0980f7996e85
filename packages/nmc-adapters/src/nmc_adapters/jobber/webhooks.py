"""Jobber's webhooks: X-Jobber-Hmac-SHA256 (base64 of HMAC-SHA256 over the raw body with the
app's client secret) checked in constant time, then `data.webHookEvent` read."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from nmc_domain.scheduling.jobber_connect import JobberNotice

__all__ = [
    "JobberEventMalformed",
    "JobberSignatureInvalid",
    "JobberWebhookVerifier",
    "jobber_signature",
]


class JobberSignatureInvalid(ValueError):
    """Missing or wrong signature: 401 at the edge, nothing stored (never says the secret)."""


class JobberEventMalformed(ValueError):
    """Signed, but not a webhook event we can read: 400 at the edge."""


def jobber_signature(secret: str, raw_body: bytes) -> str:
    """The header value Jobber sends for `raw_body`."""
    digest = hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def _text(event: dict[str, Any], *names: str) -> str:
    for name in names:
        value = event.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    raise JobberEventMalformed(f"webHookEvent.{names[0]} is missing")


class JobberWebhookVerifier:
    """Verifies and reads Jobber's webhook requests."""

    def __init__(self, client_secret: str) -> None:
        if not client_secret.strip():
            raise ValueError("the Jobber client secret is empty")
        self._secret = client_secret

    def __repr__(self) -> str:
        return "JobberWebhookVerifier()"

    def is_authentic(self, raw_body: bytes, signature: str | None) -> bool:
        """True when `signature` is Jobber's for exactly these bytes (constant time)."""
        if not signature or not signature.strip():
            return False
        expected = jobber_signature(self._secret, raw_body).encode("ascii")
        return hmac.compare_digest(expected, signature.strip().encode("utf-8", "replace"))

    def read(self, raw_body: bytes) -> JobberNotice:
        """The notice in an authentic body; JobberEventMalformed when it is not one."""
        try:
            event = json.loads(raw_body)["data"]["webHookEvent"]
        except (ValueError, KeyError, TypeError):
            raise JobberEventMalformed("not a Jobber webhook (data.webHookEvent)") from None
        if not isinstance(event, dict):
            raise JobberEventMalformed("data.webHookEvent is not an object")
        # Apps made before December 2023 get the field spelled `occuredAt`.
        when = _text(event, "occurredAt", "occuredAt")
        try:
            occurred_at = datetime.fromisoformat(when)
        except ValueError:
            raise JobberEventMalformed(f"webHookEvent.occurredAt is not a time: {when!r}") from None
        if occurred_at.tzinfo is None:
            raise JobberEventMalformed("webHookEvent.occurredAt has no UTC offset")
        return JobberNotice(
            topic=_text(event, "topic").upper(),
            account_id=_text(event, "accountId"),
            item_id=_text(event, "itemId"),
            occurred_at=occurred_at,
        )

    def verify(self, raw_body: bytes, signature: str | None) -> JobberNotice:
        """The notice in `raw_body`; JobberSignatureInvalid or JobberEventMalformed."""
        if not signature or not signature.strip():
            raise JobberSignatureInvalid("missing X-Jobber-Hmac-SHA256")
        if not self.is_authentic(raw_body, signature):
            raise JobberSignatureInvalid("X-Jobber-Hmac-SHA256 does not match the body")
        return self.read(raw_body)
