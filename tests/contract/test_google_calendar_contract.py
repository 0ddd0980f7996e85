"""Contract of the Google Calendar repositories (uow.google_links, google_channels,
google_shadow), on the fakes and PostgreSQL: one link per technician, replaced by the next save;
channels found by id before any tenant is bound (the webhook knows only Google's headers); the
tenants with a live channel (the poll's list); shadow rows by external id, moved in place, never
touching manual blocks or other technicians'. Row-level security on `google_links` is the
matrix's (tests/integration/test_row_level_security.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from uuid import UUID

import attrs

from nmc_domain.scheduling.google import GOOGLE, GoogleLink, new_channel
from nmc_domain.scheduling.model import BusyBlock, Technician, new_technician
from nmc_domain.shared.ports import RowLock
from nmc_domain.tenancy.model import Tenant
from tests.contract.backends import Backend
from tests.contract.builders import stored_tenant

CONNECTED = datetime(2025, 1, 6, 15, 0, tzinfo=UTC)
MON_10 = datetime(2025, 1, 6, 16, 0, tzinfo=UTC)


async def shop(backend: Backend) -> tuple[Tenant, Technician, Technician]:
    tenant, _ = await stored_tenant(backend.new_uow)
    dana = new_technician(tenant_id=tenant.id, name="Dana Reyes")
    ruiz = new_technician(tenant_id=tenant.id, name="Ruiz")
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.technicians.add(dana)
        await uow.technicians.add(ruiz)
        await uow.commit()
    return tenant, dana, ruiz


def a_link(tenant_id: UUID, technician_id: UUID, **changes: object) -> GoogleLink:
    link = GoogleLink(
        tenant_id=tenant_id,
        technician_id=technician_id,
        connection_id=uuid.uuid4(),
        calendar_id="primary",
        refresh_token="gAAAAABsealed-refresh-token",
        connected_at=CONNECTED,
    )
    return attrs.evolve(link, **changes)


def shadow(tenant_id: UUID, technician_id: UUID, external_id: str, hours: int = 0) -> BusyBlock:
    start = MON_10 + timedelta(hours=hours)
    return BusyBlock(
        uuid.uuid4(),
        tenant_id,
        technician_id,
        start,
        start + timedelta(hours=1),
        GOOGLE,
        external_id,
    )


async def test_a_link_round_trips_whole_and_is_replaced_by_the_next_save(backend: Backend) -> None:
    tenant, dana, ruiz = await shop(backend)
    full = a_link(
        tenant.id,
        dana.id,
        zone="America/Chicago",
        sync_token="CPDAlvWDx70CEPDAlvWDx70CGAU=",
        sync_requested_at=CONNECTED + timedelta(minutes=1),
        notices=3,
        notified_at=CONNECTED + timedelta(minutes=2),
        last_synced_at=CONNECTED + timedelta(minutes=3),
        last_sync_error="Google Calendar: could not list the calendar's events",
        revoked_at=CONNECTED + timedelta(minutes=4),
        drift_last=2,
        drift_streak=3,
        channel_id=uuid.uuid4(),
        channel_expires_at=CONNECTED + timedelta(days=7),
    )
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.google_links.get(tenant.id, dana.id) is None
        await uow.google_links.save(full)
        await uow.google_links.save(a_link(tenant.id, ruiz.id))
        assert await uow.google_links.get(tenant.id, dana.id) == full  # own writes read back
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.google_links.get(tenant.id, dana.id, lock=RowLock.UPDATE) == full
        later = a_link(tenant.id, dana.id)
        await uow.google_links.save(later)
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.google_links.get(tenant.id, dana.id) == later
        links = await uow.google_links.of_tenant(tenant.id)
    assert {link.technician_id for link in links} == {dana.id, ruiz.id}
    assert [link.technician_id for link in links] == sorted(link.technician_id for link in links)


async def test_a_deleted_link_is_gone_and_deleting_again_says_so(backend: Backend) -> None:
    tenant, dana, _ = await shop(backend)
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.google_links.save(a_link(tenant.id, dana.id))
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.google_links.delete(tenant.id, dana.id)
        assert await uow.google_links.get(tenant.id, dana.id) is None
        await uow.commit()
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert not await uow.google_links.delete(tenant.id, dana.id)
        assert await uow.google_links.of_tenant(tenant.id) == []


async def test_another_tenants_link_is_not_found(backend: Backend) -> None:
    tenant, dana, _ = await shop(backend)
    other, _ = await stored_tenant(backend.new_uow, "BRIGHT-SPARK")
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.google_links.save(a_link(tenant.id, dana.id))
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(other.id)
        assert await uow.google_links.get(other.id, dana.id) is None
        assert await uow.google_links.of_tenant(other.id) == []


async def test_channels_are_found_by_id_before_any_tenant_is_bound(backend: Backend) -> None:
    tenant, dana, ruiz = await shop(backend)
    now = await backend.clock()
    channel, token = new_channel(tenant.id, dana.id, now)
    other, _ = new_channel(tenant.id, ruiz.id, now)
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.google_channels.add(channel)
        await uow.google_channels.add(other)
        await uow.commit()

    async with backend.new_uow() as uow:  # no tenant bound: the webhook's view
        found = await uow.google_channels.get(channel.id)
        assert await uow.google_channels.get(uuid.uuid4()) is None
    assert found == channel
    assert token not in found.token_hash


async def test_a_channel_is_watched_then_stopped(backend: Backend) -> None:
    tenant, dana, _ = await shop(backend)
    now = await backend.clock()
    first, _ = new_channel(tenant.id, dana.id, now)
    second, _ = new_channel(tenant.id, dana.id, now + timedelta(seconds=1))
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.google_channels.add(first)
        await uow.google_channels.add(second)
        await uow.commit()
    watched = attrs.evolve(
        first, resource_id="ret08u3rv24htgh289g", expires_at=now + timedelta(days=7)
    )

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.google_channels.save(watched)
        assert [c.id for c in await uow.google_channels.live(tenant.id, dana.id)] == [
            first.id,
            second.id,
        ]
        await uow.google_channels.save(attrs.evolve(second, stopped_at=now))
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.google_channels.live(tenant.id, dana.id) == [watched]
        assert await uow.google_channels.get(second.id) == attrs.evolve(second, stopped_at=now)


async def test_the_poll_lists_tenants_with_a_live_channel(backend: Backend) -> None:
    tenant, dana, _ = await shop(backend)
    quiet, _, _ = await shop(backend)
    gone, gone_tech, _ = await shop(backend)
    now = await backend.clock()
    live, _ = new_channel(tenant.id, dana.id, now)
    stopped, _ = new_channel(gone.id, gone_tech.id, now)
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.google_channels.add(live)
        await uow.bind_tenant(gone.id)
        await uow.google_channels.add(attrs.evolve(stopped, stopped_at=now))
        await uow.commit()

    async with backend.new_uow() as uow:
        listed = await uow.google_channels.tenant_ids()

    assert tenant.id in listed
    assert quiet.id not in listed
    assert gone.id not in listed
    assert list(listed) == sorted(listed)


async def test_shadow_rows_are_kept_by_external_id_and_moved_in_place(backend: Backend) -> None:
    tenant, dana, ruiz = await shop(backend)
    standup = shadow(tenant.id, dana.id, "standup")
    lunch = shadow(tenant.id, dana.id, "lunch", hours=2)
    theirs = shadow(tenant.id, ruiz.id, "standup")
    manual = BusyBlock(uuid.uuid4(), tenant.id, dana.id, MON_10, MON_10 + timedelta(hours=8))
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.busy_blocks.add(manual)
        await uow.google_shadow.put([standup, lunch, theirs])
        await uow.commit()

    moved = attrs.evolve(standup, id=uuid.uuid4(), start=MON_10 + timedelta(days=1))
    moved = attrs.evolve(moved, end=moved.start + timedelta(hours=1))
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.google_shadow.put([moved])  # same event, another row id: the row moves
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        rows = await uow.google_shadow.of(tenant.id, dana.id)
        everything = await uow.busy_blocks.page(tenant.id, None, 50)
    assert [b.external_id for b in rows] == ["lunch", "standup"]
    assert rows[1] == attrs.evolve(standup, start=moved.start, end=moved.end)  # kept its id
    assert manual in everything


async def test_removing_and_clearing_touch_only_that_technicians_shadow(backend: Backend) -> None:
    tenant, dana, ruiz = await shop(backend)
    manual = BusyBlock(uuid.uuid4(), tenant.id, dana.id, MON_10, MON_10 + timedelta(hours=8))
    rows = [shadow(tenant.id, dana.id, name, n) for n, name in enumerate(["a", "b", "b#1", "c"])]
    theirs = shadow(tenant.id, ruiz.id, "a")
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.busy_blocks.add(manual)
        await uow.google_shadow.put([*rows, theirs])
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.google_shadow.remove(tenant.id, dana.id, []) == 0
        assert await uow.google_shadow.remove(tenant.id, dana.id, ["a", "b#1", "zzz"]) == 2
        assert [b.external_id for b in await uow.google_shadow.of(tenant.id, dana.id)] == [
            "b",
            "c",
        ]
        await uow.commit()

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.google_shadow.clear(tenant.id, dana.id) == 2
        await uow.commit()
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.google_shadow.of(tenant.id, dana.id) == []
        assert await uow.google_shadow.of(tenant.id, ruiz.id) == [theirs]
        assert manual in await uow.busy_blocks.page(tenant.id, None, 50)


async def test_nothing_is_written_without_a_commit(backend: Backend) -> None:
    tenant, dana, _ = await shop(backend)
    now = await backend.clock()
    channel, _ = new_channel(tenant.id, dana.id, now)
    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        await uow.google_links.save(a_link(tenant.id, dana.id))
        await uow.google_channels.add(channel)
        await uow.google_shadow.put([shadow(tenant.id, dana.id, "standup")])

    async with backend.new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        assert await uow.google_links.get(tenant.id, dana.id) is None
        assert await uow.google_channels.get(channel.id) is None
        assert await uow.google_shadow.of(tenant.id, dana.id) == []
