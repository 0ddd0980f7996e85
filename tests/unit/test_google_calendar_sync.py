"""Google Calendar inbound on the in-memory fakes: connecting (OAuth state, the stored link and
its placeholder channel), the worker's first watch and sync, notifications coalescing into one
queued sync, incremental and full syncs (410 in the middle of paging), a provider outage that
keeps every shadow row, a revoked grant, drift, channel renewal, the poll and disconnecting.

The store's clock starts on Monday 2025-01-06 at 09:00 in Chicago (15:00 UTC).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import attrs
import pytest
from cryptography.fernet import Fernet

from nmc_adapters.crypto import FernetSealer
from nmc_adapters.memory import InMemoryStore, InMemoryUnitOfWork
from nmc_adapters.memory.scheduling.google_calendar import FakeGoogleCalendar
from nmc_domain.identity.model import Principal
from nmc_domain.identity.users import add_user
from nmc_domain.scheduling.events import (
    GoogleCalendarConnected,
    GoogleCalendarDisconnected,
    GoogleChannelStopRequested,
    GoogleSyncRequested,
)
from nmc_domain.scheduling.google import GOOGLE, GoogleCalendarNotConfigured, GoogleLink
from nmc_domain.scheduling.google_channels import (
    ChannelResult,
    google_connected,
    open_google_channel,
    revoke_google_grant,
    stop_google_channel,
)
from nmc_domain.scheduling.google_connect import (
    connect_google,
    disconnect_google,
    finish_google_connect,
    google_calendar_status,
)
from nmc_domain.scheduling.google_notices import (
    GoogleNotice,
    NoticeOutcome,
    receive_google_notification,
    request_google_sync,
)
from nmc_domain.scheduling.google_poll import poll_google_calendars
from nmc_domain.scheduling.google_ports import (
    CalendarProviderError,
    GoogleEvent,
    SyncTokenExpired,
)
from nmc_domain.scheduling.google_sync import SyncResult, sync_google_calendar
from nmc_domain.scheduling.model import BusyBlock, Technician
from nmc_domain.scheduling.setup import add_technician
from nmc_domain.shared.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    StorageUnavailable,
    TryAgain,
)
from nmc_domain.shared.events import DomainEvent
from nmc_domain.tenancy.model import Tenant
from tests.support.tenants import onboard

OWNER_EMAIL = "owner@acme-plumbing.example"
REFRESH = "1//0gDanaRefreshToken"
MON_10 = datetime(2025, 1, 6, 16, 0, tzinfo=UTC)  # 10 am in Chicago


def meeting(event_id: str, start: datetime, hours: float = 1, **more: Any) -> GoogleEvent:
    return GoogleEvent(
        event_id, "confirmed", start=start, end=start + timedelta(hours=hours), **more
    )


@attrs.define
class Shop:
    store: InMemoryStore
    tenant: Tenant
    owner: Principal
    dana: Technician
    google: FakeGoogleCalendar
    sealer: FernetSealer
    codes: int = 0

    def uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store)

    async def consent_state(self, technician_id: UUID | None = None) -> str:
        url = await connect_google(
            self.uow(), self.google, self.sealer, self.owner, technician_id or self.dana.id
        )
        return parse_qs(urlsplit(url).query)["state"][0]

    async def connect(self, refresh: str = REFRESH, **grant: Any) -> GoogleLink:
        self.codes += 1
        code = f"4/0Acode{self.codes}"
        self.google.grant(code, refresh, **grant)
        await finish_google_connect(
            self.uow(), self.google, self.sealer, await self.consent_state(), code
        )
        link = await self.link()
        assert link is not None
        return link

    async def connected(self, refresh: str = REFRESH, **grant: Any) -> GoogleLink:
        """Connected, with the worker's first watch and sync done."""
        link = await self.connect(refresh, **grant)
        await google_connected(
            self.uow, self.google, self.sealer, self.event(GoogleCalendarConnected)
        )
        assert link.connection_id == self.event(GoogleCalendarConnected).connection_id
        found = await self.link()
        assert found is not None
        return found

    async def first_watch_and_sync(self) -> Any:
        event = self.event(GoogleCalendarConnected)
        return await google_connected(self.uow, self.google, self.sealer, event)

    async def link(self) -> GoogleLink | None:
        async with self.uow() as uow:
            return await uow.google_links.get(self.tenant.id, self.dana.id)

    async def sync(self) -> Any:
        return await sync_google_calendar(
            self.uow, self.google, self.sealer, self.tenant.id, self.dana.id
        )

    def blocks(self) -> dict[str, tuple[datetime, datetime]]:
        return {
            b.external_id: (b.start, b.end)
            for b in self.store.busy_blocks.values()
            if b is not None and b.source == GOOGLE
        }

    def events(self, kind: type[DomainEvent]) -> list[Any]:
        return [e for e in self.store.outbox_events() if isinstance(e, kind)]

    def event(self, kind: type[DomainEvent]) -> Any:
        return self.events(kind)[-1]

    def channels(self) -> list[Any]:
        return sorted(self.store.google_channels.values(), key=lambda c: c.created_at)

    async def notify(self, state: str = "exists", *, token: str | None = None) -> NoticeOutcome:
        link = await self.link()
        assert link is not None
        watch = next(w for w in self.google.watches if w.channel_id == str(link.channel_id))
        notice = GoogleNotice(watch.channel_id, token or watch.token, state)
        return await receive_google_notification(self.uow(), notice)


