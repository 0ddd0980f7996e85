"""The read behind `nmc chat`: what the business texted a contact on their current thread."""

from __future__ import annotations

from nmc_adapters.memory import InMemoryStore, InMemoryUnitOfWork
from nmc_domain.conversation.assistant import RuleBasedAssistant
from nmc_domain.conversation.inbound import InboundText, receive_text
from nmc_domain.conversation.people import close_conversation
from nmc_domain.conversation.transcript import texts_to_contact
from nmc_domain.identity.model import Principal
from nmc_domain.messaging.model import Author, MessageStatus
from nmc_domain.telephony.missed_call import CallStatusReport, report_call_status
from tests.support.tenants import fresh_number, onboard

CALLER = "+15555550123"
OWNER = "owner@acme-plumbing.example"


async def test_the_texts_to_a_contact_on_their_thread_oldest_first() -> None:
    store = InMemoryStore()
    new_uow = lambda: InMemoryUnitOfWork(store)  # noqa: E731
    tenant, number = await onboard(new_uow)
    assert await texts_to_contact(new_uow(), number, CALLER) == []  # no thread yet

    await report_call_status(new_uow(), CallStatusReport("CA1", number, CALLER, "no-answer", 0))
    store.advance(5)
    text = InboundText(message_sid="SM1", sender=CALLER, to=number, body="hello?")
    received = await receive_text(new_uow(), RuleBasedAssistant(), text)

    thread = await texts_to_contact(new_uow(), number, CALLER)
    assert [m.author for m in thread] == [Author.TEXT_BACK, Author.ASSISTANT]
    assert {(m.to, m.from_, m.status) for m in thread} == {(CALLER, number, MessageStatus.QUEUED)}
    assert all(m.conversation_id == received.conversation_id for m in thread)
    later = await texts_to_contact(new_uow(), number, CALLER, since=thread[1].created_at)
    assert later == [thread[1]]
    assert await texts_to_contact(new_uow(), number, "+15555550199") == []
    assert await texts_to_contact(new_uow(), fresh_number(), CALLER) == []  # nobody's number

    # A closed thread is history: the next call or text starts a new one.
    assert received.conversation_id is not None
    owner = Principal(OWNER, tenant.id)
    await close_conversation(new_uow(), owner, received.conversation_id)
    assert await texts_to_contact(new_uow(), number, CALLER) == []
