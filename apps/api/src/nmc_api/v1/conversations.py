"""/v1 conversations (any role): the inbox, stepping in and out, texting the contact; the
opt-out ledger; and the settings page (reads any role, writes OWNER)."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID
from zoneinfo import ZoneInfo

from litestar import get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from nmc_api.deps import AnyRequest, Deps
from nmc_api.v1.auth import OWNER, Caller
from nmc_api.v1.conversation_schemas import (
    ConversationDetail,
    ConversationList,
    ConversationOut,
    MessageOut,
    OptOutList,
    OptOutOut,
    PersonTextIn,
    SettingsOut,
    SettingsPatch,
    State,
)
from nmc_api.v1.fields import Cursor, Limit
from nmc_api.v1.problems import errors
from nmc_api.v1.schemas import decode_cursor, encode_cursor, strictly
from nmc_domain.conversation.model import Conversation, ConversationStatus
from nmc_domain.conversation.people import (
    close_conversation,
    list_conversations,
    release_conversation,
    send_person_text,
    take_over_conversation,
)
from nmc_domain.conversation.tenant_settings import (
    change_tenant_settings,
    list_opt_outs,
    tenant_settings,
)
from nmc_domain.shared.pages import DEFAULT_LIMIT
from nmc_domain.telephony.views import show_conversation
from nmc_domain.tenancy.profile import me

__all__ = ["conversation_routes"]

# `state` is the query parameter's name (Litestar reserves it as a handler argument).
StateFilter = Annotated[
    State | None, QueryParameter(name="state", description="open, human, blocked or closed")
]


async def _zone(deps: Deps, principal: Caller) -> ZoneInfo:
    _, tenant = await me(deps.new_uow(), principal)
    return ZoneInfo(tenant.timezone)


@get("/conversations", responses=errors(403), summary="Conversations, latest activity first")
async def get_conversations(
    principal: Caller,
    deps: Deps,
    wanted: StateFilter = None,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> ConversationList:
    status = None if wanted is None else ConversationStatus(wanted)
    page = await list_conversations(deps.new_uow(), principal, status, decode_cursor(cursor), limit)
    zone = await _zone(deps, principal)
    return ConversationList(
        [ConversationOut.of(c, zone) for c in page.items], encode_cursor(page.next_after)
    )


@get(
    "/conversations/{conversation_id:uuid}",
    responses=errors(403, 404),
    summary="One conversation: both sides' texts with their status, calls, offers, booking",
)
async def get_conversation(
    principal: Caller, deps: Deps, conversation_id: FromPath[UUID]
) -> ConversationDetail:
    view = await show_conversation(deps.new_uow(), principal, conversation_id)
    return ConversationDetail.of(view, await _zone(deps, principal))


async def _moved(deps: Deps, principal: Caller, conversation: Conversation) -> ConversationOut:
    return ConversationOut.of(conversation, await _zone(deps, principal))


@post(
    "/conversations/{conversation_id:uuid}/takeover",
    status_code=200,
    responses=errors(403, 404, 409),
    summary="A person takes over: the assistant is silent at once",
)
async def post_takeover(
    principal: Caller, deps: Deps, conversation_id: FromPath[UUID]
) -> ConversationOut:
    taken = await take_over_conversation(deps.new_uow(), principal, conversation_id)
    return await _moved(deps, principal, taken)


@post(
    "/conversations/{conversation_id:uuid}/release",
    status_code=200,
    responses=errors(403, 404, 409),
    summary="Hand the conversation back to the assistant",
)
async def post_release(
    principal: Caller, deps: Deps, conversation_id: FromPath[UUID]
) -> ConversationOut:
    released = await release_conversation(deps.new_uow(), principal, conversation_id)
    return await _moved(deps, principal, released)


@post(
    "/conversations/{conversation_id:uuid}/close",
    status_code=200,
    responses=errors(403, 404, 409),
    summary="Close the conversation (the next call or text opens a new one)",
)
async def post_close(
    principal: Caller, deps: Deps, conversation_id: FromPath[UUID]
) -> ConversationOut:
    closed = await close_conversation(deps.new_uow(), principal, conversation_id)
    return await _moved(deps, principal, closed)


@post(
    "/conversations/{conversation_id:uuid}/messages",
    status_code=201,
    responses=errors(403, 404, 409, 413),
    summary="A person's text to the contact (403: not approved to send, or opted out; 409: closed)",
)
async def post_message(
    request: AnyRequest,
    principal: Caller,
    deps: Deps,
    conversation_id: FromPath[UUID],
    data: JSONBody[PersonTextIn],
) -> MessageOut:
    data = await strictly(request, PersonTextIn)
    message = await send_person_text(deps.new_uow(), principal, conversation_id, data.body)
    return MessageOut.of(message, await _zone(deps, principal))


@get("/opt-outs", responses=errors(403), summary="The opt-out ledger, newest first")
async def get_opt_outs(
    principal: Caller, deps: Deps, cursor: Cursor = None, limit: Limit = DEFAULT_LIMIT
) -> OptOutList:
    page = await list_opt_outs(deps.new_uow(), principal, decode_cursor(cursor), limit)
    return OptOutList([OptOutOut.of(e) for e in page.items], encode_cursor(page.next_after))


@get("/settings", responses=errors(403), summary="The tenant's settings")
async def get_settings_route(principal: Caller, deps: Deps) -> SettingsOut:
    return SettingsOut.of(await tenant_settings(deps.new_uow(), principal))


@patch(
    "/settings",
    opt=OWNER,
    responses=errors(403, 413),
    summary="Change settings (OWNER); out of range: 422 naming the field",
)
async def patch_settings(
    request: AnyRequest, principal: Caller, deps: Deps, data: JSONBody[SettingsPatch]
) -> SettingsOut:
    data = await strictly(request, SettingsPatch)
    changed = await change_tenant_settings(deps.new_uow(), principal, **data.changes())
    return SettingsOut.of(changed)


conversation_routes = [
    get_conversations,
    get_conversation,
    post_takeover,
    post_release,
    post_close,
    post_message,
    get_opt_outs,
    get_settings_route,
    patch_settings,
]