@pytest.fixture
async def shop() -> Shop:
    store = InMemoryStore()

    def new_uow() -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(store)

    tenant, _ = await onboard(new_uow)
    owner = Principal(OWNER_EMAIL, tenant.id)
    dana = await add_technician(new_uow(), owner, name="Dana Reyes")
    google = FakeGoogleCalendar(zone="America/Chicago")
    return Shop(store, tenant, owner, dana, google, FernetSealer(Fernet.generate_key().decode()))


# --- connecting ---------------------------------------------------------------------------------


async def test_connecting_needs_google_settings_and_a_known_technician(shop: Shop) -> None:
    with pytest.raises(GoogleCalendarNotConfigured):
        await connect_google(shop.uow(), None, shop.sealer, shop.owner, shop.dana.id)
    with pytest.raises(NotFound):
        await connect_google(shop.uow(), shop.google, shop.sealer, shop.owner, uuid.uuid4())
    await add_user(shop.uow(), shop.owner, email="dana@acme-plumbing.example", role="TECH")
    tech = Principal("dana@acme-plumbing.example", shop.tenant.id)
    with pytest.raises(PermissionDenied):
        await connect_google(shop.uow(), shop.google, shop.sealer, tech, shop.dana.id)


async def test_the_callback_stores_the_link_sealed_and_queues_the_first_watch(shop: Shop) -> None:
    link = await shop.connect()

    assert link.refresh_token != REFRESH
    assert shop.sealer.unseal(link.refresh_token) == REFRESH
    assert (link.calendar_id, link.connected_at, link.sync_token) == (
        "primary",
        shop.store.now,
        None,
    )
    assert link.sync_pending(shop.store.now)  # the first sync is queued: notices coalesce
    (placeholder,) = shop.channels()
    assert (placeholder.id, placeholder.live, placeholder.watched) == (link.channel_id, True, False)
    assert shop.event(GoogleCalendarConnected) == GoogleCalendarConnected(
        shop.tenant.id, shop.dana.id, link.connection_id
    )
    assert shop.google.watches == []  # Google is asked by the worker, not the callback


async def test_a_state_is_spent_once_and_names_its_provider_and_technician(shop: Shop) -> None:
    state = await shop.consent_state()
    shop.google.grant("4/0Afirst", REFRESH)
    await finish_google_connect(shop.uow(), shop.google, shop.sealer, state, "4/0Afirst")
    shop.google.grant("4/0Asecond", REFRESH)

    with pytest.raises(InvalidInput, match="already used"):
        await finish_google_connect(shop.uow(), shop.google, shop.sealer, state, "4/0Asecond")
    assert shop.google.calls.count("exchange_code") == 1  # refused before Google is asked
    with pytest.raises(InvalidInput, match="state"):
        await finish_google_connect(shop.uow(), shop.google, shop.sealer, "forged", "4/0Asecond")
    with pytest.raises(InvalidInput, match="code"):
        await finish_google_connect(
            shop.uow(), shop.google, shop.sealer, await shop.consent_state(), None
        )
    from nmc_domain.scheduling.oauth import issue_state

    jobber = issue_state(shop.sealer, "jobber", shop.tenant.id)
    with pytest.raises(InvalidInput, match="jobber"):
        await finish_google_connect(shop.uow(), shop.google, shop.sealer, jobber, "4/0Asecond")
    nobody = issue_state(shop.sealer, "google", shop.tenant.id)
    with pytest.raises(InvalidInput, match="no technician"):
        await finish_google_connect(shop.uow(), shop.google, shop.sealer, nobody, "4/0Asecond")


async def test_an_expired_state_is_refused(shop: Shop) -> None:
    key = Fernet.generate_key().decode()
    issued = FernetSealer(key, clock=lambda: 1_000_000.0)
    state = await connect_google(shop.uow(), shop.google, issued, shop.owner, shop.dana.id)
    token = parse_qs(urlsplit(state).query)["state"][0]
    later = FernetSealer(key, clock=lambda: 1_000_000.0 + 601)

    with pytest.raises(InvalidInput, match="expired"):
        await finish_google_connect(shop.uow(), shop.google, later, token, "4/0Aany")


async def test_a_code_google_refuses_leaves_nothing_and_the_state_unspent(shop: Shop) -> None:
    state = await shop.consent_state()

    with pytest.raises(CalendarProviderError):
        await finish_google_connect(shop.uow(), shop.google, shop.sealer, state, "4/0Aunknown")

    assert await shop.link() is None
    shop.google.grant("4/0Aretry", REFRESH)
    await finish_google_connect(shop.uow(), shop.google, shop.sealer, state, "4/0Aretry")
    assert await shop.link() is not None


async def test_a_technician_removed_meanwhile_is_not_found(shop: Shop) -> None:
    ghost = await add_technician(shop.uow(), shop.owner, name="Gone Soon")
    state = await shop.consent_state(ghost.id)
    shop.store.technicians[shop.tenant.id, ghost.id] = None  # deleted behind our back
    shop.google.grant("4/0Aghost", REFRESH)

    with pytest.raises(NotFound):
        await finish_google_connect(shop.uow(), shop.google, shop.sealer, state, "4/0Aghost")


