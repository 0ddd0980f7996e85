"""Signed Twilio requests: the body capped (413), the signature checked (401), the values (400)."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

from litestar.exceptions import HTTPException

from nmc_api.deps import AnyRequest, ApiDeps
from nmc_api.twilio_params import MAX_FORM_BYTES, checked

__all__ = ["BadSignature", "BodyTooLarge", "capped_body", "signed_form"]


class BadSignature(HTTPException):
    """Missing or wrong X-Twilio-Signature: 401, nothing stored."""

    status_code = 401
    detail = "invalid or missing X-Twilio-Signature"


class BodyTooLarge(HTTPException):
    """A form larger than any callback Twilio sends: 413, nothing read past the cap."""

    status_code = 413
    detail = f"request body larger than {MAX_FORM_BYTES} bytes"


def public_url(request: AnyRequest, base_url: str) -> str:
    """The URL Twilio signed: we sit behind a proxy, so the host comes from configuration."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    return base_url + request.url.path + (f"?{query}" if query else "")


async def capped_body(request: AnyRequest, limit: int = MAX_FORM_BYTES) -> bytes:
    """The body, read no further than `limit` bytes; raises BodyTooLarge past it.

    A declared Content-Length over the limit is refused before anything is read; the bytes
    actually received are counted too (a body may come chunked, or longer than declared).
    """
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise BodyTooLarge()
    chunks: list[bytes] = []
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise BodyTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


async def signed_form(request: AnyRequest, deps: ApiDeps) -> Mapping[str, str]:
    """The form parameters of a request whose signature checks out and whose values are sane.

    Raises BodyTooLarge (413), BadSignature (401) or InvalidInput (400), in that order: an
    unsigned request learns nothing about what we would accept.
    """
    body = await capped_body(request)
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise BadSignature() from None
    url = public_url(request, deps.public_base_url)
    signature = request.headers.get("x-twilio-signature")
    if not deps.twilio_signature.is_valid(url, pairs, signature):
        raise BadSignature()
    return checked(dict(pairs))
