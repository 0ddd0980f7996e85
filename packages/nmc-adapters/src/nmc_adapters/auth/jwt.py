"""Bearer JWT verification (PyJWT, one pinned algorithm per key source) and HS256 minting."""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import attrs
import jwt

from nmc_adapters.auth.jwks import Clock, FetchJwks, JwksKeys, fetch_jwks_http, jwks_url
from nmc_adapters.auth.keys import KeySource, StaticKey, VerificationKey, public_key, secret_key
from nmc_domain.identity.model import Principal
from nmc_domain.shared.errors import Unauthenticated

__all__ = ["JwtSettings", "JwtVerifier", "mint_token"]

# tenant_id is ours, not a registered claim, but PyJWT's "require" checks any name.
_REQUIRED_CLAIMS = ["exp", "iss", "aud", "sub", "tenant_id"]
# Far above any real bearer token; bounds the JSON/base64 work an anonymous caller can cause.
_MAX_TOKEN_CHARS = 16_384
_KEY_SOURCES = ("NMC_JWT_SECRET", "NMC_JWT_PUBLIC_KEY", "NMC_JWT_JWKS_URL")

# Most specific first: several of these subclass DecodeError or InvalidTokenError.
_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidIssuerError, "wrong issuer"),
    (jwt.InvalidAudienceError, "wrong audience"),
    (jwt.InvalidSignatureError, "bad signature"),
    (jwt.InvalidAlgorithmError, "algorithm not allowed"),
    (jwt.DecodeError, "malformed token"),
)


@attrs.frozen
class JwtSettings:
    """NMC_JWT_ISSUER, NMC_JWT_AUDIENCE and exactly one of secret, public key or JWKS URL."""

    issuer: str
    audience: str
    secret: str | None = attrs.field(default=None, repr=False)  # HS256
    public_key: str | None = None  # PEM: RS256 for RSA, ES256 for EC P-256
    jwks_url: str | None = None  # an external identity provider's keys (RS256/ES256)
    leeway_seconds: int = 10


class JwtVerifier:
    """Turns a bearer token into a Principal, or raises Unauthenticated with a short reason."""

    __slots__ = ("_keys", "_settings")

    def __init__(
        self,
        settings: JwtSettings,
        *,
        fetch_jwks: FetchJwks | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        _check_claim_settings(settings)
        self._settings = settings
        self._keys = _key_source(settings, fetch_jwks or fetch_jwks_http, clock)

    async def verify(self, token: str) -> Principal:
        """The token's subject and tenant, if its signature, algorithm and claims all check out."""
        header = _unverified_header(token)
        key = await self._keys.key_for(header)
        return _principal(self._decode(token, key))

    def _decode(self, token: str, key: VerificationKey) -> dict[str, Any]:
        try:
            return jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm],
                audience=self._settings.audience,
                issuer=self._settings.issuer,
                leeway=self._settings.leeway_seconds,
                # sub is checked in _principal, alike on every PyJWT version (2.9 does not).
                options={"require": _REQUIRED_CLAIMS, "verify_sub": False},
            )
        except Exception as error:
            # An authentication gate fails closed: nothing PyJWT or cryptography raises escapes.
            raise Unauthenticated(_reason(error)) from None


def mint_token(
    secret: str,
    *,
    issuer: str,
    audience: str,
    subject: str,
    tenant_id: UUID,
    ttl_seconds: int = 3600,
    now: datetime | None = None,
    extra: Mapping[str, object] | None = None,
) -> str:
    """An HS256 token a verifier with the same secret accepts; `extra` claims are applied last."""
    secret_key(secret)  # the verifier's rules, so we never mint what it would refuse
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    issued = now or datetime.now(UTC)
    if issued.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    iat = int(issued.timestamp())
    claims: dict[str, object] = {
        "iss": issuer,
        "aud": audience,
        "sub": subject,
        "tenant_id": str(tenant_id),
        "iat": iat,
        "exp": iat + ttl_seconds,
    }
    claims.update(extra or {})
    return jwt.encode(claims, secret, algorithm="HS256")


def _check_claim_settings(settings: JwtSettings) -> None:
    if not settings.issuer.strip():
        raise ValueError("NMC_JWT_ISSUER is not set")
    if not settings.audience.strip():
        raise ValueError("NMC_JWT_AUDIENCE is not set")
    if settings.leeway_seconds < 0:
        raise ValueError("JWT leeway_seconds must not be negative")


def _key_source(settings: JwtSettings, fetch: FetchJwks, clock: Clock) -> KeySource:
    values = (settings.secret, settings.public_key, settings.jwks_url)
    given = [name for name, value in zip(_KEY_SOURCES, values, strict=True) if value]
    if len(given) != 1:
        found = " and ".join(given) or "none"
        raise ValueError(f"set exactly one of {', '.join(_KEY_SOURCES)} (found {found})")
    if settings.secret:
        return StaticKey(secret_key(settings.secret))
    if settings.public_key:
        return StaticKey(public_key(settings.public_key))
    return JwksKeys(jwks_url(settings.jwks_url or ""), fetch, clock)


def _unverified_header(token: str) -> dict[str, Any]:
    if not isinstance(token, str) or not token.strip():
        raise Unauthenticated("missing token")
    if len(token) > _MAX_TOKEN_CHARS:
        raise Unauthenticated("token too large")
    try:
        return jwt.get_unverified_header(token)
    except Exception:
        raise Unauthenticated("malformed token") from None


def _principal(claims: Mapping[str, Any]) -> Principal:
    subject = claims["sub"]
    if not isinstance(subject, str):
        raise Unauthenticated("sub is not a string")
    if not subject.strip():
        raise Unauthenticated("missing claim sub")
    raw_tenant = claims["tenant_id"]
    try:
        tenant_id = UUID(raw_tenant) if isinstance(raw_tenant, str) else None
    except ValueError:
        tenant_id = None
    if tenant_id is None:
        raise Unauthenticated("tenant_id is not a UUID")
    return Principal(subject=subject, tenant_id=tenant_id)


def _reason(error: Exception) -> str:
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"missing claim {error.claim}"
    for kind, reason in _REASONS:
        if isinstance(error, kind):
            return reason
    return "invalid token"
