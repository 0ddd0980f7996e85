"""The Google Calendar links in PostgreSQL: links, push channels (a system table, read before
the tenant is known), and the shadow busy blocks (`source = google`)."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from sqlalchemy import Text, bindparam, delete, func, literal_column, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert

from nmc_adapters.postgres.queries import insert_of, locks, write_now
from nmc_adapters.postgres.rows import RowMapper
from nmc_adapters.postgres.scheduling.google_tables import google_channels, google_links
from nmc_adapters.postgres.scheduling.repository import BLOCKS
from nmc_adapters.postgres.scheduling.tables import busy_blocks
from nmc_adapters.postgres.sql import Db, compiled
from nmc_domain.scheduling.google import GOOGLE, GoogleChannel, GoogleLink
from nmc_domain.scheduling.model import BusyBlock
from nmc_domain.shared.ports import RowLock

__all__ = ["PgGoogleChannels", "PgGoogleLinks", "PgGoogleShadow"]

LINKS = RowMapper(GoogleLink)
_KEY = ("tenant_id", "technician_id")
_LINK_GET = locks(
    select(google_links).where(
        google_links.c.tenant_id == bindparam("tenant_id"),
        google_links.c.technician_id == bindparam("technician_id"),
    )
)
_LINK_SAVE = compiled(
    pg_insert(google_links)
    .values({c: bindparam(c) for c in LINKS.columns})
    .on_conflict_do_update(
        index_elements=list(_KEY),
        set_={c: bindparam(c) for c in LINKS.columns if c not in _KEY} | {"updated_at": func.now()},
    )
)
_LINK_DELETE = compiled(
    delete(google_links)
    .where(
        google_links.c.tenant_id == bindparam("tenant_id"),
        google_links.c.technician_id == bindparam("technician_id"),
    )
    .returning(google_links.c.technician_id)
)
_LINKS_OF = compiled(
    select(google_links)
    .where(google_links.c.tenant_id == bindparam("tenant_id"))
    .order_by(google_links.c.technician_id)
)


class PgGoogleLinks:
    def __init__(self, db: Db) -> None:
        self._db = db

    async def get(
        self, tenant_id: UUID, technician_id: UUID, *, lock: RowLock = RowLock.NONE
    ) -> GoogleLink | None:
        params = {"tenant_id": tenant_id, "technician_id": technician_id}
        row = await self._db.one(_LINK_GET[lock], params)
        return None if row is None else LINKS.value(row)

    async def save(self, link: GoogleLink) -> None:
        await write_now(self._db, _LINK_SAVE, LINKS.row(link), {})

    async def delete(self, tenant_id: UUID, technician_id: UUID) -> bool:
        params = {"tenant_id": tenant_id, "technician_id": technician_id}
        return await self._db.one(_LINK_DELETE, params) is not None

    async def of_tenant(self, tenant_id: UUID) -> Sequence[GoogleLink]:
        rows = await self._db.all(_LINKS_OF, {"tenant_id": tenant_id})
        return [LINKS.value(row) for row in rows]


CHANNELS = RowMapper(GoogleChannel, rename={"id": "channel_id"})
_CHANNEL_ADD = insert_of(google_channels, CHANNELS.columns)
_CHANNEL_SAVE = compiled(
    google_channels.update()
    .where(google_channels.c.channel_id == bindparam("channel_id"))
    .values(
        resource_id=bindparam("resource_id"),
        expires_at=bindparam("expires_at"),
        stopped_at=bindparam("stopped_at"),
    )
)
_CHANNEL_GET = compiled(
    select(google_channels).where(google_channels.c.channel_id == bindparam("channel_id"))
)
_CHANNELS_LIVE = compiled(
    select(google_channels)
    .where(
        google_channels.c.tenant_id == bindparam("tenant_id"),
        google_channels.c.technician_id == bindparam("technician_id"),
        google_channels.c.stopped_at.is_(None),
    )
    .order_by(google_channels.c.created_at, google_channels.c.channel_id)
)
_CHANNEL_TENANTS = compiled(
    select(google_channels.c.tenant_id)
    .where(google_channels.c.stopped_at.is_(None))
    .distinct()
    .order_by(google_channels.c.tenant_id)
)


class PgGoogleChannels:
    """`google_channels`: a system table, so `get` and `tenant_ids` need no tenant bound."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def add(self, channel: GoogleChannel) -> None:
        await write_now(self._db, _CHANNEL_ADD, CHANNELS.row(channel), {})

    async def save(self, channel: GoogleChannel) -> None:
        await self._db.run(_CHANNEL_SAVE, CHANNELS.row(channel))

    async def get(self, channel_id: UUID) -> GoogleChannel | None:
        row = await self._db.one(_CHANNEL_GET, {"channel_id": channel_id})
        return None if row is None else CHANNELS.value(row)

    async def live(self, tenant_id: UUID, technician_id: UUID) -> Sequence[GoogleChannel]:
        params = {"tenant_id": tenant_id, "technician_id": technician_id}
        return [CHANNELS.value(row) for row in await self._db.all(_CHANNELS_LIVE, params)]

    async def tenant_ids(self) -> Sequence[UUID]:
        return [row["tenant_id"] for row in await self._db.all(_CHANNEL_TENANTS)]


