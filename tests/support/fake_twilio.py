"""A small, real HTTP fake of Twilio's Messages API on 127.0.0.1, with fault injection."""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import contextlib
import email.utils
import json
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import attrs

from tests.support.http_fake import FakeServer, ServedFake

__all__ = ["FakeMessage", "FakeTwilio"]

_DEFAULT_SID = "AC" + "0" * 32
_DEFAULT_TOKEN = "fake-twilio-auth-token"
_ACCOUNTS = "/2010-04-01/Accounts/"
_ERRORS = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    21602: "Message body is required.",
    21603: "A 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
}


@attrs.frozen
class FakeMessage:
    """One message the fake accepted."""

    sid: str
    to: str
    from_: str
    body: str
    status_callback: str | None
    date_created: datetime
    received_ns: int  # time.time_ns() when the request line arrived

    def as_json(self, account_sid: str) -> dict[str, Any]:
        created = email.utils.format_datetime(self.date_created)
        return {
            "sid": self.sid,
            "account_sid": account_sid,
            "api_version": "2010-04-01",
            "to": self.to,
            "from": self.from_,
            "body": self.body,
            "status": "queued",
            "direction": "outbound-api",
            "date_created": created,
            "date_updated": created,
            "date_sent": None,
            "num_segments": "1",
            "num_media": "0",
            "price": None,
            "error_code": None,
            "error_message": None,
            "uri": f"{_ACCOUNTS}{account_sid}/Messages/{self.sid}.json",
        }


@attrs.frozen
class _Fault:
    kind: str  # "fail", "reject", "hang" or "drop"
    status: int = 0
    code: int = 0
    seconds: float = 0.0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: every answer carries Content-Length
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stall
    server: FakeServer
    received_ns = 0

    def parse_request(self) -> bool:
        # Runs right after the request line is read: the earliest moment we can stamp.
        self.received_ns = time.time_ns()
        return super().parse_request()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # per-request logging costs more than the request at benchmark rates

    def do_POST(self) -> None:
        self.server.fake._handle(self, "send")

    def do_GET(self) -> None:
        self.server.fake._handle(self, "list")

    def reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def error(self, status: int, code: int, message: str | None = None) -> None:
        text = message or _ERRORS.get(code, f"Error {code}")
        more = f"https://www.twilio.com/docs/errors/{code}"
        self.reply(status, {"code": code, "message": text, "more_info": more, "status": status})


