"""An identity provider's JWKS: keys by kid, cached, refetched on rotation at a bounded rate."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt import PyJWK, PyJWTError

from nmc_adapters.auth.keys import MIN_RSA_BITS, VerificationKey
from nmc_domain.shared.errors import Unauthenticated

__all__ = ["Clock", "FetchJwks", "JwksKeys", "fetch_jwks_http", "jwks_url", "parse_jwks"]

log = structlog.get_logger("nmc.auth")

FetchJwks = Callable[[str], Awaitable[Mapping[str, Any]]]
Clock = Callable[[], float]

_JWKS_ALGORITHMS = ("RS256", "ES256")
_CACHE_SECONDS = 600.0
# However many unknown kids arrive, the identity provider is asked at most this often.
_MIN_REFETCH_SECONDS = 30.0
_FETCH_TIMEOUT = httpx.Timeout(5.0)
_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def jwks_url(url: str) -> str:
    """NMC_JWT_JWKS_URL, checked: https (plain http only to this machine, for tests)."""
    parts = urlsplit(url)
    secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)
    if not parts.netloc or not secure:
        raise ValueError(
            "NMC_JWT_JWKS_URL is malformed: expected an https URL (http only for localhost)"
        )
    return url


async def fetch_jwks_http(url: str) -> Mapping[str, Any]:
    """GET the JWKS document; any failure raises (the caller fails closed)."""
    # A client per fetch: fetches are rare (every 10 minutes at most), so no pool to manage.
    async with httpx.AsyncClient(timeout=_FETCH_TIMEOUT) as client:
        response = await client.get(url, headers={"Accept": "application/json"})
        response.raise_for_status()
        document = response.json()
    if not isinstance(document, dict):
        raise ValueError("JWKS document is not a JSON object")
    return document


class JwksKeys:
    """An identity provider's keys by `kid`, cached for 10 minutes, refetched on rotation."""

    __slots__ = ("_attempted_at", "_clock", "_fetch", "_fetched_at", "_keys", "_lock", "_url")

    def __init__(self, url: str, fetch: FetchJwks, clock: Clock) -> None:
        self._url = url
        self._fetch = fetch
        self._clock = clock
        self._keys: dict[str, PyJWK] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = asyncio.Lock()

    async def key_for(self, header: Mapping[str, Any]) -> VerificationKey:
        algorithm = header.get("alg")
        # Checked before any fetch: alg none/HS256 must never cost the identity provider a call.
        if algorithm not in _JWKS_ALGORITHMS:
            raise Unauthenticated("algorithm not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("missing key id")
        jwk = self._cached(kid) or await self._refreshed(kid)
        # The key's type decides: an RS256 header on an EC key (or the reverse) is refused.
        if jwk.algorithm_name != algorithm:
            raise Unauthenticated("algorithm not allowed")
        return VerificationKey(jwk, algorithm)

    def _cached(self, kid: str) -> PyJWK | None:
        return self._keys.get(kid) if self._is_fresh() else None

    def _is_fresh(self) -> bool:
        age = None if self._fetched_at is None else self._clock() - self._fetched_at
        return age is not None and age < _CACHE_SECONDS

    def _may_fetch(self) -> bool:
        since = None if self._attempted_at is None else self._clock() - self._attempted_at
        return since is None or since >= _MIN_REFETCH_SECONDS

    async def _refreshed(self, kid: str) -> PyJWK:
        async with self._lock:
            # Requests that queued behind a refresh find the rotated key without fetching again.
            jwk = self._cached(kid)
            if jwk is not None:
                return jwk
            if self._may_fetch():
                await self._refresh()
            elif not self._is_fresh():
                raise Unauthenticated("identity provider unavailable")
        jwk = self._keys.get(kid)
        if jwk is None:
            raise Unauthenticated("unknown key id")
        return jwk

    async def _refresh(self) -> None:
        self._attempted_at = self._clock()
        try:
            keys = parse_jwks(await self._fetch(self._url))
        except Exception as error:
            # Fail closed whatever went wrong (network, HTTP status, JSON, shape): a 401, not a 500.
            log.warning("jwks_fetch_failed", url=self._url, error=type(error).__name__)
            raise Unauthenticated("identity provider unavailable") from None
        self._keys = keys
        self._fetched_at = self._clock()
        log.info("jwks_fetched", url=self._url, keys=len(keys))


def parse_jwks(document: Mapping[str, Any]) -> dict[str, PyJWK]:
    """The usable signing keys of a JWKS document by kid; ValueError if it is not a JWKS."""
    entries = document.get("keys")
    if not isinstance(entries, list):
        raise ValueError("JWKS document has no 'keys' list")
    keys: dict[str, PyJWK] = {}
    for entry in entries:
        jwk = _usable_key(entry)
        if jwk is not None and jwk.key_id is not None:
            keys.setdefault(jwk.key_id, jwk)
    return keys


def _usable_key(entry: object) -> PyJWK | None:
    # Only public signing keys whose algorithm follows from their type. A symmetric "oct" key is
    # skipped above all: it would let anyone who can read the JWKS sign HS256 tokens.
    if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str):
        return None
    algorithm = _algorithm_for(entry)
    if (
        algorithm is None
        or entry.get("use", "sig") != "sig"
        or entry.get("alg", algorithm) != algorithm
    ):
        return None
    try:
        jwk = PyJWK(entry, algorithm)
    except (PyJWTError, ValueError, TypeError, KeyError):
        return None
    # A private key published by mistake (it has "d") loads as a private key type: not trusted.
    strong_rsa = isinstance(jwk.key, RSAPublicKey) and jwk.key.key_size >= MIN_RSA_BITS
    return jwk if strong_rsa or isinstance(jwk.key, EllipticCurvePublicKey) else None


def _algorithm_for(entry: Mapping[str, Any]) -> str | None:
    if entry.get("kty") == "RSA":
        return "RS256"
    if entry.get("kty") == "EC" and entry.get("crv") == "P-256":
        return "ES256"
    return None