_SHADOW = (
    busy_blocks.c.tenant_id == bindparam("tenant_id"),
    busy_blocks.c.technician_id == bindparam("technician_id"),
    busy_blocks.c.source == literal_column(f"'{GOOGLE}'"),
)
_SHADOW_OF = compiled(select(busy_blocks).where(*_SHADOW).order_by(busy_blocks.c.external_id))
_SHADOW_PUT = compiled(
    pg_insert(busy_blocks)
    .values({c: bindparam(c) for c in BLOCKS.columns})
    .on_conflict_do_update(
        constraint="busy_blocks_one_per_event",
        set_={"start_at": bindparam("start_at"), "end_at": bindparam("end_at")},
    )
)
_SHADOW_REMOVE = compiled(
    delete(busy_blocks)
    .where(
        *_SHADOW,
        busy_blocks.c.external_id == func.any(bindparam("external_ids", type_=ARRAY(Text))),
    )
    .returning(busy_blocks.c.id)
)
_SHADOW_CLEAR = compiled(delete(busy_blocks).where(*_SHADOW).returning(busy_blocks.c.id))


class PgGoogleShadow:
    """The technician's busy blocks with source 'google', by external id."""

    def __init__(self, db: Db) -> None:
        self._db = db

    async def of(self, tenant_id: UUID, technician_id: UUID) -> Sequence[BusyBlock]:
        params = {"tenant_id": tenant_id, "technician_id": technician_id}
        return [BLOCKS.value(row) for row in await self._db.all(_SHADOW_OF, params)]

    async def put(self, blocks: Sequence[BusyBlock]) -> None:
        for block in blocks:
            if block.source != GOOGLE or block.external_id is None:
                raise ValueError("a shadow block has source 'google' and an external id")
            # Pipelined: a calendar's worth of rows leaves in one go, with the commit.
            await self._db.run(_SHADOW_PUT, BLOCKS.row(block))

    async def remove(
        self, tenant_id: UUID, technician_id: UUID, external_ids: Sequence[str]
    ) -> int:
        if not external_ids:
            return 0
        params = {
            "tenant_id": tenant_id,
            "technician_id": technician_id,
            "external_ids": list(external_ids),
        }
        return len(await self._db.all(_SHADOW_REMOVE, params))

    async def clear(self, tenant_id: UUID, technician_id: UUID) -> int:
        params = {"tenant_id": tenant_id, "technician_id": technician_id}
        return len(await self._db.all(_SHADOW_CLEAR, params))