async def test_reconnecting_replaces_the_link_and_stops_the_old_channels(shop: Shop) -> None:
    first = await shop.connected()
    shop.google.set_event(REFRESH, meeting("standup", MON_10))

    second = await shop.connect("1//0gDanaSecondGrant")

    assert second.connection_id != first.connection_id
    old = next(c for c in shop.channels() if c.id == first.channel_id)
    assert old.stopped_at is not None
    stop = shop.event(GoogleChannelStopRequested)
    assert (stop.channel_id, stop.resource_id) == (old.id, old.resource_id)
    assert shop.sealer.unseal(stop.refresh_token_sealed) == REFRESH  # stopped with its own grant
    assert shop.events(GoogleCalendarDisconnected) == []  # no revoke: it may share the new grant


# --- the worker's first watch and sync ----------------------------------------------------------


async def test_the_first_watch_uses_a_fresh_channel_stored_before_google_is_asked(
    shop: Shop,
) -> None:
    shop.google.set_event(REFRESH, meeting("dentist", MON_10 + timedelta(days=1)))
    link = await shop.connect()

    result, synced = await google_connected(
        shop.uow, shop.google, shop.sealer, shop.event(GoogleCalendarConnected)
    )

    assert result is ChannelResult.OPENED
    placeholder, opened = shop.channels()
    assert (placeholder.id, placeholder.stopped_at) == (link.channel_id, shop.store.now)
    (watch,) = shop.google.watches
    assert watch.channel_id == str(opened.id)
    assert (opened.resource_id, opened.live) == (watch.resource_id, True)
    now = await shop.link()
    assert now is not None
    assert (now.channel_id, now.channel_expires_at) == (opened.id, opened.expires_at)
    assert synced.result is SyncResult.SYNCED
    assert synced.full
    assert synced.drift is None  # the first sync is no drift
    assert shop.blocks() == {
        "dentist": (MON_10 + timedelta(days=1), MON_10 + timedelta(days=1, hours=1))
    }
    assert now.sync_token is not None
    assert now.last_synced_at == shop.store.now
    assert not now.sync_pending(shop.store.now)


async def test_a_watch_that_fails_still_syncs_then_is_retried_with_another_channel(
    shop: Shop,
) -> None:
    await shop.connect()
    shop.google.fail_next("watch", CalendarProviderError("HTTP 500", status=500))
    shop.google.set_event(REFRESH, meeting("standup", MON_10))

    with pytest.raises(CalendarProviderError):
        await google_connected(
            shop.uow, shop.google, shop.sealer, shop.event(GoogleCalendarConnected)
        )

    assert "standup" in shop.blocks()  # the sync ran anyway
    link = await shop.link()
    assert link is not None
    assert link.last_sync_error is None  # the sync after the watch cleared it
    first = link.channel_id
    result, _ = await shop.first_watch_and_sync()
    assert result is ChannelResult.OPENED
    (watch,) = shop.google.watches
    assert watch.channel_id != str(first)  # never the id a failed (maybe ambiguous) watch used


async def test_a_stale_connected_event_does_nothing(shop: Shop) -> None:
    await shop.connect()
    stale = attrs.evolve(shop.event(GoogleCalendarConnected), connection_id=uuid.uuid4())

    result, synced = await google_connected(shop.uow, shop.google, shop.sealer, stale)

    assert (result, synced.result) == (ChannelResult.NOT_CONNECTED, SyncResult.NOT_CONNECTED)
    assert shop.google.watches == []


async def test_a_watch_superseded_while_google_answered_is_stopped_at_once(shop: Shop) -> None:
    await shop.connect()
    started: list[bool] = []
    inner: list[ChannelResult] = []
    watch = shop.google.watch

    async def open_channel() -> ChannelResult:
        return await open_google_channel(
            shop.uow, shop.google, shop.sealer, shop.tenant.id, shop.dana.id
        )

    async def renewing_meanwhile(*args: Any, **kw: Any) -> Any:
        answer = await watch(*args, **kw)
        if not started:  # another worker opens a channel while Google answers us
            started.append(True)
            inner.append(await open_channel())
        return answer

    shop.google.watch = renewing_meanwhile  # type: ignore[method-assign]

    result = await open_channel()

    assert (inner, result) == ([ChannelResult.OPENED], ChannelResult.SUPERSEDED)
    first, second = shop.google.watches
    stop = shop.event(GoogleChannelStopRequested)
    assert (str(stop.channel_id), stop.resource_id) == (first.channel_id, first.resource_id)
    link = await shop.link()
    assert link is not None
    assert str(link.channel_id) == second.channel_id


async def test_a_watch_with_a_revoked_grant_asks_for_a_reconnect(shop: Shop) -> None:
    await shop.connect()
    shop.google.revoke_grant(REFRESH)

    result = await open_google_channel(
        shop.uow, shop.google, shop.sealer, shop.tenant.id, shop.dana.id
    )

    link = await shop.link()
    assert link is not None
    assert result is ChannelResult.RECONNECT_NEEDED
    assert link.revoked_at is not None
    assert (
        await open_google_channel(shop.uow, shop.google, shop.sealer, shop.tenant.id, shop.dana.id)
        is ChannelResult.RECONNECT_NEEDED
    )


