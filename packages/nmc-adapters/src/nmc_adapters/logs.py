"""Structured logs: JSON in production, readable in `nmc dev`; secrets and numbers masked."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import structlog

from nmc_adapters.masking import mask_urls_in
from nmc_domain.shared.phone import mask_number

__all__ = [
    "configure_logging",
    "current_request_id",
    "mask_numbers",
    "mask_url_passwords",
    "redact_secrets",
]


def current_request_id() -> str | None:
    """The request id bound to this task's log context (the API binds one per request); the
    outbox row written in that request keeps it, so the worker's lines carry it too."""
    value = structlog.contextvars.get_contextvars().get("request_id")
    return value if isinstance(value, str) else None


_NUMBER = re.compile(r"\+\d{6,15}")
_SECRET_KEYS = ("token", "secret", "password", "authorization", "signature", "api_key")


def mask_numbers(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Every +E.164 number in a string value keeps only its last four digits."""
    for key, value in event.items():
        if isinstance(value, str) and "+" in value:
            event[key] = _NUMBER.sub(lambda m: mask_number(m.group(0)), value)
    return event


def redact_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A value under a key that sounds secret is never printed."""
    for key in event:
        if any(word in key.lower() for word in _SECRET_KEYS):
            event[key] = "[redacted]"
    return event


def mask_url_passwords(
    _: Any, __: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A URL's password in a string value (a database URL in an error message) is masked."""
    for key, value in event.items():
        if isinstance(value, str) and "://" in value:
            event[key] = mask_urls_in(value)
    return event


def configure_logging(fmt: str = "json", level: str = "info", stream: TextIO | None = None) -> None:
    """Configure structlog and route the standard library's loggers through the same chain."""
    out = stream or sys.stderr
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        redact_secrets,
        mask_url_passwords,
        mask_numbers,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
