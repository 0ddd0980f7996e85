"""/v1/me and /v1/users: who is calling, and the tenant's users (OWNER)."""

from __future__ import annotations

from uuid import UUID

from litestar import get, post
from litestar.params import FromPath, JSONBody

from nmc_api.deps import AnyRequest, Deps
from nmc_api.v1.auth import OWNER, Caller
from nmc_api.v1.fields import Cursor, Limit
from nmc_api.v1.problems import errors
from nmc_api.v1.schemas import (
    MeOut,
    TenantOut,
    UserIn,
    UserList,
    UserOut,
    decode_cursor,
    encode_cursor,
    strictly,
)
from nmc_domain.identity.users import add_user, deactivate_user, list_users
from nmc_domain.shared.pages import DEFAULT_LIMIT
from nmc_domain.tenancy.profile import me

__all__ = ["people_routes"]


@get("/me", responses=errors(403), summary="The caller and their tenant")
async def get_me(principal: Caller, deps: Deps) -> MeOut:
    user, tenant = await me(deps.new_uow(), principal)
    return MeOut(user=UserOut.of(user), tenant=TenantOut.of(tenant))


@get("/users", opt=OWNER, responses=errors(403), summary="The tenant's users, by email (OWNER)")
async def get_users(
    principal: Caller,
    deps: Deps,
    cursor: Cursor = None,
    limit: Limit = DEFAULT_LIMIT,
) -> UserList:
    page = await list_users(deps.new_uow(), principal, decode_cursor(cursor), limit)
    return UserList([UserOut.of(u) for u in page.items], encode_cursor(page.next_after))


@post("/users", opt=OWNER, responses=errors(403, 409, 413), summary="Add a user (OWNER)")
async def post_user(
    request: AnyRequest, principal: Caller, deps: Deps, data: JSONBody[UserIn]
) -> UserOut:
    data = await strictly(request, UserIn)
    user = await add_user(
        deps.new_uow(), principal, email=data.email, role=data.role, subject=data.subject
    )
    return UserOut.of(user)


@post(
    "/users/{user_id:uuid}/deactivate",
    opt=OWNER,
    status_code=200,
    responses=errors(403, 404, 409),
    summary="Deactivate a user (OWNER); their tokens stop working at once",
)
async def post_deactivate(principal: Caller, deps: Deps, user_id: FromPath[UUID]) -> UserOut:
    return UserOut.of(await deactivate_user(deps.new_uow(), principal, user_id))


people_routes = [get_me, get_users, post_user, post_deactivate]
