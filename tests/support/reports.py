"""A reporting story at fixed instants (two tenant-local days in Chicago), stored through the
repositories the webhooks and the worker use, then rolled up by the real `recompute_day`.

Day 1 (2026-03-10, CDT, UTC-5): two missed calls (two conversations), their text-backs
accepted 3 s and 7 s later; the first caller replies a minute later and the assistant answers
2 s after that.
Day 2 (2026-03-11): one missed call, its text-back accepted after 4 s; nobody replies.
The days before and after are recomputed too (rows of zeros).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import attrs

from nmc_domain.conversation.model import OpenedBy
from nmc_domain.messaging.model import Author, InboundMessage, MessageStatus, OutboundMessage
from nmc_domain.reporting import recompute_day
from nmc_domain.telephony.model import CallOutcome, CallRecord
from nmc_domain.unit_of_work import UnitOfWorkFactory
from tests.support.tenants import caller_number

__all__ = ["DAY_1", "DAY_2", "FIRST", "LAST", "tell_story"]

DAY_1 = date(2026, 3, 10)
DAY_2 = date(2026, 3, 11)
FIRST, LAST = DAY_1 - timedelta(days=1), DAY_2 + timedelta(days=1)
# (call at, seconds to the text-back's acceptance, the caller's reply: (after s, answer s))
_CALLS: tuple[tuple[datetime, float, tuple[float, float] | None], ...] = (
    (datetime(2026, 3, 10, 15, 0, tzinfo=UTC), 3, (60, 2)),
    (datetime(2026, 3, 10, 18, 30, tzinfo=UTC), 7, None),
    (datetime(2026, 3, 11, 14, 0, tzinfo=UTC), 4, None),
)


def _out(
    tenant_id: UUID, conversation_id: UUID, to: str, business: str, at: datetime, author: Author
) -> OutboundMessage:
    return OutboundMessage(
        id=uuid.uuid4(),
        tenant_id=tenant_id,
        conversation_id=conversation_id,
        to=to,
        from_=business,
        body="Sorry we missed your call! How can we help?",
        status=MessageStatus.SENT,
        created_at=at,
        author=author,
    )


async def tell_story(new_uow: UnitOfWorkFactory, tenant_id: UUID, business: str) -> None:
    """Store the story for the tenant (its number: `business`) and recompute FIRST..LAST."""
    for call_at, accepted_after, reply in _CALLS:
        caller = caller_number()
        async with new_uow() as uow:
            await uow.bind_tenant(tenant_id)
            conversation, _ = await uow.conversations.open_or_get(
                tenant_id, caller, business, call_at, OpenedBy.CALL
            )
            await uow.calls.add(
                CallRecord(
                    id=uuid.uuid4(),
                    tenant_id=tenant_id,
                    call_sid="CA" + uuid.uuid4().hex,
                    caller=caller,
                    called=business,
                    status="no-answer",
                    outcome=CallOutcome.MISSED,
                    reason="no_answer",
                    duration_seconds=0,
                    conversation_id=conversation.id,
                    occurred_at=call_at,
                )
            )
            text_back = _out(tenant_id, conversation.id, caller, business, call_at,
                             Author.TEXT_BACK)  # fmt: skip
            accepted_at = call_at + timedelta(seconds=accepted_after)
            await uow.messages.add(attrs.evolve(text_back, accepted_at=accepted_at))
            if reply is not None:
                after, answer = reply
                replied_at = call_at + timedelta(seconds=after)
                await uow.messages.add_inbound(InboundMessage(
                    uuid.uuid4(), tenant_id, conversation.id, caller, business,
                    "my water heater is leaking", "SM" + uuid.uuid4().hex, replied_at,
                ))  # fmt: skip
                answered_at = replied_at + timedelta(seconds=answer)
                await uow.messages.add(_out(tenant_id, conversation.id, caller, business,
                                            answered_at, Author.ASSISTANT))  # fmt: skip
            await uow.commit()
    day = FIRST
    while day <= LAST:
        await recompute_day(new_uow(), tenant_id, day)
        day += timedelta(days=1)
