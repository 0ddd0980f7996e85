"""Every page of the inbox, gathered (each area lives in its own module)."""

from __future__ import annotations

from nmc_api.web.conversations import conversation_pages

__all__ = ["page_routes"]

page_routes = [*conversation_pages]
