"""Secrets inside URLs (a database URL's password) masked before a URL is shown anywhere."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["MASK", "mask_url", "mask_urls_in"]

MASK = "***"
# Query parameters that carry a secret (libpq reads `password` and `sslpassword` from the query).
_SECRET_PARAMS = ("password", "secret", "token", "key")
# `scheme://user:password@` anywhere in a text (an error message, a log line).
_USERINFO = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^\s/:@]*):[^\s/@]*@")
# `?sslpassword=…` / `&token=…` anywhere in a text.
_QUERY_SECRET = re.compile(
    r"(?P<head>[?&][A-Za-z_]*(?:password|secret|token|key)[A-Za-z_]*=)[^&#\s'\"]*", re.IGNORECASE
)


def mask_url(url: str) -> str:
    """`url` with the password of its user info and any secret-looking query value masked."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        # Unparseable: show nothing of it rather than guess where the password ends.
        return MASK
    netloc = parts.netloc
    if password is not None:
        userinfo, _, host = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}:{MASK}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        masked = [(k, MASK if _is_secret(k) else v) for k, v in pairs]
        query = urlencode(masked, safe="*/")
    if not url.startswith(f"{parts.scheme}://"):
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    # Spelled out: urlunsplit drops the `//` of an empty host (`postgresql:///db?host=/tmp`).
    shown = f"{parts.scheme}://{netloc}{parts.path}"
    return shown + (f"?{query}" if query else "") + (f"#{parts.fragment}" if parts.fragment else "")


def mask_urls_in(text: str) -> str:
    """Every URL password in `text` (user info or a secret query parameter) masked."""
    text = _USERINFO.sub(lambda m: f"{m.group('head')}:{MASK}@", text)
    return _QUERY_SECRET.sub(lambda m: f"{m.group('head')}{MASK}", text)


def _is_secret(name: str) -> bool:
    return any(word in name.lower() for word in _SECRET_PARAMS)
