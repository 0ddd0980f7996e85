"""Stripe webhooks: Stripe-Signature checked by the SDK's own verifier, then the event's ids."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import attrs
import stripe

from nmc_adapters.stripe.objects import id_of
from nmc_domain.billing.use_cases import StripeNotice

__all__ = [
    "DEFAULT_TOLERANCE_SECONDS",
    "StripeEvent",
    "StripeNotices",
    "StripeWebhookVerifier",
    "WebhookSignatureInvalid",
    "notice_of",
]

# Stripe's own default (stripe.Webhook.DEFAULT_TOLERANCE): older signatures are replays.
DEFAULT_TOLERANCE_SECONDS: Final = 300
_SCHEME: Final = "v1"


class WebhookSignatureInvalid(ValueError):
    """The request is not a fresh, authentic Stripe event (400 at the edge, nothing stored).

    The message is a short reason; it never holds the secret or the body.
    """


@attrs.frozen
class StripeEvent:
    """A verified Stripe event with the ids billing acts on (None where the object has none)."""

    id: str
    type: str
    created: datetime
    object_id: str | None
    customer_id: str | None
    subscription_id: str | None
    client_reference_id: str | None
    metadata_tenant_id: str | None
    # The whole event as Stripe sent it; out of the repr (it may hold e-mails and addresses).
    raw: Mapping[str, Any] = attrs.field(repr=False, eq=False)


class StripeWebhookVerifier:
    """Checks Stripe-Signature exactly as Stripe's SDK does (HMAC-SHA256 of "timestamp.body"
    with the endpoint's secret, any v1 may match, `tolerance` seconds), then reads the event."""

    def __init__(self, secret: str, tolerance: int = DEFAULT_TOLERANCE_SECONDS) -> None:
        if not secret.strip():
            raise ValueError("the webhook signing secret is empty")
        if tolerance < 0:
            raise ValueError("tolerance must not be negative")
        self._secret = secret
        self._tolerance = tolerance

    def __repr__(self) -> str:
        return f"StripeWebhookVerifier(tolerance={self._tolerance})"

    def verify(
        self, raw_body: bytes, signature_header: str | None, now: float | None = None
    ) -> StripeEvent:
        """The event in `raw_body`, or WebhookSignatureInvalid with a short reason.

        `now` (Unix seconds) stands in for the clock in tests.
        """
        if not signature_header or not signature_header.strip():
            raise WebhookSignatureInvalid("missing Stripe-Signature header")
        timestamp, signatures = _parse_header(signature_header)
        if not signatures:
            raise WebhookSignatureInvalid(f"no {_SCHEME} signature in the header")
        try:
            payload = raw_body.decode("utf-8")
        except UnicodeDecodeError:
            raise WebhookSignatureInvalid("the body is not UTF-8") from None
        try:
            # The SDK's verifier reads its own clock; tolerance=None leaves the age to us (below,
            # with the same rule) so tests can pin `now`.
            stripe.WebhookSignature.verify_header(
                payload, signature_header, self._secret, tolerance=None
            )
        except stripe.SignatureVerificationError:
            raise WebhookSignatureInvalid(f"no {_SCHEME} signature matches the body") from None
        current = time.time() if now is None else now
        if self._tolerance and timestamp < current - self._tolerance:
            raise WebhookSignatureInvalid(
                f"the signature is older than the {self._tolerance} s tolerance"
            )
        return _event(payload)


def _parse_header(header: str) -> tuple[int, list[str]]:
    # The SDK's own reading of the header (WebhookSignature._get_timestamp_and_signatures):
    # the first `t`, every value of the scheme.
    try:
        items = [item.split("=", 2) for item in header.split(",")]
        timestamp = int(next(item[1] for item in items if item[0] == "t"))
        signatures = [item[1] for item in items if item[0] == _SCHEME]
    except (StopIteration, IndexError, ValueError):
        raise WebhookSignatureInvalid("malformed Stripe-Signature header") from None
    return timestamp, signatures


def _event(payload: str) -> StripeEvent:
    try:
        event = json.loads(payload)
    except ValueError:
        raise WebhookSignatureInvalid("the body is not JSON") from None
    if not isinstance(event, dict):
        raise WebhookSignatureInvalid("the body is not a Stripe event")
    event_id, event_type, created = event.get("id"), event.get("type"), event.get("created")
    data = event.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if (
        not isinstance(event_id, str)
        or not event_id
        or not isinstance(event_type, str)
        or not isinstance(created, int)
        or isinstance(created, bool)
        or not isinstance(obj, dict)
    ):
        raise WebhookSignatureInvalid("the body is not a Stripe event")
    customer, subscription, reference, tenant = _ids(event_type, obj)
    return StripeEvent(
        id=event_id,
        type=event_type,
        created=datetime.fromtimestamp(created, UTC),
        object_id=id_of(obj.get("id")),
        customer_id=customer,
        subscription_id=subscription,
        client_reference_id=reference,
        metadata_tenant_id=tenant,
        raw=event,
    )


def _ids(
    event_type: str, obj: Mapping[str, Any]
) -> tuple[str | None, str | None, str | None, str | None]:
    """(customer, subscription, client_reference_id, metadata.tenant_id) of the event's object."""
    customer = id_of(obj.get("customer"))
    if event_type.startswith("checkout.session."):
        reference = obj.get("client_reference_id")
        return (
            customer,
            id_of(obj.get("subscription")),
            reference if isinstance(reference, str) and reference else None,
            _tenant(obj.get("metadata")),
        )
    if event_type.startswith("customer.subscription."):
        return customer, id_of(obj.get("id")), None, _tenant(obj.get("metadata"))
    if event_type.startswith("invoice."):
        # API versions from 2025-03-31 ("basil") moved invoice.subscription (and its
        # subscription_details) under invoice.parent.subscription_details.
        parent = obj.get("parent")
        details = parent.get("subscription_details") if isinstance(parent, Mapping) else None
        old_details = obj.get("subscription_details")
        if not isinstance(details, Mapping):
            details = old_details if isinstance(old_details, Mapping) else {}
        subscription = id_of(obj.get("subscription")) or id_of(details.get("subscription"))
        return customer, subscription, None, _tenant(details.get("metadata"))
    return customer, None, None, None


def _tenant(metadata: Any) -> str | None:
    value = metadata.get("tenant_id") if isinstance(metadata, Mapping) else None
    return value if isinstance(value, str) and value else None


def notice_of(event: StripeEvent) -> StripeNotice:
    """What billing's use case needs of a verified event (and what the event log keeps)."""
    kept = {
        "type": event.type,
        "object_id": event.object_id,
        "customer": event.customer_id,
        "subscription": event.subscription_id,
        "client_reference_id": event.client_reference_id,
        "created": event.created.isoformat(),
    }
    return StripeNotice(
        event_id=event.id,
        type=event.type,
        customer_id=event.customer_id,
        subscription_id=event.subscription_id,
        tenant_hint=event.client_reference_id or event.metadata_tenant_id,
        payload={name: value for name, value in kept.items() if value is not None},
    )


class StripeNotices:
    """The API's verifier: Stripe-Signature checked, the event read as a `StripeNotice`."""

    def __init__(self, verifier: StripeWebhookVerifier) -> None:
        self._verifier = verifier

    def verify(self, raw_body: bytes, signature_header: str | None) -> StripeNotice:
        return notice_of(self._verifier.verify(raw_body, signature_header))
