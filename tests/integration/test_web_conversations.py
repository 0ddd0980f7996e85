"""The web inbox's conversations on real PostgreSQL (the in-process app, the Twilio webhooks
signed by Twilio's SDK): the list by state, latest activity first, paged and polled; a thread
with both sides' texts and their delivery status, the calls, the assistant's offers and the
booking; take over, hand back and close; a person's text (queued) and the reasons a text is
refused; the segment counter; CSRF, roles, another tenant's conversation, and no session."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_adapters.postgres.messaging.tables import messages
from nmc_api.bootstrap import build_app
from nmc_domain.identity.users import add_user_for_tenant
from nmc_domain.unit_of_work import UnitOfWorkFactory
from tests.support.api import OWNER, Caller, add_item, api_settings, token_for
from tests.support.tenants import caller_number, onboard
from tests.support.twilio import ACCOUNT_SID, PUBLIC_BASE_URL, call_sid, sign, status_callback
from tests.support.web import Browser, csrf_of, web_settings

TECH = "dana.reyes@acme-plumbing.example"
JOB = "my water heater is leaking"
ALWAYS_OPEN = {
    "periods": [
        {"weekday": day, "start": "00:00", "end": "24:00"}
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    ]
}
# The tenant's zone is America/Chicago: every time on the pages carries its offset.
CHICAGO_OFFSET = re.compile(r'datetime="[^"]+-0[56]:00"')
_HREF = re.compile(r'<a class="conversation" href="/app/conversations/([0-9a-f-]{36})">([^<]+)</a>')


@pytest.fixture(scope="module")
def app(database_url: str) -> Litestar:
    return build_app(web_settings(api_settings(database_url)))


@pytest.fixture(scope="module")
def new_uow(engine: AsyncEngine) -> UnitOfWorkFactory:
    return lambda: PgUnitOfWork(engine)


@pytest.fixture
async def browser(app: Litestar) -> AsyncIterator[Browser]:
    async with Browser.on(app) as browser:
        yield browser


@pytest.fixture
async def outside(app: Litestar) -> AsyncIterator[AsyncTestClient]:
    """The world outside: Twilio's webhooks and the /v1 API (no cookies)."""
    async with AsyncTestClient(app) as client:
        yield client


class Shop:
    """A tenant reached from outside: callers call and text its number."""

    def __init__(self, client: AsyncTestClient, tenant: Any, number: str) -> None:
        self.client, self.tenant, self.number = client, tenant, number
        self.owner = Caller(client, token_for(tenant.id))

    async def _signed(self, path: str, params: dict[str, str]) -> None:
        signature = sign(PUBLIC_BASE_URL + path, params)
        response = await self.client.post(
            path, data=params, headers={"X-Twilio-Signature": signature}
        )
        assert response.status_code == 200, response.text

    async def missed_call(self, caller: str) -> None:
        params = status_callback(self.number, caller, call_sid(), "no-answer")
        await self._signed("/webhooks/twilio/voice/status", params)

    async def text(self, caller: str, body: str) -> None:
        params = {
            "AccountSid": ACCOUNT_SID,
            "MessageSid": "SM" + uuid.uuid4().hex,
            "From": caller,
            "To": self.number,
            "Body": body,
            "NumMedia": "0",
        }
        await self._signed("/webhooks/twilio/sms", params)

    async def conversation_id(self, contact: str) -> str:
        response = await self.owner.get("/v1/conversations")
        assert response.status_code == 200, response.text
        [found] = [c["id"] for c in response.json()["items"] if c["contact"] == contact]
        return str(found)

    async def state_of(self, conversation_id: str) -> str:
        response = await self.owner.get(f"/v1/conversations/{conversation_id}")
        assert response.status_code == 200, response.text
        return str(response.json()["conversation"]["state"])


async def open_shop(
    client: AsyncTestClient, new_uow: UnitOfWorkFactory, *, approved: bool = True
) -> Shop:
    tenant, number = await onboard(new_uow, approved=approved)
    shop = Shop(client, tenant, number)
    await add_item(shop.owner, "Water Heater Flush", price_cents=18_900, aliases=["water heater"])
    made = await shop.owner.post("/v1/technicians", {"name": "Dana Reyes"})
    assert made.status_code == 201, made.text
    assert (await shop.owner.put("/v1/business-hours", ALWAYS_OPEN)).status_code == 200
    return shop


