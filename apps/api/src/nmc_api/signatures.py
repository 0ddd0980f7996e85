"""Signed Twilio requests: rebuild the public URL, check the signature, or answer 401."""

from __future__ import annotations

from urllib.parse import parse_qsl

from litestar.exceptions import HTTPException

from nmc_api.deps import AnyRequest, ApiDeps

__all__ = ["BadSignature", "signed_form"]


class BadSignature(HTTPException):
    """Missing or wrong X-Twilio-Signature: 401, nothing stored."""

    status_code = 401
    detail = "invalid or missing X-Twilio-Signature"


def public_url(request: AnyRequest, base_url: str) -> str:
    """The URL Twilio signed: we sit behind a proxy, so the host comes from configuration."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    return base_url + request.url.path + (f"?{query}" if query else "")


async def signed_form(request: AnyRequest, deps: ApiDeps) -> dict[str, str]:
    """The form parameters of a request whose signature checks out; raises BadSignature."""
    body = await request.body()
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise BadSignature() from None
    url = public_url(request, deps.public_base_url)
    signature = request.headers.get("x-twilio-signature")
    if not deps.twilio_signature.is_valid(url, pairs, signature):
        raise BadSignature()
    return dict(pairs)
