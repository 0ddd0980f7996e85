"""Sealing secrets: provider tokens at rest and signed OAuth states (the key stays in adapters)."""

from __future__ import annotations

from typing import Protocol

__all__ = ["SealBroken", "Sealer"]


class SealBroken(ValueError):
    """A sealed value that was altered, sealed with another key, malformed, or older than the
    age allowed."""


class Sealer(Protocol):
    """Authenticated encryption of short texts (Fernet with NMC_SECRET_KEY in production)."""

    def seal(self, text: str) -> str:
        """The text, encrypted and authenticated, as URL-safe ASCII (a fresh token each call)."""
        ...

    def unseal(self, sealed: str, *, max_age_seconds: float | None = None) -> str:
        """The text back; SealBroken when tampered with, from another key, or older than
        `max_age_seconds` (when given)."""
        ...