# --- notifications ------------------------------------------------------------------------------


async def test_notifications_coalesce_into_one_queued_sync(shop: Shop) -> None:
    await shop.connected()
    before = len(shop.events(GoogleSyncRequested))

    outcomes = [await shop.notify() for _ in range(4)] + [await shop.notify("not_exists")]

    assert outcomes == [NoticeOutcome.QUEUED] + [NoticeOutcome.COALESCED] * 4
    assert len(shop.events(GoogleSyncRequested)) == before + 1
    assert shop.event(GoogleSyncRequested).reason == "webhook"
    link = await shop.link()
    assert link is not None
    assert (link.notices, link.notified_at) == (5, shop.store.now)


async def test_a_sync_notification_wrong_token_and_unknown_channels(shop: Shop) -> None:
    await shop.connected()
    before = len(shop.store.outbox_rows)

    assert await shop.notify("sync") is NoticeOutcome.SYNC
    assert await shop.notify(token="not-the-token") is NoticeOutcome.FORBIDDEN
    assert await shop.notify("unknown-state") is NoticeOutcome.IGNORED
    for channel_id in ("not-a-uuid", None, str(uuid.uuid4())):
        notice = GoogleNotice(channel_id, "whatever", "exists")
        assert await receive_google_notification(shop.uow(), notice) is NoticeOutcome.IGNORED
    assert len(shop.store.outbox_rows) == before
    link = await shop.link()
    assert link is not None
    assert link.notices == 0


async def test_a_stopped_channel_is_ignored(shop: Shop) -> None:
    first = await shop.connected()
    old = next(w for w in shop.google.watches if w.channel_id == str(first.channel_id))
    await shop.connect("1//0gDanaSecondGrant")

    notice = GoogleNotice(old.channel_id, old.token, "exists")
    assert await receive_google_notification(shop.uow(), notice) is NoticeOutcome.IGNORED


async def test_a_notification_for_a_channel_whose_link_is_gone_is_ignored(shop: Shop) -> None:
    link = await shop.connected()
    shop.store.google_links[shop.tenant.id, shop.dana.id] = None  # gone behind the channel
    watch = next(w for w in shop.google.watches if w.channel_id == str(link.channel_id))

    notice = GoogleNotice(watch.channel_id, watch.token, "exists")
    assert await receive_google_notification(shop.uow(), notice) is NoticeOutcome.IGNORED


async def test_a_notification_arriving_during_the_fetch_queues_the_next_run(shop: Shop) -> None:
    await shop.connected()
    shop.google.set_event(REFRESH, meeting("callback", MON_10))
    await shop.notify()
    list_events = shop.google.list_events
    seen: list[NoticeOutcome] = []

    async def notified_meanwhile(*args: Any, **kw: Any) -> Any:
        page = await list_events(*args, **kw)
        seen.append(await shop.notify())
        return page

    shop.google.list_events = notified_meanwhile  # type: ignore[method-assign]
    synced = await shop.sync()

    assert seen == [NoticeOutcome.QUEUED]  # the run cleared the mark before it fetched
    assert synced.drift is None  # announced
    link = await shop.link()
    assert link is not None
    assert (link.notices, link.notified_at) == (1, shop.store.now)  # the later one is kept


# --- syncing ------------------------------------------------------------------------------------


async def test_incremental_syncs_follow_moves_cancellations_and_free_time(shop: Shop) -> None:
    shop.google.set_event(REFRESH, meeting("standup", MON_10))
    shop.google.set_event(REFRESH, meeting("lunch", MON_10 + timedelta(hours=2)))
    await shop.connected()
    shop.google.set_event(REFRESH, meeting("standup", MON_10 + timedelta(days=1)))
    shop.google.set_event(
        REFRESH, meeting("lunch", MON_10 + timedelta(hours=2), transparency="transparent")
    )
    shop.google.set_event(REFRESH, meeting("new", MON_10 + timedelta(days=2), hours=2))
    ours = uuid.uuid4()
    shop.google.set_event(REFRESH, meeting("nmc" + ours.hex, MON_10 + timedelta(days=3)))

    synced = await shop.sync()

    assert (synced.result, synced.full, synced.changed) == (SyncResult.SYNCED, False, 3)
    assert shop.blocks() == {
        "standup": (MON_10 + timedelta(days=1), MON_10 + timedelta(days=1, hours=1)),
        "new": (MON_10 + timedelta(days=2), MON_10 + timedelta(days=2, hours=2)),
    }
    shop.google.cancel_event(REFRESH, "standup")
    await shop.sync()
    assert set(shop.blocks()) == {"new"}


async def test_a_cancelled_instance_of_a_recurring_event_frees_its_time(shop: Shop) -> None:
    for week in range(3):
        start = MON_10 + timedelta(weeks=week)
        shop.google.set_event(
            REFRESH,
            meeting(f"weekly_{start:%Y%m%dT%H%M%SZ}", start, recurring_event_id="weekly"),
        )
    await shop.connected()
    second = f"weekly_{MON_10 + timedelta(weeks=1):%Y%m%dT%H%M%SZ}"

    shop.google.cancel_event(REFRESH, second)
    await shop.sync()

    assert len(shop.blocks()) == 2
    assert second not in shop.blocks()


