"""`nmc chat`: the terminal is the customer's phone.

It places a missed call to the business (as `nmc simulate missed-call` does), sends each line
typed as the customer's text (signed, to /webhooks/twilio/sms) and prints the business's texts
to that number as they leave, read from the database the CLI knows (NMC_DATABASE_URL or
`nmc dev`'s). After each line it waits (a few seconds at most) until the answers queued for the
customer have left, so a script piped into it behaves like a person reading before typing.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TextIO
from uuid import UUID

import httpx
import typer

from nmc_cli.bootstrap import with_uow
from nmc_cli.devstate import database_url
from nmc_cli.output import fail, reported
from nmc_cli.simulate import (
    CALL_STATUS_PATH,
    SMS_PATH,
    Twilio,
    call_status_form,
    e164,
    message_sid,
    sms_form,
    twilio_target,
    unreachable,
)
from nmc_domain.conversation.transcript import texts_to_contact
from nmc_domain.messaging.model import MessageStatus, OutboundMessage
from nmc_domain.tenancy.profile import find_tenant
from nmc_domain.unit_of_work import UnitOfWorkFactory

__all__ = ["ANSWER_WAIT_SECONDS", "chat"]

ANSWER_WAIT_SECONDS = 10.0  # the longest a line waits for the business's answer
_POLL_SECONDS = 0.2
_QUIT = "/quit"


def _left(message: OutboundMessage) -> bool:
    """It is out of our hands: handed to the provider, or held, canceled, failed."""
    return message.provider_sid is not None or message.status is not MessageStatus.QUEUED


def _clock(moment: datetime) -> str:
    return f"{moment.astimezone():%H:%M:%S}"


class _Phone:
    """One chat: what was printed, what is still on its way, and the lines typed."""

    def __init__(self, new_uow: UnitOfWorkFactory, twilio: Twilio, caller: str, echo: bool) -> None:
        self.new_uow, self.twilio, self.caller, self.echo = new_uow, twilio, caller, echo
        self.business = twilio.to
        self.before: set[UUID] = set()  # texts sent before the chat began: never shown
        self.since: datetime | None = None
        self.shown: set[UUID] = set()
        self.first_seen: dict[UUID, float] = {}
        self.lines: asyncio.Queue[str | None] = asyncio.Queue()
        self.http = httpx.AsyncClient(timeout=10.0)

    async def run(self) -> None:
        tenant = await find_tenant(self.new_uow(), self.twilio.to)
        if tenant is None:
            fail(f"--to: no business answers {self.twilio.to}")
        self.business = tenant.name
        earlier = await self._texts()
        self.before = {m.id for m in earlier}
        self.since = max((m.created_at for m in earlier), default=None)
        print(
            f"nmc chat: you are {self.caller}, calling {tenant.name} at {self.twilio.to}.\n"
            f"  Type a text and press Enter; {_QUIT} or Ctrl-D leaves.",
            flush=True,
        )
        self._read_lines(asyncio.get_running_loop(), sys.stdin)
        async with self.http:
            await self._call()
            while True:
                line = await self._next_line()
                if line is None or line.strip().lower() == _QUIT:
                    break
                if line.strip():
                    await self._text(line.strip())
            await self._show_new()  # what went out while the last line was typed
        print("nmc chat: bye", flush=True)

    async def _texts(self) -> Sequence[OutboundMessage]:
        return await texts_to_contact(self.new_uow(), self.twilio.to, self.caller, since=self.since)

    def _read_lines(self, loop: asyncio.AbstractEventLoop, stream: TextIO) -> None:
        """Lines typed (or piped) go to the queue from a thread of their own; None at the end."""

        def read() -> None:
            while True:
                line = stream.readline()
                try:
                    loop.call_soon_threadsafe(self.lines.put_nowait, line or None)
                except RuntimeError:  # the chat is over: its loop is closed
                    return
                if not line:
                    return

        # A daemon: a blocked read must not keep the process alive after Ctrl-C.
        threading.Thread(target=read, name="nmc-chat-stdin", daemon=True).start()

    async def _post(self, path: str, params: list[tuple[str, str]]) -> httpx.Response:
        url, headers = self.twilio.form(path, params)
        try:
            return await self.http.post(url, data=dict(params), headers=headers)
        except httpx.HTTPError as exc:
            unreachable(self.twilio.base_url, exc)

    async def _call(self) -> None:
        sid = "CA" + uuid.uuid4().hex
        now = _clock(datetime.now().astimezone())
        print(f"{now}  you called {self.business}: no answer", flush=True)
        response = await self._post(
            CALL_STATUS_PATH, call_status_form(self.twilio, self.caller, sid)
        )
        if response.status_code >= 400:
            print(
                f"nmc: error: the API answered {response.status_code} to the missed call "
                "(is it signing with the same auth token?)",
                file=sys.stderr,
            )
            raise typer.Exit(1)
        if not await self._settle():
            print(
                "  (no text-back: this number's conversation is still open, or it opted out;"
                " just text)",
                flush=True,
            )

    async def _text(self, body: str) -> None:
        if self.echo:
            print(f"{_clock(datetime.now().astimezone())}  you: {body}", flush=True)
        response = await self._post(
            SMS_PATH, sms_form(self.twilio, self.caller, body, message_sid())
        )
        if response.status_code >= 400:
            print(f"nmc chat: the API answered {response.status_code} to that text", flush=True)
            return
        await self._settle()

    async def _settle(self) -> bool:
        """Print what leaves until nothing queued for the caller is left to go (or the wait is
        over); True when anything new was queued. The webhook queues its answers before it
        returns, so "nothing queued" is known at once."""
        deadline = time.monotonic() + ANSWER_WAIT_SECONDS
        new = False
        while True:
            pending, fresh = await self._show_new()
            new = new or fresh
            if not pending or time.monotonic() > deadline:
                return new
            await asyncio.sleep(_POLL_SECONDS)

    async def _next_line(self) -> str | None:
        """The next line typed; meanwhile, whatever the business sends is printed."""
        while True:
            try:
                return await asyncio.wait_for(self.lines.get(), _POLL_SECONDS)
            except TimeoutError:
                await self._show_new()

    async def _show_new(self) -> tuple[bool, bool]:
        """Print each new text once it has left, in the order they were written (one still on
        its way holds back those after it, for a while); (any still on its way, any new)."""
        now = time.monotonic()
        pending = fresh = False
        for message in await self._texts():
            if message.id in self.before or message.id in self.shown:
                continue
            fresh = True
            first = self.first_seen.setdefault(message.id, now)
            if not _left(message):
                pending = True
                if now - first < ANSWER_WAIT_SECONDS:
                    break  # hold back the later ones for a while, to keep the order
                continue
            self._print(message)
        return pending, fresh

    def _print(self, message: OutboundMessage) -> None:
        self.shown.add(message.id)
        body = "\n".join(f"    {line}" for line in message.body.splitlines() or [""])
        status = message.status.value
        if message.error:
            status = f"{status}: {message.error}"
        print(
            f"{_clock(message.created_at)}  {self.business} ({status}):\n{body}",
            flush=True,
        )


def chat(
    caller: str = typer.Option(..., "--from", help="your number, the customer's (E.164)"),
    to: str | None = typer.Option(None, "--to", help="the business number (default: demo)"),
    base_url: str | None = typer.Option(None, "--base-url", help="the API (default: nmc dev)"),
) -> None:
    """Be a customer: a missed call, then your texts and the business's answers, live."""
    try:
        caller = e164(caller, "--from")
        twilio = twilio_target(to, base_url)
        with reported():
            url = database_url()
        echo = not sys.stdin.isatty()  # piped lines show in the transcript; typed ones already do

        async def talk(new_uow: UnitOfWorkFactory) -> None:
            await _Phone(new_uow, twilio, caller, echo).run()

        with reported():
            asyncio.run(with_uow(url, talk))
    except KeyboardInterrupt:
        # `uv run` forwards the terminal's Ctrl-C too: a second one must not cut this short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        print("\nnmc chat: bye", flush=True)
