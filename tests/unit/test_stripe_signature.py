"""Stripe-Signature as Stripe's SDK checks it, and the ids billing reads from each event type."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import stripe

from nmc_adapters.stripe import StripeEvent, StripeWebhookVerifier, WebhookSignatureInvalid
from tests.support.fake_stripe import FakeStripe, signed_event

SECRET = "whsec_AcmePlumbingEndpointSecret0000"  # pragma: allowlist secret
OTHER_SECRET = "whsec_SomebodyElsesEndpointSecret00"  # pragma: allowlist secret
TENANT = "4f6d2f1e-3b7a-4c39-9a51-0d8e5b7c2a11"
NOW = 1_767_000_000  # pinned clock (Unix seconds)
SESSION = {
    "id": "cs_test_AcmePlumbing",
    "object": "checkout.session",
    "mode": "subscription",
    "customer": "cus_AcmePlumbing",
    "subscription": "sub_AcmePlumbing",
    "client_reference_id": TENANT,
    "metadata": {"tenant_id": TENANT},
}


@pytest.fixture
def verifier() -> StripeWebhookVerifier:
    return StripeWebhookVerifier(SECRET)


def _sig(body: bytes, timestamp: int, secret: str = SECRET) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def _reason(verifier: StripeWebhookVerifier, body: bytes, header: str | None, **kw: Any) -> str:
    with pytest.raises(WebhookSignatureInvalid) as raised:
        verifier.verify(body, header, **kw)
    return str(raised.value)


# --- the signature ---------------------------------------------------------------------------


def test_a_valid_signature_gives_the_event(verifier: StripeWebhookVerifier) -> None:
    body, header = signed_event(
        "checkout.session.completed", SESSION, SECRET, NOW, id="evt_AcmeCheckout"
    )

    event = verifier.verify(body, header, now=NOW + 1)

    assert event.id == "evt_AcmeCheckout"
    assert event.type == "checkout.session.completed"
    assert event.created == datetime.fromtimestamp(NOW, UTC)
    assert event.raw["data"]["object"]["id"] == "cs_test_AcmePlumbing"


def test_the_fake_signs_exactly_as_the_sdk_verifies() -> None:
    body, header = signed_event("customer.subscription.updated", {"id": "sub_1"}, SECRET)

    # Stripe's own verifier (real clock, default tolerance) accepts what the fake signs.
    event = stripe.Webhook.construct_event(body, header, SECRET)
    assert event["type"] == "customer.subscription.updated"
    # And the header is t=<timestamp>,v1=<HMAC-SHA256(secret, "t.body")>.
    timestamp = int(header.split(",")[0].removeprefix("t="))
    assert header == f"t={timestamp},v1={_sig(body, timestamp)}"


def test_the_wrong_secret_is_refused(verifier: StripeWebhookVerifier) -> None:
    body, header = signed_event("invoice.paid", {"id": "in_1"}, OTHER_SECRET, NOW)

    assert "no v1 signature matches" in _reason(verifier, body, header, now=NOW)


def test_a_tampered_body_is_refused(verifier: StripeWebhookVerifier) -> None:
    body, header = signed_event("invoice.paid", {"id": "in_1", "amount_paid": 4900}, SECRET, NOW)
    tampered = body.replace(b"4900", b"9")

    assert tampered != body
    assert "no v1 signature matches" in _reason(verifier, tampered, header, now=NOW)


def test_any_v1_may_match(verifier: StripeWebhookVerifier) -> None:
    # Stripe sends one v1 per active secret while a secret is being rolled.
    body, _ = signed_event("invoice.paid", {"id": "in_1"}, SECRET, NOW)
    header = f"t={NOW},v1={_sig(body, NOW, OTHER_SECRET)},v1={_sig(body, NOW)},v0=ignored"

    assert verifier.verify(body, header, now=NOW).type == "invoice.paid"


def test_only_v1_counts(verifier: StripeWebhookVerifier) -> None:
    body, _ = signed_event("invoice.paid", {"id": "in_1"}, SECRET, NOW)
    header = f"t={NOW},v0={_sig(body, NOW)}"

    assert "no v1 signature" in _reason(verifier, body, header, now=NOW)


def test_the_signed_timestamp_is_what_counts(verifier: StripeWebhookVerifier) -> None:
    body, header = signed_event("invoice.paid", {"id": "in_1"}, SECRET, NOW)
    moved = header.replace(f"t={NOW}", f"t={NOW + 100}")

    assert "no v1 signature matches" in _reason(verifier, body, moved, now=NOW + 100)


@pytest.mark.parametrize(("age", "fresh"), [(0, True), (300, True), (301, False), (86400, False)])
def test_the_tolerance_is_300_seconds(
    verifier: StripeWebhookVerifier, age: int, fresh: bool
) -> None:
    body, header = signed_event("invoice.paid", {"id": "in_1"}, SECRET, NOW)

    if fresh:
        assert verifier.verify(body, header, now=NOW + age).id
    else:
        assert "older than the 300 s tolerance" in _reason(verifier, body, header, now=NOW + age)


def test_without_now_the_real_clock_decides(verifier: StripeWebhookVerifier) -> None:
    fresh = signed_event("invoice.paid", {"id": "in_1"}, SECRET)
    stale = signed_event("invoice.paid", {"id": "in_1"}, SECRET, int(time.time()) - 301)

    assert verifier.verify(*fresh).type == "invoice.paid"
    assert "older than" in _reason(verifier, *stale)


@pytest.mark.parametrize("header", [None, "", "   "])
def test_a_missing_header_is_refused(verifier: StripeWebhookVerifier, header: str | None) -> None:
    body, _ = signed_event("invoice.paid", {"id": "in_1"}, SECRET, NOW)

    assert _reason(verifier, body, header, now=NOW) == "missing Stripe-Signature header"


@pytest.mark.parametrize(
    "header",
    ["garbage", "t=yesterday,v1=abc", "v1=abc", "t,v1=abc", f"t={NOW},v1"],
)
def test_a_garbage_header_is_refused(verifier: StripeWebhookVerifier, header: str) -> None:
    body, _ = signed_event("invoice.paid", {"id": "in_1"}, SECRET, NOW)

    assert _reason(verifier, body, header, now=NOW) == "malformed Stripe-Signature header"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "garbage",
        "t=1,v1=abc",
        "VALID",
        "VALID_OTHER_SECRET",
        "VALID_TWO",
        "VALID_STALE",
    ],
)
def test_the_verdict_is_the_sdks(verifier: StripeWebhookVerifier, header: str | None) -> None:
    now = int(time.time())
    body, good = signed_event("invoice.paid", {"id": "in_1"}, SECRET, now)
    headers = {
        "VALID": good,
        "VALID_OTHER_SECRET": signed_event("x", {}, OTHER_SECRET, now)[1],
        "VALID_TWO": f"t={now},v1=00,v1={_sig(body, now)}",
        "VALID_STALE": f"t={now - 400},v1={_sig(body, now - 400)}",
    }
    header = headers.get(header or "", header)

    try:
        stripe.WebhookSignature.verify_header(body, header, SECRET, tolerance=300)
        sdk_ok = True
    except stripe.SignatureVerificationError:
        sdk_ok = False
    try:
        verifier.verify(body, header)
        ours_ok = True
    except WebhookSignatureInvalid:
        ours_ok = False

    assert ours_ok == sdk_ok


def test_a_body_that_is_not_json_is_refused_with_the_same_error(
    verifier: StripeWebhookVerifier,
) -> None:
    body = b'{"id": "evt_1", "type": '  # properly signed, but cut short
    header = f"t={NOW},v1={_sig(body, NOW)}"

    assert _reason(verifier, body, header, now=NOW) == "the body is not JSON"


@pytest.mark.parametrize(
    "payload",
    [[1, 2], {"id": "evt_1", "type": "invoice.paid", "created": NOW}, {"object": "event"}],
    ids=["list", "no-data", "no-id"],
)
def test_json_that_is_no_event_is_refused(verifier: StripeWebhookVerifier, payload: Any) -> None:
    body = json.dumps(payload).encode()
    header = f"t={NOW},v1={_sig(body, NOW)}"

    assert _reason(verifier, body, header, now=NOW) == "the body is not a Stripe event"


def test_a_body_that_is_not_utf8_is_refused(verifier: StripeWebhookVerifier) -> None:
    body = b'{"id": "\xff"}'
    header = f"t={NOW},v1={_sig(body, NOW)}"

    assert _reason(verifier, body, header, now=NOW) == "the body is not UTF-8"


def test_no_secret_shows_in_a_repr_or_a_reason(verifier: StripeWebhookVerifier) -> None:
    body, header = signed_event("invoice.paid", {"id": "in_1", "customer_email": "x@y"}, SECRET)
    event = verifier.verify(body, header)

    assert SECRET not in repr(verifier)
    assert "customer_email" not in repr(event)  # the raw event stays out of the repr
    assert SECRET not in _reason(verifier, body, header.replace("v1=", "v1=0"))


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="secret"):
        StripeWebhookVerifier("  ")


# --- the ids of each event type --------------------------------------------------------------


def _verified(type: str, obj: dict[str, Any]) -> StripeEvent:
    body, header = signed_event(type, obj, SECRET, NOW)
    return StripeWebhookVerifier(SECRET).verify(body, header, now=NOW)


def _fake_with_subscription() -> FakeStripe:
    # Only its object builders: no server is started.
    fake = FakeStripe()
    fake.set_subscription(
        "sub_AcmePlumbing", customer="cus_AcmePlumbing", metadata={"tenant_id": TENANT}
    )
    return fake


def test_checkout_session_completed_names_customer_subscription_and_tenant() -> None:
    event = _verified("checkout.session.completed", SESSION)

    assert event.object_id == "cs_test_AcmePlumbing"
    assert event.customer_id == "cus_AcmePlumbing"
    assert event.subscription_id == "sub_AcmePlumbing"
    assert event.client_reference_id == TENANT
    assert event.metadata_tenant_id == TENANT


def test_an_expanded_customer_reads_as_its_id() -> None:
    session = {**SESSION, "customer": {"id": "cus_AcmePlumbing", "object": "customer"}}

    assert _verified("checkout.session.completed", session).customer_id == "cus_AcmePlumbing"


@pytest.mark.parametrize(
    "type",
    [
        "customer.subscription.created",
        "customer.subscription.updated",
        "customer.subscription.deleted",
    ],
)
def test_subscription_events_name_the_subscription_customer_and_tenant(type: str) -> None:
    subscription = _fake_with_subscription().subscription_json("sub_AcmePlumbing")

    event = _verified(type, subscription)

    assert event.type == type
    assert event.object_id == "sub_AcmePlumbing"
    assert event.subscription_id == "sub_AcmePlumbing"
    assert event.customer_id == "cus_AcmePlumbing"
    assert event.metadata_tenant_id == TENANT
    assert event.client_reference_id is None


@pytest.mark.parametrize("type", ["invoice.paid", "invoice.payment_failed"])
@pytest.mark.parametrize("legacy", [False, True], ids=["parent-shape", "legacy-shape"])
def test_invoice_events_name_the_subscription_in_either_shape(type: str, legacy: bool) -> None:
    invoice = _fake_with_subscription().invoice_json(
        "sub_AcmePlumbing", paid=type == "invoice.paid", legacy=legacy
    )
    assert ("subscription" in invoice) is legacy  # the shapes really differ

    event = _verified(type, invoice)

    assert event.object_id == invoice["id"]
    assert event.customer_id == "cus_AcmePlumbing"
    assert event.subscription_id == "sub_AcmePlumbing"
    assert event.metadata_tenant_id == TENANT


def test_an_invoice_without_a_subscription_names_none() -> None:
    event = _verified("invoice.paid", {"id": "in_1", "object": "invoice", "customer": "cus_1"})

    assert event.subscription_id is None
    assert event.customer_id == "cus_1"


def test_another_event_type_still_verifies_with_its_object_id() -> None:
    event = _verified("customer.updated", {"id": "cus_1", "object": "customer"})

    assert event.object_id == "cus_1"
    assert event.subscription_id is None
    assert event.metadata_tenant_id is None
