"""The fake Twilio with faults chosen per request by a rule, for the delivery proofs.

`FakeTwilio` queues faults in arrival order; the proofs need faults that depend on the
recipient and on how many times it was asked (reproducible from a seed whatever the order in
which concurrent requests arrive), and the fault Twilio really shows: a message created and
still answered 500. The list endpoint (reconciliation) is the base class's and is never faulted.
"""

from __future__ import annotations

import collections
import random
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs

from tests.support.fake_twilio import _ACCOUNTS, FakeMessage, FakeTwilio, _Handler

__all__ = ["Fault", "FaultyTwilio", "message_id_of", "seeded_faults"]


@attrs.frozen
class Fault:
    """What the fake does with one send.

    `created`: the message is recorded (Twilio has it) before the answer goes out.
    `delay`: seconds before the answer (after recording, when created).
    `status`/`code`: the answer; 201 means the normal success body.
    """

    name: str
    status: int = 201
    code: int = 0
    created: bool = True
    delay: float = 0.0


OK = Fault("ok")
# A send's fault from (recipient, how many sends to it came before this one: 0, 1, …).
Rule = Callable[[str, int], Fault]


def _no_fault(_to: str, _n: int) -> Fault:
    return OK


class FaultyTwilio(FakeTwilio):
    """`FakeTwilio` whose sends follow `rule`; it also counts sends per recipient and keeps a
    log of (recipient, fault name) for every send it answered."""

    def __init__(self, *args: Any, rule: Rule = _no_fault, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rule = rule
        self.sends_to: collections.Counter[str] = collections.Counter()
        self.fault_log: list[tuple[str, str]] = []

    def _handle(self, req: _Handler, kind: str) -> None:
        url = urlsplit(req.path)
        account, _, rest = url.path.removeprefix(_ACCOUNTS).partition("/")
        ours = url.path.startswith(_ACCOUNTS) and rest == "Messages.json"
        if kind != "send" or not ours or account != self.account_sid:
            return super()._handle(req, kind)
        if req.headers.get("Authorization") != self._expected_auth:
            return super()._handle(req, kind)
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length)
        if len(body) < length:  # the client died mid-request (SIGKILL): nothing to answer
            req.close_connection = True
            with self._lock:
                self._requests["truncated"] += 1
            return None
        form = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
        to = form.get("To", "")
        with self._lock:
            self._requests["send"] += 1
            n = self.sends_to[to]
            self.sends_to[to] += 1
        fault = self.rule(to, n)
        with self._lock:
            self.fault_log.append((to, fault.name))
        for field, code in (("To", 21604), ("From", 21603), ("Body", 21602)):
            if not form.get(field):
                return req.error(400, code)
        message = self._record(form, req.received_ns) if fault.created else None
        if fault.delay:
            time.sleep(fault.delay)
        if fault.status == 201 and message is not None:
            return req.reply(201, message.as_json(self.account_sid))
        if fault.status == 201:  # a success that created nothing makes no sense: say 500
            return req.error(500, 20500, "Internal Server Error")
        if fault.status >= 500:
            return req.error(fault.status, 20500, "Internal Server Error")
        if fault.status == 429:
            return req.error(429, 20429, "Too Many Requests")
        return req.error(fault.status, fault.code, f"Rejected (injected {fault.code})")

    def fault_counts(self) -> collections.Counter[str]:
        with self._lock:
            return collections.Counter(name for _, name in self.fault_log)


def seeded_faults(
    seed: int,
    *,
    rate: float,
    mix: Mapping[Fault, float],
    rejected: Mapping[str, Fault] | None = None,
) -> Rule:
    """A rule: the recipients in `rejected` always get their fault; any other send is faulted
    with probability `rate`, the fault drawn from `mix` (weights). Each draw depends only on
    (seed, recipient, n): the same run gives the same faults whatever the arrival order."""
    faults, weights = list(mix), list(mix.values())
    rejected = rejected or {}

    def rule(to: str, n: int) -> Fault:
        if to in rejected:
            return rejected[to]
        rng = random.Random(f"{seed}|{to}|{n}")
        if rng.random() >= rate:
            return OK
        return rng.choices(faults, weights)[0]

    return rule


def message_id_of(message: FakeMessage) -> str | None:
    """Our message id, from the StatusCallback the worker gave with the send."""
    if message.status_callback is None:
        return None
    found = parse_qs(urlsplit(message.status_callback).query).get("message_id")
    return found[0] if found else None