@pytest.fixture
async def shop(outside: AsyncTestClient, new_uow: UnitOfWorkFactory) -> Shop:
    return await open_shop(outside, new_uow)


def listed(html: str) -> list[str]:
    """The contacts of the list's items, in the page's order."""
    block = html.split('id="conversation-list"', 1)[1].split("</ul>", 1)[0]
    return [contact for _, contact in _HREF.findall(block)]


def items(html: str, css: str) -> list[str]:
    """The opening tags and text of `<li class="...">` items whose class starts with `css`."""
    return re.findall(rf'<li class="{css}[^"]*"[^>]*>.*?</li>', html, re.S)


async def htmx_post(
    browser: Browser, path: str, form: dict[str, str], *, csrf_from: str | None
) -> Any:
    """A post as htmx makes it: the CSRF token in the X-CSRFToken header (from `csrf_from`)."""
    headers = {"HX-Request": "true"}
    if csrf_from is not None:
        headers["X-CSRFToken"] = csrf_of((await browser.get(csrf_from)).text)
    return await browser.client.post(path, data=form, headers=headers, follow_redirects=False)


# --- the list ------------------------------------------------------------------------------


async def test_the_list_by_state_latest_activity_first(
    shop: Shop, browser: Browser, new_uow
) -> None:
    alice, bob, carol, dave = (caller_number() for _ in range(4))
    for contact in (alice, bob, carol, dave):
        await shop.missed_call(contact)
    await shop.text(bob, "STOP")
    taken = await shop.owner.post(f"/v1/conversations/{await shop.conversation_id(carol)}/takeover")
    assert taken.status_code == 200
    await shop.text(alice, "are you there?")  # alice's is the latest activity now
    await browser.sign_in(new_uow, shop.tenant.id, OWNER)

    page = await browser.get("/app/conversations")

    assert page.status_code == 200
    assert "<h1>Conversations</h1>" in page.text
    for state, label in (("open", "Open"), ("human", "Human"), ("blocked", "Blocked")):
        assert f'href="/app/conversations?state={state}"' in page.text
        assert f">{label}</a>" in page.text
    assert 'href="/app/conversations?state=open" aria-current="page">Open' in page.text
    assert listed(page.text) == [alice, dave]
    assert 'hx-trigger="every 3s"' in page.text
    assert CHICAGO_OFFSET.search(page.text)
    assert "opened by a missed call" in page.text

    by_state = {}
    for state in ("open", "human", "blocked", "closed"):
        response = await browser.get(f"/app/conversations?state={state}")
        assert response.status_code == 200
        by_state[state] = listed(response.text)
    assert by_state == {"open": [alice, dave], "human": [carol], "blocked": [bob], "closed": []}
    closed = await browser.get("/app/conversations?state=closed")
    assert "No closed conversations" in closed.text

    unknown = await browser.get("/app/conversations?state=asleep")
    assert unknown.status_code == 400
    assert "no tab named asleep" in unknown.text
    assert (await browser.get("/app/conversations?cursor=nonsense")).status_code == 400
    too_many = await browser.get("/app/conversations?limit=100000")
    assert too_many.status_code == 400
    assert "limit must be between 1 and 200" in too_many.text


async def test_the_list_pages_with_older_links(shop: Shop, browser: Browser, new_uow) -> None:
    contacts = [caller_number() for _ in range(3)]
    for contact in contacts:
        await shop.missed_call(contact)
    await browser.sign_in(new_uow, shop.tenant.id, OWNER)

    seen: list[str] = []
    path = "/app/conversations?state=open&limit=2"
    for _ in range(3):
        response = await browser.get(path)
        assert response.status_code == 200
        seen += listed(response.text)
        older = re.search(r'<a href="(/app/conversations\?[^"]+)">Older</a>', response.text)
        if older is None:
            break
        path = older[1].replace("&amp;", "&")
        assert "cursor=" in path
    assert seen == contacts[::-1]
    assert "Back to the latest" in response.text