async def test_410_in_the_middle_of_paging_wipes_and_resyncs_in_one_run(shop: Shop) -> None:
    shop.google.page_size = 2
    for n in range(5):
        shop.google.set_event(REFRESH, meeting(f"job{n}", MON_10 + timedelta(days=n)))
    await shop.connected()
    del shop.google.calendar(REFRESH).events["job0"]  # gone without a trace: only a full sync
    for n in range(5, 10):  # knows; the changes span three pages
        shop.google.set_event(REFRESH, meeting(f"job{n}", MON_10 + timedelta(days=n)))
    list_events = shop.google.list_events
    asked: list[tuple[bool, bool]] = []

    async def forgetting_after_the_first_page(*args: Any, **kw: Any) -> Any:
        asked.append((kw.get("sync_token") is not None, kw.get("page_token") is not None))
        if asked == [(True, True)] or asked[-2:] == [(True, False), (True, True)]:
            shop.google.invalidate_sync_tokens(REFRESH)  # the page token dies with it
        return await list_events(*args, **kw)

    shop.google.list_events = forgetting_after_the_first_page  # type: ignore[method-assign]
    synced = await shop.sync()

    assert asked[:2] == [(True, False), (True, True)]  # the second page answered 410
    assert (False, False) in asked[2:]  # then the full window, from its first page
    assert (synced.result, synced.full) == (SyncResult.SYNCED, True)
    assert set(shop.blocks()) == {f"job{n}" for n in range(1, 10)}
    link = await shop.link()
    assert link is not None
    assert link.sync_token is not None


async def test_a_500_in_the_middle_of_paging_writes_nothing(shop: Shop) -> None:
    shop.google.page_size = 1
    shop.google.set_event(REFRESH, meeting("standup", MON_10))
    await shop.connected()
    shop.google.set_event(REFRESH, meeting("standup", MON_10 + timedelta(hours=5)))
    shop.google.set_event(REFRESH, meeting("review", MON_10 + timedelta(days=1)))
    shop.google.fail_next(
        "list_events", CalendarProviderError("HTTP 500", status=500), after_pages=1
    )

    with pytest.raises(CalendarProviderError):
        await shop.sync()

    assert shop.blocks() == {"standup": (MON_10, MON_10 + timedelta(hours=1))}


async def test_a_google_outage_keeps_every_shadow_row_and_is_retried(shop: Shop) -> None:
    shop.google.set_event(REFRESH, meeting("standup", MON_10))
    await shop.connected()
    before = shop.blocks()
    await shop.notify()
    shop.google.fail_next("list_events", CalendarProviderError("HTTP 500", status=500))

    with pytest.raises(CalendarProviderError):
        await shop.sync()

    assert shop.blocks() == before
    link = await shop.link()
    assert link is not None
    assert link.last_sync_error == "Google Calendar: HTTP 500"
    assert link.sync_pending(shop.store.now)  # the retried job is the queued one
    assert link.notices == 1  # still unsynced: the retry is announced
    assert await shop.notify() is NoticeOutcome.COALESCED
    synced = await shop.sync()
    assert synced.drift is None
    status = await google_calendar_status(shop.uow(), shop.owner, shop.dana.id)
    assert status.last_error is None


async def test_an_outage_after_a_410_goes_straight_to_a_full_sync_next_time(shop: Shop) -> None:
    await shop.connected()
    shop.google.fail_next("list_events", SyncTokenExpired("410", status=410))
    shop.google.fail_next("list_events", CalendarProviderError("HTTP 503", status=503))

    with pytest.raises(CalendarProviderError):
        await shop.sync()

    link = await shop.link()
    assert link is not None
    assert link.sync_token is None
    assert (await shop.sync()).full


async def test_a_revoked_grant_is_recorded_not_retried(shop: Shop) -> None:
    shop.google.set_event(REFRESH, meeting("standup", MON_10))
    await shop.connected()
    shop.google.revoke_grant(REFRESH)

    synced = await shop.sync()

    assert synced.result is SyncResult.RECONNECT_NEEDED
    assert set(shop.blocks()) == {"standup"}
    status = await google_calendar_status(shop.uow(), shop.owner, shop.dana.id)
    assert status.last_error == "reconnect needed: Google refused the grant"
    assert (await shop.sync()).result is SyncResult.RECONNECT_NEEDED
    before = len(shop.store.outbox_rows)
    assert await shop.notify() is NoticeOutcome.COALESCED  # noted, nothing queued
    assert len(shop.store.outbox_rows) == before


async def test_a_sealed_token_from_another_key_needs_a_reconnect(shop: Shop) -> None:
    await shop.connected()
    shop.sealer = FernetSealer(Fernet.generate_key().decode())

    assert (await shop.sync()).result is SyncResult.RECONNECT_NEEDED


async def test_all_day_events_use_the_calendars_zone_across_dst(shop: Shop) -> None:
    shop.store.now = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    shop.google.set_event(
        REFRESH,
        GoogleEvent(
            "springforward", "confirmed", start_date=date(2026, 3, 8), end_date=date(2026, 3, 9)
        ),
    )

    await shop.connected(zone="America/Chicago")

    assert shop.blocks() == {
        "springforward": (
            datetime(2026, 3, 8, 6, 0, tzinfo=UTC),
            datetime(2026, 3, 9, 5, 0, tzinfo=UTC),
        )
    }
    link = await shop.link()
    assert link is not None
    assert link.zone == "America/Chicago"


