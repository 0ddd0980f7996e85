"""What the web inbox needs, built by bootstrap (None in ApiDeps: no NMC_SECRET_KEY, no inbox)."""

from __future__ import annotations

import hashlib

import attrs

from nmc_domain.shared.secrets import Sealer

__all__ = ["WebConfig", "csrf_secret"]


def csrf_secret(secret_key: str) -> str:
    """The CSRF middleware's secret, derived from NMC_SECRET_KEY (never the key itself)."""
    return hashlib.sha256(b"nmc-web-csrf:" + secret_key.encode("ascii")).hexdigest()


@attrs.frozen
class WebConfig:
    """`sealer` seals login links and the session cookie; `csrf_secret` signs CSRF tokens;
    `secure_cookies` when the app is served over https (NMC_APP_BASE_URL)."""

    sealer: Sealer
    csrf_secret: str
    secure_cookies: bool = False
