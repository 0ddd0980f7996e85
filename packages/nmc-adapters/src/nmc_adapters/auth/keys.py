"""Configured JWT keys, each with its pinned algorithm: an HS256 secret or a PEM public key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import attrs
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt import PyJWK, PyJWTError
from jwt.algorithms import HMACAlgorithm

from nmc_domain.shared.errors import Unauthenticated

__all__ = ["MIN_RSA_BITS", "KeySource", "StaticKey", "VerificationKey", "public_key", "secret_key"]

# RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
_MIN_SECRET_BYTES = 32
MIN_RSA_BITS = 2048


@attrs.frozen
class VerificationKey:
    """A key and the one algorithm a token verified with it may use."""

    key: RSAPublicKey | EllipticCurvePublicKey | PyJWK | str = attrs.field(repr=False)
    algorithm: str


class KeySource(Protocol):
    async def key_for(self, header: Mapping[str, Any]) -> VerificationKey:
        """The key for a token with this (unverified) header; Unauthenticated if none fits."""
        ...


class StaticKey:
    """One configured key: the token's `alg` must be exactly the key's algorithm."""

    __slots__ = ("_key",)

    def __init__(self, key: VerificationKey) -> None:
        self._key = key

    async def key_for(self, header: Mapping[str, Any]) -> VerificationKey:
        if header.get("alg") != self._key.algorithm:
            raise Unauthenticated("algorithm not allowed")
        return self._key


def secret_key(secret: str) -> VerificationKey:
    """An HS256 key from NMC_JWT_SECRET; ValueError naming it if too short or not a secret."""
    if len(secret.encode("utf-8")) < _MIN_SECRET_BYTES:
        raise ValueError(
            f"NMC_JWT_SECRET is malformed: expected at least {_MIN_SECRET_BYTES} bytes"
        )
    try:
        # PyJWT refuses PEM/SSH keys as HMAC secrets; say so at start, not on every request.
        HMACAlgorithm(HMACAlgorithm.SHA256).prepare_key(secret)
    except PyJWTError:
        raise ValueError(
            "NMC_JWT_SECRET is malformed: it holds a public key; use NMC_JWT_PUBLIC_KEY for that"
        ) from None
    return VerificationKey(secret, "HS256")


def public_key(pem: str) -> VerificationKey:
    """RS256 for an RSA key, ES256 for an EC P-256 key; ValueError naming NMC_JWT_PUBLIC_KEY."""
    # Environment files often carry a PEM on one line with literal "\n" separators.
    text = pem.replace("\\n", "\n") if "\n" not in pem.strip() else pem
    try:
        key = serialization.load_pem_public_key(text.strip().encode("utf-8"))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise ValueError(
            "NMC_JWT_PUBLIC_KEY is malformed: expected a PEM public key (BEGIN PUBLIC KEY)"
        ) from None
    if isinstance(key, RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise ValueError(
                f"NMC_JWT_PUBLIC_KEY is malformed: an RSA key needs {MIN_RSA_BITS} bits or more"
            )
        return VerificationKey(key, "RS256")
    if isinstance(key, EllipticCurvePublicKey) and isinstance(key.curve, SECP256R1):
        return VerificationKey(key, "ES256")
    raise ValueError("NMC_JWT_PUBLIC_KEY is malformed: expected an RSA or EC P-256 public key")