class FakeTwilio(ServedFake):
    """Twilio's Messages API for tests and benchmarks; injected faults apply to sends only."""

    handler = _Handler

    def __init__(
        self,
        account_sid: str = _DEFAULT_SID,
        auth_token: str = _DEFAULT_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        on_message: Callable[[FakeMessage], None] | None = None,
    ) -> None:
        self.account_sid, self.auth_token = account_sid, auth_token
        super().__init__(host, port)
        self._on_message = on_message
        credentials = base64.b64encode(f"{account_sid}:{auth_token}".encode()).decode()
        self._expected_auth = f"Basic {credentials}"
        self._lock = threading.Condition()
        self._messages: list[FakeMessage] = []
        self._faults: collections.deque[_Fault] = collections.deque()
        self._requests: collections.Counter[str] = collections.Counter()

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """The next n sends answer `status` and are not recorded."""
        self._add(n, _Fault("fail", status=status))

    def reject_next(self, n: int = 1, code: int = 21211, status: int = 400) -> None:
        """The next n sends get a Twilio error `code` with `status` and are not recorded."""
        self._add(n, _Fault("reject", status=status, code=code))

    def hang_next(self, n: int = 1, seconds: float = 1.0) -> None:
        """The next n sends are recorded, then answered only after `seconds`."""
        self._add(n, _Fault("hang", seconds=seconds))

    def drop_next(self, n: int = 1) -> None:
        """The next n sends are read, not recorded, and their connection closed unanswered."""
        self._add(n, _Fault("drop"))

    def clear_faults(self) -> None:
        """Forget every scripted fault not used yet."""
        with self._lock:
            self._faults.clear()

    def _add(self, n: int, fault: _Fault) -> None:
        with self._lock:
            self._faults.extend([fault] * n)

    @property
    def messages(self) -> list[FakeMessage]:
        with self._lock:
            return list(self._messages)

    @property
    def requests(self) -> dict[str, int]:
        """Requests seen, by kind: "send" (POST Messages), "list" (GET Messages), "other"."""
        with self._lock:
            return dict(self._requests)

    def wait_for_messages(self, count: int, timeout: float = 5.0) -> list[FakeMessage]:
        """Block until at least `count` messages are recorded; TimeoutError otherwise."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._messages) >= count, timeout):
                raise TimeoutError(f"{len(self._messages)} of {count} messages after {timeout}s")
            return list(self._messages)

    async def await_messages(
        self,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109 - same signature as wait_for_messages
    ) -> list[FakeMessage]:
        """`wait_for_messages` for async code: polls without blocking the event loop."""
        deadline = time.monotonic() + timeout
        while len(messages := self.messages) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(messages)} of {count} messages after {timeout}s")
            await asyncio.sleep(0.01)
        return messages

    def _handle(self, req: _Handler, kind: str) -> None:
        url = urlsplit(req.path)
        # Read the body whatever happens next, or the keep-alive connection is out of step.
        body = req.rfile.read(int(req.headers.get("Content-Length") or 0))
        account, _, rest = url.path.removeprefix(_ACCOUNTS).partition("/")
        kind = kind if url.path.startswith(_ACCOUNTS) and rest == "Messages.json" else "other"
        with self._lock:
            self._requests[kind] += 1
        if req.headers.get("Authorization") != self._expected_auth:
            return req.error(401, 20003)
        if kind == "other" or account != self.account_sid:
            return req.error(404, 20404)
        if kind == "list":
            return req.reply(200, self._list(parse_qs(url.query), url.path))
        with self._lock:
            fault = self._faults.popleft() if self._faults else None
        if fault is not None and fault.kind == "fail":
            return req.error(fault.status, 20500, "Internal Server Error")
        if fault is not None and fault.kind == "reject":
            return req.error(fault.status, fault.code, f"Rejected (injected {fault.code})")
        if fault is not None and fault.kind == "drop":
            req.close_connection = True  # read in full, then the line goes dead: no answer
            return None
        form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        for field, code in (("To", 21604), ("From", 21603), ("Body", 21602)):
            if not form.get(field):
                return req.error(400, code)
        message = self._record(form, req.received_ns)
        if fault is not None:  # hang: accepted, but the client gives up waiting for the answer
            time.sleep(fault.seconds)
        return req.reply(201, message.as_json(self.account_sid))

    def _record(self, form: dict[str, str], received_ns: int) -> FakeMessage:
        message = FakeMessage(
            sid="SM" + secrets.token_hex(16),
            to=form["To"],
            from_=form["From"],
            body=form["Body"],
            status_callback=form.get("StatusCallback"),
            date_created=datetime.now(UTC),
            received_ns=received_ns,
        )
        with self._lock:
            self._messages.append(message)
            self._lock.notify_all()
        if self._on_message is not None:
            self._on_message(message)
        return message

    def _list(self, query: dict[str, list[str]], path: str) -> dict[str, Any]:
        arg = {k: v[0] for k, v in query.items()}
        # The fake never sends, so its messages count as sent the moment they are created.
        since = date.fromisoformat(arg["DateSent>="]) if "DateSent>=" in arg else date.min
        size, page = int(arg.get("PageSize", 50)), int(arg.get("Page", 0))
        found = [
            m.as_json(self.account_sid)
            for m in reversed(self.messages)
            if m.date_created.date() >= since
            and arg.get("To", m.to) == m.to
            and arg.get("From", m.from_) == m.from_
        ]
        more = len(found) > (page + 1) * size
        return {
            "messages": found[page * size : (page + 1) * size],
            "page": page,
            "page_size": size,
            "uri": f"{path}?{urlencode(arg)}",
            "next_page_uri": f"{path}?{urlencode({**arg, 'Page': page + 1})}" if more else None,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--account-sid", default=_DEFAULT_SID)
    parser.add_argument("--auth-token", default=_DEFAULT_TOKEN)
    args = parser.parse_args()

    def show(m: FakeMessage) -> None:
        print(f"{m.date_created:%H:%M:%S} {m.sid} {m.from_} -> {m.to}: {m.body}", flush=True)

    fake = FakeTwilio(
        args.account_sid, args.auth_token, host=args.host, port=args.port, on_message=show
    )
    with fake:
        print(f"fake Twilio on {fake.base_url}, account {fake.account_sid}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