async def test_the_list_polls_and_a_new_missed_call_appears(
    shop: Shop, browser: Browser, new_uow
) -> None:
    first = caller_number()
    await shop.missed_call(first)
    await browser.sign_in(new_uow, shop.tenant.id, OWNER)
    page = await browser.get("/app/conversations")
    poll = re.search(r'hx-get="(/app/conversations/list\?[^"]+)"', page.text)
    assert poll is not None
    poll_path = poll[1].replace("&amp;", "&")

    unchanged = await browser.get(poll_path)
    assert unchanged.status_code == 204  # htmx swaps nothing: focus and place are kept

    second = caller_number()
    await shop.missed_call(second)
    changed = await browser.get(poll_path)
    assert changed.status_code == 200
    assert changed.text.lstrip().startswith('<ul id="conversation-list"')
    assert "<html" not in changed.text  # only the fragment
    assert listed(changed.text) == [second, first]


# --- a thread ------------------------------------------------------------------------------


async def test_a_thread_shows_texts_calls_offers_and_the_booking(
    shop: Shop, browser: Browser, new_uow, admin_engine
) -> None:
    contact = caller_number()
    await shop.missed_call(contact)
    await shop.text(contact, JOB)
    conversation_id = await shop.conversation_id(contact)
    await browser.sign_in(new_uow, shop.tenant.id, OWNER)
    path = f"/app/conversations/{conversation_id}"

    offered = await browser.get(path)

    assert offered.status_code == 200, offered.text
    assert f"<h1>{contact}</h1>" in offered.text
    [call] = items(offered.text, "call")
    assert "Missed call (no answer)" in call
    texts = items(offered.text, "message")
    assert [t.split('"')[1] for t in texts] == [
        "message outbound",
        "message inbound",
        "message outbound",
    ]
    assert 'data-status="queued"' in texts[0]
    assert '<span class="author">Text-back</span>' in texts[0]
    assert JOB in texts[1]
    assert '<span class="author">Caller</span>' in texts[1]
    assert 'data-status="received"' in texts[1]
    assert "Water Heater Flush: $189.00" in texts[2]
    assert '<span class="author">Assistant</span>' in texts[2]
    assert offered.text.index("Missed call") < offered.text.index(JOB)  # in time order
    booking = offered.text.split('id="booking"', 1)[1].split("</section>", 1)[0]
    assert "The assistant offered times" in booking
    assert "Water Heater Flush" in booking
    offers = re.findall(r'<li class="offer" value="(\d)" data-status="held">([^<]+)</li>', booking)
    assert [number for number, _ in offers] == ["1", "2", "3"]
    assert all("Dana Reyes" in text and "held until" in text for _, text in offers)
    assert CHICAGO_OFFSET.search(offered.text)

    # The text-back was delivered; the caller books the second time.
    await set_status(admin_engine, shop.tenant.id, "text_back", "delivered")
    await shop.text(contact, "2")
    booked = await browser.get(path)

    texts = items(booked.text, "message")
    assert 'data-status="delivered"' in texts[0]
    assert "delivered" in texts[0]
    assert "You&#39;re booked: Water Heater Flush" in texts[-1]
    booking = booked.text.split('id="booking"', 1)[1].split("</section>", 1)[0]
    assert "The assistant booked the job" in booking
    appointment = re.search(r'<p class="appointment" data-status="booked">(.*?)</p>', booking, re.S)
    assert appointment is not None
    assert "Booked:" in appointment[1]
    assert "Water Heater Flush · $189.00" in appointment[1]
    assert "with Dana Reyes" in appointment[1]
    assert re.search(r"[AP]M \u2013 \d{1,2}:\d\d [AP]M", appointment[1])  # a local time span


async def test_the_thread_polls_only_its_live_part(shop: Shop, browser: Browser, new_uow) -> None:
    contact = caller_number()
    await shop.missed_call(contact)
    conversation_id = await shop.conversation_id(contact)
    await browser.sign_in(new_uow, shop.tenant.id, OWNER)
    page = await browser.get(f"/app/conversations/{conversation_id}")
    poll = re.search(r'<ol id="messages" class="messages"\s+hx-get="([^"]+)"', page.text)
    assert poll is not None
    assert "every 3s" in page.text.split('<ol id="messages"', 1)[1].split(">", 1)[0]

    assert (await browser.get(poll[1])).status_code == 204  # nothing new

    await shop.text(contact, JOB)
    live = await browser.get(poll[1])
    assert live.status_code == 200
    assert live.text.lstrip().startswith('<ol id="messages"')
    assert JOB in live.text
    assert (
        'id="booking" class="card booking" aria-labelledby="booking-title" hx-swap-oob="true"'
        in (live.text)
    )
    assert 'id="conversation-head" class="conversation-head" hx-swap-oob="true"' in live.text
    assert 'id="compose"' not in live.text  # what is typed is never replaced
    assert "<html" not in live.text


