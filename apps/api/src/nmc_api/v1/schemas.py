"""JSON shapes of the tenant API: msgspec structs, validated on the way in, shown in OpenAPI."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import TypeVar
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from nmc_api.deps import AnyRequest
from nmc_api.v1.problems import field_of
from nmc_domain.catalog.model import ServiceItem
from nmc_domain.identity.model import User
from nmc_domain.shared.errors import InvalidInput
from nmc_domain.shared.pages import PageKey
from nmc_domain.tenancy.model import Tenant

__all__ = [
    "ItemIn",
    "ItemList",
    "ItemOut",
    "ItemPatch",
    "MatchList",
    "MatchOut",
    "MeOut",
    "QuoteIn",
    "QuoteOut",
    "TenantOut",
    "UserIn",
    "UserList",
    "UserOut",
    "decode_cursor",
    "encode_cursor",
    "strictly",
]


class UserOut(msgspec.Struct):
    id: UUID
    email: str
    role: str
    active: bool

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, email=user.email, role=user.role.value, active=user.active)


class TenantOut(msgspec.Struct):
    id: UUID
    name: str
    timezone: str

    @classmethod
    def of(cls, tenant: Tenant) -> TenantOut:
        return cls(id=tenant.id, name=tenant.name, timezone=tenant.timezone)


class MeOut(msgspec.Struct):
    user: UserOut
    tenant: TenantOut


class UserIn(msgspec.Struct, forbid_unknown_fields=True):
    email: str
    role: str
    subject: str | None = None


class UserList(msgspec.Struct):
    items: list[UserOut]
    next_cursor: str | None


class ItemOut(msgspec.Struct):
    id: UUID
    name: str
    aliases: list[str]
    price_cents: int
    currency: str
    duration_minutes: int
    priority: int
    active: bool

    @classmethod
    def of(cls, item: ServiceItem) -> ItemOut:
        return cls(
            id=item.id,
            name=item.name,
            aliases=list(item.aliases),
            price_cents=item.price_cents,
            currency=item.currency,
            duration_minutes=item.duration_minutes,
            priority=item.priority,
            active=item.active,
        )


class ItemIn(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    price_cents: int
    duration_minutes: int
    aliases: list[str] = msgspec.field(default_factory=list)
    currency: str = "USD"
    priority: int = 0
    active: bool = True


class ItemPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields given change."""

    name: str | UnsetType = UNSET
    aliases: list[str] | UnsetType = UNSET
    price_cents: int | UnsetType = UNSET
    currency: str | UnsetType = UNSET
    duration_minutes: int | UnsetType = UNSET
    priority: int | UnsetType = UNSET
    active: bool | UnsetType = UNSET

    def changes(self) -> dict[str, object]:
        return {
            field: value
            for field in self.__struct_fields__
            if (value := getattr(self, field)) is not UNSET
        }


class ItemList(msgspec.Struct):
    items: list[ItemOut]
    next_cursor: str | None


class MatchOut(msgspec.Struct):
    item: ItemOut
    matched: str


class MatchList(msgspec.Struct):
    matches: list[MatchOut]


class QuoteIn(msgspec.Struct, forbid_unknown_fields=True):
    item_id: UUID


class QuoteOut(msgspec.Struct):
    item_id: UUID
    price_cents: int
    currency: str
    duration_minutes: int
    quote_id: UUID


T = TypeVar("T")
_AT = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")


async def strictly(request: AnyRequest, model: type[T]) -> T:
    """The JSON body as `model`, without Litestar's lenient coercion ("90" is not 90).

    Litestar has already decoded the body leniently (and answered 422 if even that failed);
    strictness is what money and durations need: "189.00" must not become 189 cents.
    """
    try:
        return msgspec.convert(await request.json(), model, strict=True)
    except msgspec.ValidationError as exc:
        message = str(exc)
        at = _AT.search(message)
        field = at.group("path") if at and at.group("path") else field_of("", message)
        raise InvalidInput(field, _AT.sub("", message)) from None


def encode_cursor(key: PageKey | None) -> str | None:
    """Opaque to clients: base64url of the last row's (sort key, id)."""
    if key is None:
        return None
    raw = json.dumps([key[0], str(key[1])], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> PageKey | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort_key, row_id = json.loads(raw)
        return str(sort_key), UUID(row_id)
    except (binascii.Error, ValueError, TypeError):
        raise InvalidInput("cursor", "not a cursor this API handed out") from None
