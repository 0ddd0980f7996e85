"""Conversations: the list by state and one thread, with the person's controls."""

from __future__ import annotations

from litestar import MediaType, get
from litestar.response import Template

from nmc_api.deps import Deps
from nmc_api.web.chrome import page
from nmc_api.web.session import Viewing

__all__ = ["conversation_pages"]


@get("/conversations", media_type=MediaType.HTML)
async def conversations(deps: Deps, viewer: Viewing) -> Template:
    return await page(deps, viewer, "conversations.html")


conversation_pages = [conversations]
