"""TwiML answers: the little XML Twilio executes on a call."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from litestar import Response

__all__ = ["DIAL_STATUS_PATH", "dial", "hangup", "nothing"]

DIAL_STATUS_PATH = "/webhooks/twilio/voice/dial-status"
_XML = '<?xml version="1.0" encoding="UTF-8"?>'


def _twiml(inner: str) -> Response[str]:
    return Response(content=f"{_XML}<Response>{inner}</Response>", media_type="text/xml")


def dial(forward_to: str, timeout_seconds: int) -> Response[str]:
    """Ring the business's own phone; Twilio calls DIAL_STATUS_PATH with the outcome."""
    attributes = f"timeout={quoteattr(str(timeout_seconds))} action={quoteattr(DIAL_STATUS_PATH)}"
    # The number comes from the tenant's profile: escaped, it can never become markup.
    number = escape(forward_to)
    return _twiml(f'<Dial {attributes} method="POST"><Number>{number}</Number></Dial>')


def hangup() -> Response[str]:
    """End the call (after a missed dial: the text-back takes over)."""
    return _twiml("<Hangup/>")


def nothing() -> Response[str]:
    """An empty answer: acknowledged, nothing to do."""
    return _twiml("")
