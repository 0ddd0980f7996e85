"""Conversations over HTTP and PostgreSQL: inbound SMS webhooks (signed by Twilio's own SDK),
the assistant's flow to a booked appointment, the /v1 inbox, people stepping in, the opt-out
ledger, the settings page, and SMS status callbacks arriving in any order."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_adapters.postgres.messaging.tables import messages
from nmc_adapters.postgres.shared.tables import webhook_events
from nmc_domain.messaging.model import OutboundMessage
from tests.support.api import Caller, add_item, api_client, api_settings, paginate, problem
from tests.support.api import token_for as mint
from tests.support.tenants import caller_number, onboard
from tests.support.twilio import ACCOUNT_SID, PUBLIC_BASE_URL, call_sid, sign, status_callback

SMS = "/webhooks/twilio/sms"
SMS_STATUS = "/webhooks/twilio/sms/status"
VOICE_STATUS = "/webhooks/twilio/voice/status"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
CHICAGO = ZoneInfo("America/Chicago")
JOB = "my water heater is leaking"
ALWAYS_OPEN = {
    "periods": [
        {"weekday": day, "start": "00:00", "end": "24:00"}
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    ]
}


@pytest.fixture(scope="module")
async def client(database_url: str) -> AsyncIterator[AsyncTestClient]:
    async with api_client(api_settings(database_url)) as client:
        yield client


@pytest.fixture(scope="module")
def new_uow(engine: AsyncEngine):
    return lambda: PgUnitOfWork(engine)


class Shop:
    """A tenant reached from outside: its number for the webhooks, its OWNER for /v1."""

    def __init__(self, client: AsyncTestClient, number: str, owner: Caller, tenant: Any) -> None:
        self.client, self.number, self.owner, self.tenant = client, number, owner, tenant

    async def text(
        self, sender: str, body: str, *, sid: str | None = None, **extra: str
    ) -> tuple[str, Any]:
        """A signed inbound SMS; returns its MessageSid and the response."""
        sid = sid or "SM" + uuid.uuid4().hex
        params = {
            "AccountSid": ACCOUNT_SID,
            "MessageSid": sid,
            "From": sender,
            "To": self.number,
            "Body": body,
            "NumMedia": "0",
            **extra,
        }
        return sid, await post_signed(self.client, SMS, params)

    async def missed_call(self, caller: str) -> None:
        params = status_callback(self.number, caller, call_sid(), "no-answer")
        assert (await post_signed(self.client, VOICE_STATUS, params)).status_code == 200

    async def conversation_of(self, contact: str, state: str = "open") -> dict[str, Any]:
        response = await self.owner.get("/v1/conversations", state=state)
        assert response.status_code == 200, response.text
        [found] = [c for c in response.json()["items"] if c["contact"] == contact]
        return found

    async def detail(self, conversation_id: str) -> dict[str, Any]:
        response = await self.owner.get(f"/v1/conversations/{conversation_id}")
        assert response.status_code == 200, response.text
        return response.json()


async def post_signed(client: AsyncTestClient, path: str, params: dict[str, str], **kw: str):
    signature = kw.get("signature", sign(PUBLIC_BASE_URL + path, params))
    return await client.post(path, data=params, headers={"X-Twilio-Signature": signature})


async def open_shop(client, new_uow, *, approved: bool = True, setup: bool = True) -> Shop:
    tenant, number = await onboard(new_uow, approved=approved)
    owner = Caller(client, mint(tenant.id))
    if setup:
        await add_item(owner, "Water Heater Flush", price_cents=18_900, aliases=["water heater"])
        response = await owner.post("/v1/technicians", {"name": "Dana Reyes"})
        assert response.status_code == 201, response.text
        assert (await owner.put("/v1/business-hours", ALWAYS_OPEN)).status_code == 200
    return Shop(client, number, owner, tenant)


@pytest.fixture
async def shop(client, new_uow) -> Shop:
    return await open_shop(client, new_uow)


async def scalar(engine: AsyncEngine, query) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(query)).scalar_one()


async def message_count(engine: AsyncEngine, tenant_id, direction: str) -> int:
    query = (
        select(func.count())
        .select_from(messages)
        .where(messages.c.tenant_id == tenant_id, messages.c.direction == direction)
    )
    return await scalar(engine, query)


def spoken(start: datetime) -> str:
    """How a confirmation names a local time, written out here: "Tue Dec 2, 9:00 AM"."""
    hour = start.hour % 12 or 12
    half = "AM" if start.hour < 12 else "PM"
    return f"{start.strftime('%a %b')} {start.day}, {hour}:{start.minute:02d} {half}"


# --- the webhook ---------------------------------------------------------------------------


async def test_an_inbound_text_is_stored_once_and_answered_once(shop: Shop, admin_engine) -> None:
    contact = caller_number()

    sid, response = await shop.text(contact, "hello?")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text == EMPTY_TWIML
    assert await message_count(admin_engine, shop.tenant.id, "inbound") == 1
    assert await message_count(admin_engine, shop.tenant.id, "outbound") == 1

    _, replayed = await shop.text(contact, "hello?", sid=sid)

    assert (replayed.status_code, replayed.text) == (200, EMPTY_TWIML)
    assert await message_count(admin_engine, shop.tenant.id, "inbound") == 1
    assert await message_count(admin_engine, shop.tenant.id, "outbound") == 1
    events = select(func.count()).where(
        webhook_events.c.provider == "twilio.sms", webhook_events.c.event_key == sid
    )
    assert await scalar(admin_engine, events) == 1


async def test_a_text_to_an_unknown_number_is_acknowledged_and_ignored(
    client, admin_engine
) -> None:
    sid = "SM" + uuid.uuid4().hex
    params = {"AccountSid": ACCOUNT_SID, "MessageSid": sid, "From": caller_number(),
              "To": "+14155559999", "Body": "hi", "NumMedia": "0"}  # fmt: skip

    response = await post_signed(client, SMS, params)

    assert (response.status_code, response.text) == (200, EMPTY_TWIML)
    events = select(func.count()).where(webhook_events.c.event_key == sid)
    assert await scalar(admin_engine, events) == 0


async def test_a_badly_signed_text_is_401_and_nothing_is_stored(shop: Shop, admin_engine) -> None:
    sid = "SM" + uuid.uuid4().hex
    params = {"AccountSid": ACCOUNT_SID, "MessageSid": sid, "From": caller_number(),
              "To": shop.number, "Body": "STOP", "NumMedia": "0"}  # fmt: skip
    forged = sign(PUBLIC_BASE_URL + SMS, params, token="not-the-auth-token")

    response = await post_signed(shop.client, SMS, params, signature=forged)
    unsigned = await shop.client.post(SMS, data=params)

    assert (response.status_code, unsigned.status_code) == (401, 401)
    events = select(func.count()).where(webhook_events.c.event_key == sid)
    assert await scalar(admin_engine, events) == 0
    assert await message_count(admin_engine, shop.tenant.id, "inbound") == 0
    response = await shop.owner.get("/v1/opt-outs")
    assert response.json()["items"] == []


async def test_an_mms_is_stored_with_its_media_urls(shop: Shop, admin_engine) -> None:
    contact = caller_number()
    media = [
        f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME1",
        f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME2",
    ]

    _, response = await shop.text(
        contact, "this is the leak", NumMedia="2", MediaUrl0=media[0], MediaUrl1=media[1],
        MediaContentType0="image/jpeg", MediaContentType1="image/png",
    )  # fmt: skip

    assert response.status_code == 200
    query = select(messages.c.media_urls).where(
        messages.c.tenant_id == shop.tenant.id, messages.c.direction == "inbound"
    )
    assert await scalar(admin_engine, query) == media
    detail = await shop.detail((await shop.conversation_of(contact))["id"])
    [inbound] = [m for m in detail["messages"] if m["direction"] == "inbound"]
    assert (inbound["body"], inbound["media_urls"], inbound["author"]) == (
        "this is the leak",
        media,
        "contact",
    )


# --- the assistant's flow ------------------------------------------------------------------


async def test_missed_call_to_appointment_over_http(shop: Shop) -> None:
    contact = caller_number()
    await shop.missed_call(contact)
    await shop.text(contact, JOB)
    conversation = await shop.conversation_of(contact)
    offered = await shop.detail(conversation["id"])
    holds = offered["bookings"]
    assert [b["status"] for b in holds] == ["held"] * 3
    assert all(b["price_cents"] is None for b in holds)
    offers_text = offered["messages"][-1]["body"]
    assert offers_text.startswith(
        "Automated assistant for ACME-PLUMBING. Water Heater Flush: $189.00. "
        "Reply 1, 2 or 3 to book:\n1) "
    )
    starts = sorted(datetime.fromisoformat(b["start"]) for b in holds)

    _, response = await shop.text(contact, "2")

    assert response.status_code == 200
    detail = await shop.detail(conversation["id"])
    [appointment] = detail["bookings"]
    start = datetime.fromisoformat(appointment["start"])
    assert start == starts[1]  # offers are numbered in time order
    assert (appointment["status"], appointment["price_cents"], appointment["currency"]) == (
        "booked",
        18_900,
        "USD",
    )
    assert [(m["direction"], m["author"]) for m in detail["messages"]] == [
        ("outbound", "text_back"),
        ("inbound", "contact"),
        ("outbound", "assistant"),
        ("inbound", "contact"),
        ("outbound", "assistant"),
    ]
    assert detail["messages"][-1]["body"] == (
        f"You're booked: Water Heater Flush, {spoken(start.astimezone(CHICAGO))}, $189.00. "
        "See you then!"
    )
    assert {m["status"] for m in detail["messages"] if m["direction"] == "outbound"} == {"queued"}
    assert detail["messages"][-1]["segments"] == 1
    [call] = detail["calls"]
    assert (call["outcome"], call["reason"]) == ("missed", "no_answer")
    assert detail["contact"] == {
        "phone": contact,
        "opted_out": False,
        "textable": True,
        "not_textable_reason": None,
    }

    window = {
        "from": (start - timedelta(hours=1)).isoformat(),
        "to": (start + timedelta(hours=1)).isoformat(),
    }
    listed = await shop.owner.get("/v1/appointments", **window)
    assert listed.status_code == 200, listed.text
    [booked] = listed.json()["items"]
    assert (booked["id"], booked["contact_phone"], booked["price_cents"], booked["currency"]) == (
        appointment["id"],
        contact,
        18_900,
        "USD",
    )


# --- the inbox and people ------------------------------------------------------------------


async def test_the_inbox_filters_by_state(shop: Shop) -> None:
    alice, bob, carol = caller_number(), caller_number(), caller_number()
    for contact in (alice, bob, carol):
        await shop.missed_call(contact)
    await shop.text(bob, "STOP")
    taken = await shop.owner.post(
        f"/v1/conversations/{(await shop.conversation_of(carol))['id']}/takeover"
    )
    assert taken.status_code == 200

    states: dict[str, set[str]] = {}
    for state in ("open", "human", "blocked", "closed"):
        response = await shop.owner.get("/v1/conversations", state=state)
        assert response.status_code == 200
        states[state] = {c["contact"] for c in response.json()["items"]}

    assert states == {"open": {alice}, "human": {carol}, "blocked": {bob}, "closed": set()}
    everyone = await shop.owner.get("/v1/conversations")
    assert {c["contact"] for c in everyone.json()["items"]} == {alice, bob, carol}
    problem(await shop.owner.get("/v1/conversations", state="asleep"), 422)


async def test_take_over_text_release_and_close(shop: Shop, admin_engine) -> None:
    contact = caller_number()
    await shop.missed_call(contact)
    conversation_id = (await shop.conversation_of(contact))["id"]
    base = f"/v1/conversations/{conversation_id}"

    taken = await shop.owner.post(f"{base}/takeover")
    assert (taken.status_code, taken.json()["state"]) == (200, "human")

    await shop.text(contact, JOB)  # a person has it: the assistant stays silent
    detail = await shop.detail(conversation_id)
    assert [m["author"] for m in detail["messages"]] == ["text_back", "contact"]
    assert detail["bookings"] == []

    sent = await shop.owner.post(f"{base}/messages", {"body": "Dana here. Tomorrow at 8?"})
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert (body["author"], body["status"], body["direction"], body["body"]) == (
        "person",
        "queued",
        "outbound",
        "Dana here. Tomorrow at 8?",
    )

    released = await shop.owner.post(f"{base}/release")
    assert (released.status_code, released.json()["state"]) == (200, "open")
    await shop.text(contact, "the water heater")
    detail = await shop.detail(conversation_id)
    assert detail["messages"][-1]["author"] == "assistant"
    assert len(detail["bookings"]) == 3

    closed = await shop.owner.post(f"{base}/close")
    assert (closed.status_code, closed.json()["state"]) == (200, "closed")
    assert closed.json()["closed_at"] is not None
    assert (await shop.detail(conversation_id))["bookings"] == []  # the offers were freed
    again = await shop.owner.post(f"{base}/close")  # closing a closed one changes nothing
    assert (again.status_code, again.json()) == (200, closed.json())
    problem(await shop.owner.post(f"{base}/takeover"), 409)
    problem(await shop.owner.post(f"{base}/release"), 409)
    problem(await shop.owner.post(f"{base}/messages", {"body": "still there?"}), 409)
    problem(await shop.owner.post(f"/v1/conversations/{uuid.uuid4()}/takeover"), 404)
    assert await message_count(admin_engine, shop.tenant.id, "outbound") == 3


async def test_a_persons_text_is_403_before_approval(client, new_uow) -> None:
    pending = await open_shop(client, new_uow, approved=False, setup=False)
    contact = caller_number()
    await pending.missed_call(contact)
    conversation_id = (await pending.conversation_of(contact))["id"]

    response = await pending.owner.post(
        f"/v1/conversations/{conversation_id}/messages", {"body": "hi"}
    )

    problem(response, 403)


async def test_a_persons_text_is_403_after_the_contact_opted_out(shop: Shop) -> None:
    contact = caller_number()
    await shop.missed_call(contact)
    await shop.text(contact, "Stop please")
    conversation = await shop.conversation_of(contact, state="blocked")

    response = await shop.owner.post(
        f"/v1/conversations/{conversation['id']}/messages", {"body": "sorry!"}
    )

    problem(response, 403)
    detail = await shop.detail(conversation["id"])
    assert detail["contact"]["opted_out"] is True
    assert [(m["author"], m["status"]) for m in detail["messages"]] == [
        ("text_back", "canceled"),
        ("contact", "received"),
        ("compliance", "queued"),
    ]


# --- the opt-out ledger --------------------------------------------------------------------


async def test_the_opt_out_ledger_is_newest_first_in_pages(shop: Shop) -> None:
    contacts = [caller_number() for _ in range(5)]
    for contact in contacts:
        await shop.text(contact, "STOP")
    await shop.text(contacts[0], "START")

    pages = await paginate(shop.owner, "/v1/opt-outs", limit=2)

    assert [len(page) for page in pages] == [2, 2, 2]
    entries = [entry for page in pages for entry in page]
    assert [(e["phone"], e["action"]) for e in entries] == [
        (contacts[0], "opt_in"),
        *[(contact, "opt_out") for contact in reversed(contacts)],
    ]
    assert [e["text"] for e in entries] == ["START"] + ["STOP"] * 5
    assert {e["source"] for e in entries} == {"keyword"}
    assert all(e["message_id"] for e in entries)
    times = [datetime.fromisoformat(e["at"]) for e in entries]
    assert times == sorted(times, reverse=True)


# --- settings ------------------------------------------------------------------------------


async def test_conversation_settings_are_checked_and_kept(shop: Shop) -> None:
    for hours in (0, 721, "24", 1.5):
        body = problem(
            await shop.owner.patch("/v1/settings", {"conversation_idle_hours": hours}),
            422,
            "conversation_idle_hours",
        )
        assert body["errors"]
    problem(
        await shop.owner.patch("/v1/settings", {"assistant_disclosure": "Bot of {business}"}),
        422,
        "assistant_disclosure",
    )
    problem(
        await shop.owner.patch("/v1/settings", {"text_back_template": "Hi from {company}"}),
        422,
        "text_back_template",
    )
    problem(
        await shop.owner.patch("/v1/settings", {"help_contact": "x" * 101}), 422, "help_contact"
    )

    changed = await shop.owner.patch(
        "/v1/settings",
        {
            "conversation_idle_hours": 48,
            "help_contact": "Call 415-867-5309",
            "assistant_disclosure": "{business_name}'s booking bot",
            "after_hours_template": "{business_name}: open again {next_open}.",
        },
    )

    assert changed.status_code == 200, changed.text
    current = (await shop.owner.get("/v1/settings")).json()
    assert {k: current[k] for k in ("conversation_idle_hours", "help_contact",
                                    "assistant_disclosure", "after_hours_template")} == {
        "conversation_idle_hours": 48,
        "help_contact": "Call 415-867-5309",
        "assistant_disclosure": "{business_name}'s booking bot",
        "after_hours_template": "{business_name}: open again {next_open}.",
    }  # fmt: skip
    contact = caller_number()
    await shop.text(contact, "HELP")
    await shop.text(contact, "hello")
    detail = await shop.detail((await shop.conversation_of(contact))["id"])
    assert [m["body"] for m in detail["messages"] if m["direction"] == "outbound"] == [
        "ACME-PLUMBING: Call 415-867-5309. Reply STOP to opt out.",
        "ACME-PLUMBING's booking bot. Sorry, what do you need help with? "
        "For example: a leak, a water heater, a drain.",
    ]

    reset = await shop.owner.patch("/v1/settings", {"help_contact": None})
    assert reset.json()["help_contact"] is None


# --- delivery reports ----------------------------------------------------------------------

PROGRESS = ("queued", "sending", "sent")
# Our reading of the ladder, written out: a later rung wins, the final rungs are final.
RUNG = {"queued": 1, "sending": 2, "sent": 3}
FINALS = [("delivered", None), ("undelivered", "30003"), ("failed", "30007"), (None, None)]


async def queued_message(new_uow) -> tuple[OutboundMessage, str]:
    tenant, number = await onboard(new_uow)
    async with new_uow() as uow:
        await uow.bind_tenant(tenant.id)
        message = OutboundMessage.queue(
            tenant_id=tenant.id, conversation_id=None, to=caller_number(), from_=number,
            body="ACME-PLUMBING here: sorry we missed your call!", now=await uow.now(),
        )  # fmt: skip
        await uow.messages.add(message)
        await uow.commit()
    return message, number


@settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    progress=st.lists(st.sampled_from(PROGRESS), max_size=3, unique=True),
    final=st.sampled_from(FINALS),
    copies=st.lists(st.integers(1, 3), min_size=4, max_size=4),
    order=st.randoms(use_true_random=False),
)
async def test_status_reports_in_any_order_end_in_the_right_status(
    client, new_uow, admin_engine, progress, final, copies, order
) -> None:
    message, number = await queued_message(new_uow)
    sid = "SM" + message.id.hex
    status, code = final
    reports = [(s, None) for s in progress] + ([final] if status else [])
    posted = [report for report, n in zip(reports, copies, strict=False) for _ in range(n)]
    order.shuffle(posted)

    for value, error in posted:
        params = {"AccountSid": ACCOUNT_SID, "MessageSid": sid, "MessageStatus": value,
                  "From": number, "To": message.to}  # fmt: skip
        if error:
            params["ErrorCode"] = error
        path = f"{SMS_STATUS}?message_id={message.id}"
        assert (await post_signed(client, path, params)).status_code == 200

    if status is not None:
        expected = (status, sid if posted else None, f"provider error {code}" if code else None)
    elif progress:
        expected = (max(progress, key=RUNG.__getitem__), sid, None)
    else:
        expected = ("queued", None, None)
    query = select(messages.c.status, messages.c.provider_sid, messages.c.error).where(
        messages.c.tenant_id == message.tenant_id, messages.c.id == message.id
    )
    async with admin_engine.connect() as conn:
        row = (await conn.execute(query)).one()
    assert tuple(row) == expected, posted
    stored = select(func.count()).where(
        webhook_events.c.provider == "twilio.sms.status",
        webhook_events.c.event_key.startswith(f"{sid}:"),
    )
    assert await scalar(admin_engine, stored) == len(set(posted))