# --- people stepping in --------------------------------------------------------------------


async def test_take_over_hand_back_and_close(shop: Shop, browser: Browser, new_uow) -> None:
    contact = caller_number()
    await shop.missed_call(contact)
    conversation_id = await shop.conversation_id(contact)
    await browser.sign_in(new_uow, shop.tenant.id, OWNER)
    path = f"/app/conversations/{conversation_id}"
    page = await browser.get(path)
    assert buttons(page.text) == ["Take over", "Close", "Send"]

    taken = await browser.post(f"{path}/takeover", csrf_from=path)
    assert (taken.status_code, taken.headers["location"]) == (303, path)
    page = await browser.get(path)
    assert buttons(page.text) == ["Hand back", "Close", "Send"]
    assert '<strong class="badge state-human">human</strong>' in page.text
    assert await shop.state_of(conversation_id) == "human"

    released = await browser.post(f"{path}/release", csrf_from=path)
    assert released.status_code == 303
    assert buttons((await browser.get(path)).text) == ["Take over", "Close", "Send"]
    assert await shop.state_of(conversation_id) == "open"

    closed = await browser.post(f"{path}/close", csrf_from=path)
    assert closed.status_code == 303
    page = await browser.get(path)
    assert buttons(page.text) == []
    assert "This conversation is closed" in page.text
    assert await shop.state_of(conversation_id) == "closed"
    assert listed((await browser.get("/app/conversations?state=closed")).text) == [contact]

    refused = await browser.post(f"{path}/takeover", csrf_from=path)
    assert refused.status_code == 409
    assert "Could not take over: a closed conversation cannot take over." in refused.text
    assert await shop.state_of(conversation_id) == "closed"


def buttons(html: str) -> list[str]:
    main = html.split('<main id="main">', 1)[1]
    return re.findall(r"<button[^>]*>([^<]+)</button>", main)


async def test_a_persons_text_is_queued_and_shows_in_the_thread(
    shop: Shop, browser: Browser, new_uow, admin_engine
) -> None:
    contact = caller_number()
    await shop.missed_call(contact)
    conversation_id = await shop.conversation_id(contact)
    await browser.sign_in(new_uow, shop.tenant.id, OWNER)
    path = f"/app/conversations/{conversation_id}"
    page = await browser.get(path)
    assert '<label for="body">Message</label>' in page.text
    assert re.search(r'<textarea id="body" name="body"', page.text)
    assert '<output id="segments" for="body">1 segment</output>' in page.text
    assert 'hx-trigger="input changed delay:150ms"' in page.text
    await browser.post(f"{path}/takeover", csrf_from=path)

    sent = await browser.post(
        f"{path}/messages", {"body": "Dana here: I can come at 8 tomorrow."}, csrf_from=path
    )

    assert (sent.status_code, sent.headers["location"]) == (303, path)
    outbound = await person_texts(admin_engine, shop.tenant.id)
    assert outbound == [("Dana here: I can come at 8 tomorrow.", "queued", contact)]
    page = await browser.get(path)
    [mine] = [t for t in items(page.text, "message outbound") if "Dana here" in t]
    assert 'data-status="queued"' in mine
    assert '<span class="author">Person</span>' in mine

    # From htmx: the send box comes back empty, and the thread is told to poll at once.
    swapped = await htmx_post(browser, f"{path}/messages", {"body": "On my way."}, csrf_from=path)
    assert swapped.status_code == 200
    assert swapped.headers["hx-trigger"] == "nmc-thread-changed"
    assert swapped.text.lstrip().startswith('<form id="compose"')
    assert "></textarea>" in swapped.text  # empty again
    assert "Sent:" in swapped.text
    assert [body for body, _, _ in await person_texts(admin_engine, shop.tenant.id)] == [
        "Dana here: I can come at 8 tomorrow.",
        "On my way.",
    ]


