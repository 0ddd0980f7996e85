"""Response episodes: a contact reaching the business, and the first reply to it.

From one conversation's timeline (events sorted by time; at one instant a call or an inbound
text comes before a hand-off, which comes before the texts sent in the same transaction):

- a missed call starts an episode that the next text-back ends when the provider accepted it
  (`accepted_at`); a text-back never accepted leaves it without an end;
- an inbound text starts one unless an episode of an inbound text is still waiting: while the
  assistant answers, the first assistant or person text ends it (at its `created_at`: the
  moment the reply was written; the provider's side is the text-back measure's); while a person
  has the conversation (a hand-off running before the text), only a person's text ends it;
- a hand-off starts one that only a person's text ends; handing the conversation back to the
  assistant first abandons it (no reply by a person will ever be its end).

Automated texts (text-back, assistant, compliance) never end a person's episode (Chatwoot
#13312); outbound texts start nothing; a contact coming back after the assistant answered
starts a new episode at the new text (Chatwoot #12058). An episode without its end has no
latency and is not returned: "no latency exists until both ends do".
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import attrs

from nmc_domain.reporting.model import (
    EndType,
    Episode,
    StartType,
    Timeline,
    TimelineEvent,
    TimelineKind,
)

__all__ = ["episodes_of"]

K = TimelineKind
_RANK = {K.MISSED_CALL: 0, K.INBOUND: 1, K.HANDOFF: 2}  # outbound texts: 3


@attrs.frozen
class _Waiting:
    """A started episode; a person's waits only until its hand-off ends (`until`)."""

    start_type: StartType
    at: datetime
    person: bool
    until: datetime | None = None

    def lapsed(self, now: datetime) -> bool:
        return self.until is not None and now >= self.until


def _handoff_at(handoffs: list[TimelineEvent], at: datetime) -> TimelineEvent | None:
    """The hand-off running at `at` (begun strictly before), if any."""
    for handoff in handoffs:
        if handoff.at < at and (handoff.released_at is None or handoff.released_at > at):
            return handoff
    return None


class _Episodes:
    def __init__(self, tenant_id: UUID, timeline: Timeline) -> None:
        self.tenant_id = tenant_id
        self.conversation_id = timeline.conversation_id
        self.found: list[Episode] = []
        self.calls: list[datetime] = []
        self.inbound: _Waiting | None = None
        self.handoff: _Waiting | None = None

    def end(self, waiting: _Waiting, end_type: EndType, at: datetime) -> None:
        self.found.append(
            Episode(self.tenant_id, self.conversation_id, waiting.start_type, waiting.at,
                    end_type, at)
        )  # fmt: skip

    def see(self, event: TimelineEvent, handoffs: list[TimelineEvent]) -> None:
        for name in ("inbound", "handoff"):
            waiting = getattr(self, name)
            if waiting is not None and waiting.lapsed(event.at):
                setattr(self, name, None)  # back with the assistant: no person will end it
        if event.kind is K.MISSED_CALL:
            self.calls.append(event.at)
        elif event.kind is K.INBOUND:
            self._inbound(event, handoffs)
        elif event.kind is K.HANDOFF:
            if self.handoff is None:
                self.handoff = _Waiting(StartType.HANDOFF, event.at, True, event.released_at)
        elif event.kind is K.TEXT_BACK:
            if event.accepted_at is not None:
                for call in self.calls:
                    self.found.append(
                        Episode(self.tenant_id, self.conversation_id, StartType.MISSED_CALL,
                                call, EndType.TEXT_BACK, event.accepted_at)
                    )  # fmt: skip
            self.calls = []  # the first text-back is the call's reply, accepted or not
        elif event.kind is K.ASSISTANT:
            if self.inbound is not None and not self.inbound.person:
                self.end(self.inbound, EndType.ASSISTANT, event.at)
                self.inbound = None
        elif event.kind is K.PERSON:
            for waiting in (self.inbound, self.handoff):
                if waiting is not None:
                    self.end(waiting, EndType.PERSON, event.at)
            self.inbound = self.handoff = None

    def _inbound(self, event: TimelineEvent, handoffs: list[TimelineEvent]) -> None:
        running = _handoff_at(handoffs, event.at)
        person = running is not None
        if self.inbound is not None and self.inbound.person == person:
            return  # the contact wrote again before any reply: the first text still waits
        until = running.released_at if running is not None else None
        self.inbound = _Waiting(StartType.INBOUND, event.at, person, until)


def episodes_of(tenant_id: UUID, timeline: Timeline) -> tuple[Episode, ...]:
    """The conversation's episodes that have both ends, in the order they ended."""
    events = sorted(timeline.events, key=lambda event: (event.at, _RANK.get(event.kind, 3)))
    handoffs = [event for event in events if event.kind is K.HANDOFF]
    state = _Episodes(tenant_id, timeline)
    for event in events:
        state.see(event, handoffs)
    return tuple(state.found)
