"""The text-back and after-hours templates (OWNER): saved (or put back to NeverMissCall's
default) with a plain form post, and previewed live: an htmx GET on input answers a fragment
with the text as a missed caller would get it now and its segment count (the domain renders
and counts), or the domain's reason the template could not be saved (200 either way)."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Response, get, post
from litestar.params import FromPath
from litestar.response import Template

from nmc_api.deps import AnyRequest, Deps
from nmc_api.web.catalog_forms import field_message, segments_words
from nmc_api.web.catalog_page import TEMPLATE_SLUGS, catalog_page, form_of, preview_of, saved
from nmc_api.web.session import Viewing
from nmc_domain.conversation.tenant_settings import change_tenant_settings
from nmc_domain.shared.errors import InvalidInput

__all__ = ["template_pages"]


@post("/catalog/templates/{slug:str}", media_type=MediaType.HTML)
async def save_template(
    request: AnyRequest, deps: Deps, viewer: Viewing, slug: FromPath[str]
) -> Response[Any]:
    """Save one template ("Use the default text": back to NeverMissCall's): 303, or the page
    with the text as typed and the domain's reason (422)."""
    viewer.require_owner()
    field = TEMPLATE_SLUGS.get(slug)
    if field is None:
        return await catalog_page(deps, viewer, status_code=404, error="No such template.")
    values = await form_of(request)
    text = values.get(field, "")
    value = None if values.get("action") == "default" else text
    try:
        await change_tenant_settings(deps.new_uow(), viewer.principal, **{field: value})
    except InvalidInput as exc:
        errors = {field: field_message(exc.reason)}
        return await catalog_page(deps, viewer, status_code=422, texts={field: text}, errors=errors)
    return saved(slug, slug)


@get("/catalog/templates/{slug:str}/preview", media_type=MediaType.HTML)
async def preview(
    request: AnyRequest, deps: Deps, viewer: Viewing, slug: FromPath[str]
) -> Template:
    """The preview fragment of the text in the query (under the template's field name)."""
    viewer.require_owner()
    field = TEMPLATE_SLUGS.get(slug)
    if field is None:
        return Template("catalog_preview.html", context={"missing": True}, status_code=404)
    text = request.query_params.get(field, "")
    shown, error = await preview_of(deps, viewer, field, text)
    return Template(
        "catalog_preview.html",
        context={
            "slug": slug,
            "field": field,
            "preview": shown,
            "error": error,
            "segments_words": segments_words,
        },
    )


template_pages = [save_template, preview]
