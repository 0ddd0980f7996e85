"""Twilio webhook signature (X-Twilio-Signature) computation and validation, stdlib only."""

import base64
import hashlib
import hmac
from collections.abc import Sequence
from urllib.parse import ParseResult, parse_qs, urlparse

__all__ = ["TwilioSignature"]

# Query parameter Twilio adds to the signed URL when the webhook body is JSON, not a form.
_BODY_HASH_PARAM = "bodySHA256"


class TwilioSignature:
    """Computes and checks Twilio's HMAC-SHA1 webhook signature, with the SDK's semantics."""

    __slots__ = ("_key",)

    def __init__(self, auth_token: str) -> None:
        self._key = auth_token.encode("utf-8")

    def compute(self, url: str, params: Sequence[tuple[str, str]]) -> str:
        """base64(HMAC-SHA1(auth_token, url + each param name+value, sorted by name then value))"""
        digest = hmac.new(self._key, _signed_payload(url, params), hashlib.sha1).digest()
        return base64.b64encode(digest).decode("ascii")

    def is_valid(
        self,
        url: str,
        params: Sequence[tuple[str, str]],
        signature: str | None,
        body: bytes | None = None,
    ) -> bool:
        """True if `signature` is Twilio's signature for this request.

        `url` is the full public URL Twilio requested; `params` are the form pairs parsed
        from the raw body; `body` is the raw body, needed only when the URL has `bodySHA256`.
        """
        # compare_digest rejects non-ASCII str with TypeError; a header like that is simply bad.
        if not signature or not signature.isascii():
            return False
        try:
            return self._check(url, params, signature, body)
        except (TypeError, ValueError):
            # This is an authentication gate: garbage (bad port, lone surrogates, wrong types)
            # must fail closed as "invalid", never surface as a 500.
            return False

    def _check(
        self,
        url: str,
        params: Sequence[tuple[str, str]],
        signature: str,
        body: bytes | None,
    ) -> bool:
        parts = urlparse(url)
        expected_body_hash = _body_hash_param(parts)
        if expected_body_hash is not None:
            # JSON webhook: the signature covers the URL only; the body is bound via its hash.
            if body is None or not _body_hash_matches(body, expected_body_hash):
                return False
            params = ()
        return any(
            hmac.compare_digest(self.compute(candidate, params), signature)
            for candidate in _candidate_urls(url, parts)
        )


def _signed_payload(url: str, params: Sequence[tuple[str, str]]) -> bytes:
    # Like the SDK: names sorted, and for a repeated name its *distinct* values sorted, so an
    # exactly repeated (name, value) pair counts once. Sorting the set of pairs does both.
    return (url + "".join(name + value for name, value in sorted(set(params)))).encode("utf-8")


def _body_hash_param(parts: ParseResult) -> str | None:
    # parse_qs drops blank values, as the SDK does, so "bodySHA256=" counts as absent.
    values = parse_qs(parts.query).get(_BODY_HASH_PARAM)
    return values[0] if values else None


def _body_hash_matches(body: bytes, expected_hex: str) -> bool:
    # Case-sensitive, as in the SDK: Twilio sends the lowercase hexdigest.
    actual_hex = hashlib.sha256(body).hexdigest()
    return hmac.compare_digest(actual_hex.encode("ascii"), expected_hex.encode("utf-8"))


def _candidate_urls(url: str, parts: ParseResult) -> list[str]:
    # Twilio signs inconsistently with and without the port, so the SDK accepts both forms.
    # The literal URL is also tried, since geturl() normalises (e.g. drops a bare trailing "?").
    return list(dict.fromkeys((url, _without_port(parts), _with_port(parts))))


def _without_port(parts: ParseResult) -> str:
    # Like the SDK, this strips any port, not just the scheme's default one.
    if parts.port is None:
        return parts.geturl()
    host, _, _ = parts.netloc.rpartition(":")
    return parts._replace(netloc=host).geturl()


def _with_port(parts: ParseResult) -> str:
    if parts.port is not None:
        return parts.geturl()
    # The SDK's rule: 443 for https, 80 for anything else.
    default_port = 443 if parts.scheme == "https" else 80
    return parts._replace(netloc=f"{parts.netloc}:{default_port}").geturl()
