"""JSON shapes of the tenant API: msgspec structs, validated on the way in, shown in OpenAPI."""

from __future__ import annotations

import base64
import re
from typing import TypeVar
from uuid import UUID

import msgspec
from msgspec import UNSET, UnsetType

from nmc_api.deps import AnyRequest
from nmc_api.v1.fields import (
    CURSOR_PATTERN,
    MAX_CURSOR,
    Aliases,
    Currency,
    DurationMinutes,
    Email,
    Name,
    PriceCents,
    Priority,
    Role,
    Subject,
    explain,
)
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
    email: Email
    role: Role
    subject: Subject | None = None


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
    name: Name
    price_cents: PriceCents
    duration_minutes: DurationMinutes
    aliases: Aliases = msgspec.field(default_factory=list)
    currency: Currency = "USD"
    priority: Priority = 0
    active: bool = True


class ItemPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields given change."""

    name: Name | UnsetType = UNSET
    aliases: Aliases | UnsetType = UNSET
    price_cents: PriceCents | UnsetType = UNSET
    currency: Currency | UnsetType = UNSET
    duration_minutes: DurationMinutes | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
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
        raise InvalidInput(field, explain(_AT.sub("", message))) from None


_CURSOR = re.compile(CURSOR_PATTERN + r"\Z")
_NOT_A_CURSOR = "not a cursor this API handed out"


def encode_cursor(key: PageKey | None) -> str | None:
    """Opaque to clients: base64url of the last row's (sort key, id) as a JSON pair."""
    if key is None:
        return None
    raw = msgspec.json.encode((key[0], key[1]))
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> PageKey | None:
    """The key a cursor from `encode_cursor` holds; anything else is InvalidInput naming it.

    The query parameter is checked on the way in already; this is the second wall, for any
    caller: the decoder reads exactly a [string, uuid] pair, so no shape or nesting gets past.
    """
    if not cursor:
        return None
    if len(cursor) > MAX_CURSOR or not _CURSOR.match(cursor):
        raise InvalidInput("cursor", _NOT_A_CURSOR)
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        sort_key, row_id = msgspec.json.decode(raw, type=tuple[str, UUID])
    except ValueError:
        # All of them are: binascii.Error, msgspec's DecodeError and ValidationError (a wrong
        # shape), and the UnicodeDecodeError msgspec raises for bytes that are not UTF-8.
        raise InvalidInput("cursor", _NOT_A_CURSOR) from None
    if "\x00" in sort_key:  # no row holds one (PostgreSQL text cannot), so no cursor does
        raise InvalidInput("cursor", _NOT_A_CURSOR)
    return sort_key, row_id