async def test_a_calendar_zone_google_does_not_name_falls_back_to_the_tenants(shop: Shop) -> None:
    shop.google.set_event(
        REFRESH,
        GoogleEvent("holiday", "confirmed", start_date=date(2025, 1, 8), end_date=date(2025, 1, 9)),
    )

    shop.google.calendar(REFRESH).zone = "Mars/Olympus_Mons"

    await shop.connected()

    assert shop.blocks()["holiday"][0] == datetime(2025, 1, 8, 6, 0, tzinfo=UTC)


async def test_a_run_beaten_by_another_starts_over(shop: Shop) -> None:
    await shop.connected()
    shop.google.set_event(REFRESH, meeting("late", MON_10))
    list_events = shop.google.list_events
    nested: list[Any] = []

    async def another_run_applies_first(*args: Any, **kw: Any) -> Any:
        page = await list_events(*args, **kw)
        if not nested:
            nested.append(None)
            nested[0] = await shop.sync()
        return page

    shop.google.list_events = another_run_applies_first  # type: ignore[method-assign]
    synced = await shop.sync()

    assert nested[0].result is SyncResult.SYNCED
    assert synced.result is SyncResult.SYNCED
    assert set(shop.blocks()) == {"late"}


async def test_a_calendar_that_keeps_changing_under_its_sync_is_retried(shop: Shop) -> None:
    await shop.connected()
    list_events = shop.google.list_events

    async def always_beaten(*args: Any, **kw: Any) -> Any:
        page = await list_events(*args, **kw)
        async with shop.uow() as uow:  # someone else's run keeps saving a newer token
            link = await uow.google_links.get(shop.tenant.id, shop.dana.id)
            assert link is not None
            newer = f"sync-{len(shop.google.calls)}-0"
            await uow.google_links.save(attrs.evolve(link, sync_token=newer))
            await uow.commit()
        return page

    shop.google.list_events = always_beaten  # type: ignore[method-assign]
    with pytest.raises(TryAgain):
        await shop.sync()


async def test_a_connection_replaced_during_the_fetch_is_not_written(shop: Shop) -> None:
    await shop.connected()
    shop.google.set_event(REFRESH, meeting("old-account", MON_10))
    list_events = shop.google.list_events

    async def reconnected_meanwhile(*args: Any, **kw: Any) -> Any:
        page = await list_events(*args, **kw)
        if "old-account" in {e.id for e in page.events}:
            await shop.connect("1//0gDanaOtherAccount")
        return page

    shop.google.list_events = reconnected_meanwhile  # type: ignore[method-assign]
    synced = await shop.sync()

    assert synced.result is SyncResult.NOT_CONNECTED
    assert "old-account" not in shop.blocks()


async def test_a_page_token_expiring_during_a_full_sync_starts_it_over(shop: Shop) -> None:
    shop.google.page_size = 1
    for n in range(3):
        shop.google.set_event(REFRESH, meeting(f"job{n}", MON_10 + timedelta(days=n)))
    await shop.connect()
    list_events = shop.google.list_events
    pages: list[bool] = []

    async def forgetting_once(*args: Any, **kw: Any) -> Any:
        pages.append(kw.get("page_token") is not None)
        if pages == [False, True]:
            shop.google.invalidate_sync_tokens(REFRESH)
        return await list_events(*args, **kw)

    shop.google.list_events = forgetting_once  # type: ignore[method-assign]
    _, synced = await shop.first_watch_and_sync()

    assert pages[:3] == [False, True, False]  # the second page answered 410: from the top
    assert synced.full
    assert set(shop.blocks()) == {"job0", "job1", "job2"}


async def test_a_listing_that_never_ends_is_a_provider_error(shop: Shop) -> None:
    await shop.connected()
    list_events = shop.google.list_events

    async def endless(*args: Any, **kw: Any) -> Any:
        page = await list_events(*args, **{**kw, "page_token": None})
        return attrs.evolve(page, next_page_token="again", next_sync_token=None)

    shop.google.list_events = endless  # type: ignore[method-assign]
    with pytest.raises(CalendarProviderError, match="pages"):
        await shop.sync()


async def test_a_failure_after_a_reconnect_is_not_recorded_on_the_new_link(shop: Shop) -> None:
    await shop.connected()
    list_events = shop.google.list_events

    async def reconnected_then_failing(*args: Any, **kw: Any) -> Any:
        await shop.connect("1//0gDanaOtherAccount")
        raise CalendarProviderError("HTTP 502", status=502)

    shop.google.list_events = reconnected_then_failing  # type: ignore[method-assign]
    with pytest.raises(CalendarProviderError):
        await shop.sync()
    shop.google.list_events = list_events  # type: ignore[method-assign]

    link = await shop.link()
    assert link is not None
    assert link.last_sync_error is None


async def test_syncing_nothing_connected(shop: Shop) -> None:
    assert (await shop.sync()).result is SyncResult.NOT_CONNECTED


# --- drift --------------------------------------------------------------------------------------