async def test_a_refused_text_says_why_next_to_the_box(
    outside: AsyncTestClient, shop: Shop, browser: Browser, new_uow, admin_engine
) -> None:
    contact = caller_number()
    await shop.missed_call(contact)
    conversation_id = await shop.conversation_id(contact)
    await browser.sign_in(new_uow, shop.tenant.id, OWNER)
    path = f"/app/conversations/{conversation_id}"

    empty = await browser.post(f"{path}/messages", {"body": "   "}, csrf_from=path)
    assert empty.status_code == 422
    assert re.search(
        r'<p id="body-error" class="error" role="alert">[^<]*must not be empty', empty.text
    )
    assert 'aria-invalid="true"' in empty.text

    long = "x" * 1531
    too_long = await htmx_post(browser, f"{path}/messages", {"body": long}, csrf_from=path)
    assert too_long.status_code == 200  # htmx swaps the form with the reason
    assert "longer than 10 segments" in too_long.text
    assert f">{long}</textarea>" in too_long.text  # what was typed is kept
    assert "11 segments" in too_long.text

    await shop.text(contact, "STOP")
    opted_out = await browser.post(f"{path}/messages", {"body": "hello?"}, csrf_from=path)
    assert opted_out.status_code == 403
    assert "Not sent: the contact opted out: nothing may be sent." in opted_out.text
    assert ">hello?</textarea>" in opted_out.text

    pending = await open_shop(outside, new_uow, approved=False)
    other = caller_number()
    await pending.missed_call(other)
    pending_id = await pending.conversation_id(other)
    async with Browser.on(browser.client.app) as owner:
        await owner.sign_in(new_uow, pending.tenant.id, OWNER)
        pending_path = f"/app/conversations/{pending_id}"
        refused = await htmx_post(
            owner, f"{pending_path}/messages", {"body": "hi"}, csrf_from=pending_path
        )
    assert refused.status_code == 200
    assert "registration is not approved yet" in refused.text

    await browser.post(f"{path}/messages", {"body": "x"}, csrf_from=path)  # blocked still
    assert await person_texts(admin_engine, shop.tenant.id) == []
    assert await person_texts(admin_engine, pending.tenant.id) == []


async def test_a_closed_conversation_refuses_a_text(shop: Shop, browser: Browser, new_uow) -> None:
    contact = caller_number()
    await shop.missed_call(contact)
    conversation_id = await shop.conversation_id(contact)
    await browser.sign_in(new_uow, shop.tenant.id, OWNER)
    path = f"/app/conversations/{conversation_id}"
    await browser.post(f"{path}/close", csrf_from=path)

    refused = await htmx_post(browser, f"{path}/messages", {"body": "hi"}, csrf_from=path)

    assert refused.status_code == 200
    assert "Not sent: the conversation is closed." in refused.text


async def person_texts(admin_engine: AsyncEngine, tenant_id) -> list[tuple[str, str, str]]:
    query = (
        select(messages.c.body, messages.c.status, messages.c.to_number)
        .where(messages.c.tenant_id == tenant_id, messages.c.author == "person")
        .order_by(messages.c.created_at)
    )
    async with admin_engine.connect() as conn:
        return [tuple(row) for row in (await conn.execute(query)).all()]  # type: ignore[misc]


async def set_status(admin_engine: AsyncEngine, tenant_id, author: str, status: str) -> None:
    """What the provider's status callbacks would do (no worker runs here)."""
    query = (
        update(messages)
        .where(messages.c.tenant_id == tenant_id, messages.c.author == author)
        .values(status=status)
    )
    async with admin_engine.begin() as conn:
        await conn.execute(query)


# --- the segment counter -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        ("a" * 160, "1 segment"),
        ("a" * 161, "2 segments"),
        ("ж" * 70, "1 segment (Unicode"),
        ("ж" * 71, "2 segments (Unicode"),
        ("", "1 segment"),
    ],
)
async def test_the_segment_counter_uses_the_domains_rule(
    shop: Shop, browser: Browser, new_uow, body: str, shown: str
) -> None:
    await browser.sign_in(new_uow, shop.tenant.id, OWNER)

    counted = await htmx_post(
        browser, "/app/segments", {"body": body}, csrf_from="/app/conversations"
    )

    assert counted.status_code == 200
    assert counted.text.startswith(shown)
    assert re.fullmatch(r"\d+ segments?( \(Unicode[^<>]*\))?", counted.text)