async def test_drift_counts_rows_an_unannounced_sync_changed(shop: Shop) -> None:
    await shop.connected()
    streaks = []
    for n in range(3):  # three polls in a row find changes no notification announced
        shop.google.set_event(REFRESH, meeting(f"unannounced{n}", MON_10 + timedelta(days=n)))
        shop.google.set_event(REFRESH, meeting(f"also{n}", MON_10 + timedelta(days=n, hours=3)))
        synced = await shop.sync()
        streaks.append((synced.drift, synced.drift_streak, synced.drift_warning))

    assert streaks == [(2, 1, False), (2, 2, False), (2, 3, True)]
    link = await shop.link()
    assert link is not None
    assert (link.drift_last, link.drift_streak) == (2, 3)
    quiet = await shop.sync()
    assert (quiet.drift, quiet.drift_streak, quiet.drift_warning) == (0, 0, False)


async def test_an_announced_sync_is_no_drift_and_leaves_the_streak(shop: Shop) -> None:
    await shop.connected()
    shop.google.set_event(REFRESH, meeting("lost", MON_10))
    await shop.sync()
    shop.google.set_event(REFRESH, meeting("announced", MON_10 + timedelta(days=1)))
    await shop.notify()

    synced = await shop.sync()

    assert (synced.drift, synced.drift_streak, synced.changed) == (None, 1, 1)
    link = await shop.link()
    assert link is not None
    assert (link.drift_last, link.notices, link.notified_at) == (1, 0, None)


# --- the poll, renewal, the lead's helper -------------------------------------------------------


async def test_the_poll_queues_one_coalesced_sync_per_calendar(shop: Shop) -> None:
    await shop.connected()
    await add_technician(shop.uow(), shop.owner, name="Ruiz")  # no calendar: not polled
    before = len(shop.events(GoogleSyncRequested))

    first = await poll_google_calendars(shop.uow, shop.google, shop.sealer)
    second = await poll_google_calendars(shop.uow, shop.google, shop.sealer)

    assert (first.calendars, first.queued, dict(first.channels)) == (1, 1, {"current": 1})
    assert (second.queued, second.failures) == (0, ())
    assert len(shop.events(GoogleSyncRequested)) == before + 1
    assert shop.event(GoogleSyncRequested).reason == "poll"


async def test_the_poll_renews_a_channel_a_day_before_it_expires(shop: Shop) -> None:
    shop.google.channel_ttl = timedelta(hours=20)
    first = await shop.connected()

    done = await poll_google_calendars(shop.uow, shop.google, shop.sealer)

    assert done.channels == {"opened": 1}
    link = await shop.link()
    assert link is not None
    assert link.channel_id != first.channel_id
    old = next(c for c in shop.channels() if c.id == first.channel_id)
    assert old.stopped_at is not None
    stop = shop.event(GoogleChannelStopRequested)
    assert (stop.channel_id, stop.resource_id) == (old.id, old.resource_id)
    assert await stop_google_channel(shop.google, shop.sealer, stop)
    assert shop.google.stopped == [(str(old.id), old.resource_id)]


async def test_the_poll_leaves_a_fresh_unwatched_channel_to_its_watch_call(shop: Shop) -> None:
    await shop.connect()  # the worker has not run the first watch yet

    soon = await poll_google_calendars(shop.uow, shop.google, shop.sealer)
    shop.store.advance(11 * 60)
    later = await poll_google_calendars(shop.uow, shop.google, shop.sealer)

    assert (soon.channels, later.channels) == ({"in_flight": 1}, {"opened": 1})


async def test_the_poll_skips_revoked_calendars_and_reports_failures(shop: Shop) -> None:
    shop.google.channel_ttl = timedelta(hours=1)  # due for renewal at once
    await shop.connected()
    shop.google.fail_next("watch", CalendarProviderError("HTTP 500", status=500))

    failed = await poll_google_calendars(shop.uow, shop.google, shop.sealer)

    assert failed.calendars == 1
    assert len(failed.failures) == 1
    assert "HTTP 500" in failed.failures[0]
    shop.google.revoke_grant(REFRESH)
    await shop.sync()
    skipped = await poll_google_calendars(shop.uow, shop.google, shop.sealer)
    assert (skipped.calendars, skipped.queued) == (0, 0)


async def test_a_link_without_a_live_channel_gets_a_fresh_one(shop: Shop) -> None:
    link = await shop.connected()
    async with shop.uow() as uow:
        await uow.google_links.save(attrs.evolve(link, channel_id=None))
        await uow.commit()

    first = await open_google_channel(
        shop.uow, shop.google, shop.sealer, shop.tenant.id, shop.dana.id
    )
    async with shop.uow() as uow:  # its channel stopped behind its back
        now = await uow.google_links.get(shop.tenant.id, shop.dana.id)
        assert now is not None
        assert now.channel_id is not None
        channel = await uow.google_channels.get(now.channel_id)
        assert channel is not None
        await uow.google_channels.save(attrs.evolve(channel, stopped_at=shop.store.now))
        await uow.commit()
    second = await open_google_channel(
        shop.uow, shop.google, shop.sealer, shop.tenant.id, shop.dana.id
    )

    assert (first, second) == (ChannelResult.OPENED, ChannelResult.OPENED)
    assert len(shop.google.watches) == 3