# --- who may do what -----------------------------------------------------------------------


async def test_posts_without_the_csrf_token_are_refused(
    shop: Shop, browser: Browser, new_uow, admin_engine
) -> None:
    contact = caller_number()
    await shop.missed_call(contact)
    conversation_id = await shop.conversation_id(contact)
    await browser.sign_in(new_uow, shop.tenant.id, OWNER)
    path = f"/app/conversations/{conversation_id}"
    await browser.get(path)  # the CSRF cookie is set; the token is not sent

    for action, form in [
        ("takeover", {}),
        ("release", {}),
        ("close", {}),
        ("messages", {"body": "hi"}),
    ]:
        assert (await browser.post(f"{path}/{action}", form)).status_code == 403
        refused = await htmx_post(browser, f"{path}/{action}", form, csrf_from=None)
        assert refused.status_code == 403
    assert (
        await htmx_post(browser, "/app/segments", {"body": "x"}, csrf_from=None)
    ).status_code == 403
    assert await shop.state_of(conversation_id) == "open"
    assert await person_texts(admin_engine, shop.tenant.id) == []


async def test_a_tech_answers_conversations(
    shop: Shop, browser: Browser, new_uow, admin_engine
) -> None:
    await add_user_for_tenant(new_uow(), shop.tenant.id, email=TECH, role="TECH")
    contact = caller_number()
    await shop.missed_call(contact)
    conversation_id = await shop.conversation_id(contact)
    await browser.sign_in(new_uow, shop.tenant.id, TECH)
    path = f"/app/conversations/{conversation_id}"

    assert listed((await browser.get("/app/conversations")).text) == [contact]
    assert (await browser.get(path)).status_code == 200
    assert (await browser.post(f"{path}/takeover", csrf_from=path)).status_code == 303
    sent = await browser.post(f"{path}/messages", {"body": "Dana here."}, csrf_from=path)
    assert sent.status_code == 303
    counted = await htmx_post(browser, "/app/segments", {"body": "hi"}, csrf_from=path)
    assert counted.text == "1 segment"
    assert (await browser.post(f"{path}/release", csrf_from=path)).status_code == 303
    assert (await browser.post(f"{path}/close", csrf_from=path)).status_code == 303
    assert await shop.state_of(conversation_id) == "closed"
    assert await person_texts(admin_engine, shop.tenant.id) == [("Dana here.", "queued", contact)]


async def test_another_tenants_conversation_is_not_found(
    outside: AsyncTestClient, shop: Shop, browser: Browser, new_uow, admin_engine
) -> None:
    contact = caller_number()
    await shop.missed_call(contact)
    theirs = await shop.conversation_id(contact)
    other, _ = await onboard(new_uow, name="OTHER-PLUMBING")
    await browser.sign_in(new_uow, other.id, OWNER)
    path = f"/app/conversations/{theirs}"

    page = await browser.get(path)
    assert page.status_code == 404
    assert "Conversation not found" in page.text
    assert contact not in page.text
    assert (await browser.get(f"{path}/live")).status_code == 404
    assert (await browser.get(f"/app/conversations/{uuid.uuid4()}")).status_code == 404
    for action, form in [
        ("takeover", {}),
        ("release", {}),
        ("close", {}),
        ("messages", {"body": "hi"}),
    ]:
        refused = await browser.post(f"{path}/{action}", form, csrf_from="/app/conversations")
        assert refused.status_code == 404, action
        assert "Conversation not found" in refused.text
    assert listed((await browser.get("/app/conversations")).text) == []
    assert await shop.state_of(theirs) == "open"
    assert await person_texts(admin_engine, shop.tenant.id) == []


async def test_without_a_session_every_part_is_401(shop: Shop, browser: Browser) -> None:
    contact = caller_number()
    await shop.missed_call(contact)
    path = f"/app/conversations/{await shop.conversation_id(contact)}"

    for part in ("/app/conversations", "/app/conversations/list", path, f"{path}/live"):
        assert (await browser.get(part)).status_code == 401, part
    polled = await browser.client.get(f"{path}/live", headers={"HX-Request": "true"})
    assert (polled.status_code, polled.headers["hx-redirect"]) == (401, "/app/signed-out")