async def test_a_watch_failure_after_a_reconnect_is_not_recorded_on_the_new_link(
    shop: Shop,
) -> None:
    await shop.connect()
    watch = shop.google.watch

    async def reconnected_then_failing(*args: Any, **kw: Any) -> Any:
        shop.google.watch = watch  # type: ignore[method-assign]
        await shop.connect("1//0gDanaOtherAccount")
        raise CalendarProviderError("HTTP 502", status=502)

    shop.google.watch = reconnected_then_failing  # type: ignore[method-assign]
    with pytest.raises(CalendarProviderError):
        await open_google_channel(shop.uow, shop.google, shop.sealer, shop.tenant.id, shop.dana.id)

    link = await shop.link()
    assert link is not None
    assert link.last_sync_error is None


async def test_one_tenant_failing_does_not_hold_the_poll_up(shop: Shop) -> None:
    await shop.connected()
    calls = 0

    def flaky_uow() -> InMemoryUnitOfWork:
        nonlocal calls
        calls += 1
        if calls == 2:  # the tenant's transaction
            raise StorageUnavailable("database unavailable: OperationalError")
        return shop.uow()

    done = await poll_google_calendars(flaky_uow, shop.google, shop.sealer)

    assert done.calendars == 0
    assert len(done.failures) == 1
    assert "StorageUnavailable" in done.failures[0]


async def test_the_lead_can_queue_a_coalesced_sync(shop: Shop) -> None:
    await shop.connected()

    async with shop.uow() as uow:
        await uow.bind_tenant(shop.tenant.id)
        first = await request_google_sync(uow, shop.tenant.id, shop.dana.id, "booked")
        again = await request_google_sync(uow, shop.tenant.id, shop.dana.id, "booked")
        nobody = await request_google_sync(uow, shop.tenant.id, uuid.uuid4(), "booked")
        await uow.commit()

    assert (first, again, nobody) == (True, False, False)
    assert shop.event(GoogleSyncRequested).reason == "booked"


# --- disconnecting ------------------------------------------------------------------------------


async def test_disconnecting_forgets_the_link_its_channels_and_its_blocks(shop: Shop) -> None:
    shop.google.set_event(REFRESH, meeting("standup", MON_10))
    link = await shop.connected()
    manual = BusyBlock(
        uuid.uuid4(), shop.tenant.id, shop.dana.id, MON_10, MON_10 + timedelta(hours=1)
    )
    async with shop.uow() as uow:
        await uow.busy_blocks.add(manual)
        await uow.commit()

    await disconnect_google(shop.uow(), shop.owner, shop.dana.id)

    assert await shop.link() is None
    assert shop.blocks() == {}
    assert shop.store.busy_blocks[shop.tenant.id, manual.id] == manual  # not ours to remove
    assert all(not c.live for c in shop.channels())
    stop = shop.event(GoogleChannelStopRequested)
    assert stop.channel_id == link.channel_id
    disconnected = shop.event(GoogleCalendarDisconnected)
    assert shop.sealer.unseal(disconnected.refresh_token_sealed) == REFRESH
    assert await revoke_google_grant(shop.uow, shop.google, shop.sealer, disconnected)
    assert shop.google.revoked_tokens == [REFRESH]
    view = await google_calendar_status(shop.uow(), shop.owner, shop.dana.id)
    assert (view.link, view.last_error) == (None, None)
    with pytest.raises(NotFound):
        await disconnect_google(shop.uow(), shop.owner, shop.dana.id)


async def test_no_revoke_once_the_technician_connected_again(shop: Shop) -> None:
    await shop.connected()
    await disconnect_google(shop.uow(), shop.owner, shop.dana.id)
    await shop.connect("1//0gDanaAgain")

    assert not await revoke_google_grant(
        shop.uow, shop.google, shop.sealer, shop.event(GoogleCalendarDisconnected)
    )
    assert shop.google.revoked_tokens == []


async def test_revoking_and_stopping_tolerate_a_grant_google_already_dropped(shop: Shop) -> None:
    await shop.connected()
    await disconnect_google(shop.uow(), shop.owner, shop.dana.id)
    shop.google.fail_next("revoke", CalendarProviderError("HTTP 503", status=503))

    assert not await revoke_google_grant(
        shop.uow, shop.google, shop.sealer, shop.event(GoogleCalendarDisconnected)
    )
    shop.google.revoke_grant(REFRESH)
    assert not await stop_google_channel(
        shop.google, shop.sealer, shop.event(GoogleChannelStopRequested)
    )
    shop.google.fail_next("stop", CalendarProviderError("HTTP 500", status=500))
    with pytest.raises(CalendarProviderError):
        await stop_google_channel(shop.google, shop.sealer, shop.event(GoogleChannelStopRequested))


async def test_only_an_owner_disconnects_and_anyone_reads_the_status(shop: Shop) -> None:
    link = await shop.connected()
    await add_user(shop.uow(), shop.owner, email="dana@acme-plumbing.example", role="TECH")
    tech = Principal("dana@acme-plumbing.example", shop.tenant.id)

    with pytest.raises(PermissionDenied):
        await disconnect_google(shop.uow(), tech, shop.dana.id)
    view = await google_calendar_status(shop.uow(), tech, shop.dana.id)
    assert view.link == link
    with pytest.raises(NotFound):
        await google_calendar_status(shop.uow(), tech, uuid.uuid4())
