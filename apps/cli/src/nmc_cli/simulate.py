"""`nmc simulate missed-call|sms`: post signed Twilio webhooks, as Twilio would."""

from __future__ import annotations

import os
import re
import uuid
from typing import NoReturn

import attrs
import httpx
import typer

from nmc_cli.bootstrap import twilio_signature
from nmc_cli.devstate import DevState
from nmc_cli.output import emit, fail
from nmc_domain.shared.phone import is_e164

__all__ = [
    "CALL_STATUS_PATH",
    "SMS_PATH",
    "Twilio",
    "app",
    "call_status_form",
    "e164",
    "message_sid",
    "sms_form",
    "twilio_target",
    "unreachable",
]

app = typer.Typer(help="Simulate provider traffic against a running API.", no_args_is_help=True)

CALL_STATUS_PATH = "/webhooks/twilio/voice/status"
SMS_PATH = "/webhooks/twilio/sms"
_DEV_BASE_URL = "http://127.0.0.1:8000"
_SID = re.compile(r"^SM[0-9a-fA-F]{32}\Z")


def e164(value: str, option: str) -> str:
    """The number without spaces, dots, dashes or parentheses; exit 2 naming `option` if it is
    not E.164."""
    cleaned = re.sub(r"[\s().-]", "", value)
    if not is_e164(cleaned):
        fail(f"{option}: not an E.164 number: {value!r} (write it like +14155550123)")
    return cleaned


@attrs.frozen
class Twilio:
    """Where simulated webhooks go and how they are signed: the business number, the API's
    public base URL, the auth token and the account."""

    to: str
    base_url: str
    auth_token: str
    account_sid: str

    def form(self, path: str, params: list[tuple[str, str]]) -> tuple[str, dict[str, str]]:
        """The URL and the headers of a signed form POST of `params` to `path`."""
        url = self.base_url + path
        return url, {"X-Twilio-Signature": twilio_signature(self.auth_token, url, params)}

    def post(self, path: str, params: list[tuple[str, str]]) -> httpx.Response:
        """Post the signed form; exit 2 when the API cannot be reached."""
        url, headers = self.form(path, params)
        try:
            return httpx.post(url, data=dict(params), headers=headers, timeout=10.0)
        except httpx.HTTPError as exc:
            unreachable(self.base_url, exc)


def unreachable(base_url: str, exc: Exception) -> NoReturn:
    fail(f"cannot reach the API at {base_url} ({exc.__class__.__name__}): is `nmc dev` running?")


def twilio_target(to: str | None, base_url: str | None) -> Twilio:
    """The business number (--to, else the demo's), the API (--base-url, NMC_PUBLIC_BASE_URL,
    `nmc dev`'s, :8000) and the signing token (NMC_TWILIO_AUTH_TOKEN, else `nmc dev`'s)."""
    state = DevState.load()
    if to is None and state is None:
        fail("--to is required when no `nmc dev` runs in this folder")
    number = e164(to, "--to") if to is not None else state.demo_number  # type: ignore[union-attr]
    base = (
        base_url
        or os.environ.get("NMC_PUBLIC_BASE_URL")
        or (state.base_url if state else _DEV_BASE_URL)
    ).rstrip("/")
    token = os.environ.get("NMC_TWILIO_AUTH_TOKEN") or (state.auth_token if state else None)
    if not token:
        fail("NMC_TWILIO_AUTH_TOKEN is not set (and no `nmc dev` in this folder)")
    account = os.environ.get("NMC_TWILIO_ACCOUNT_SID") or (state.account_sid if state else "")
    return Twilio(number, base, token, account)


def call_status_form(
    twilio: Twilio, caller: str, sid: str, status: str = "no-answer"
) -> list[tuple[str, str]]:
    """A call's status callback as Twilio posts it."""
    return [
        ("AccountSid", twilio.account_sid),
        ("ApiVersion", "2010-04-01"),
        ("CallDuration", "0"),
        ("CallSid", sid),
        ("CallStatus", status),
        ("Direction", "inbound"),
        ("From", caller),
        ("To", twilio.to),
    ]


def message_sid() -> str:
    return "SM" + uuid.uuid4().hex


def sms_form(twilio: Twilio, sender: str, body: str, sid: str) -> list[tuple[str, str]]:
    """An inbound text as Twilio posts it (no media)."""
    return [
        ("AccountSid", twilio.account_sid),
        ("ApiVersion", "2010-04-01"),
        ("Body", body),
        ("From", sender),
        ("MessageSid", sid),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
        ("SmsMessageSid", sid),
        ("SmsSid", sid),
        ("SmsStatus", "received"),
        ("To", twilio.to),
    ]


@app.command("missed-call")
def missed_call(
    caller: str = typer.Option(..., "--from", help="the caller's number (E.164)"),
    to: str | None = typer.Option(None, "--to", help="the business number (default: demo)"),
    base_url: str | None = typer.Option(None, "--base-url", help="the API (default: nmc dev)"),
    status: str = typer.Option("no-answer", "--status", help="CallStatus to report"),
    call_sid: str | None = typer.Option(None, "--call-sid", help="replay a given CallSid"),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Sign a missed-call status callback with the configured (or dev) auth token and post it."""
    caller = e164(caller, "--from")
    twilio = twilio_target(to, base_url)
    sid = call_sid or "CA" + uuid.uuid4().hex
    response = twilio.post(CALL_STATUS_PATH, call_status_form(twilio, caller, sid, status))
    emit(
        f"missed call {sid} from {caller} to {twilio.to} ({status}): "
        f"API answered {response.status_code}",
        {
            "call_sid": sid,
            "from": caller,
            "to": twilio.to,
            "status": status,
            "http_status": response.status_code,
        },
        as_json=as_json,
    )
    if response.status_code >= 400:
        raise typer.Exit(1)


@app.command("sms")
def sms(
    sender: str = typer.Option(..., "--from", help="the contact's number (E.164)"),
    body: str = typer.Option(..., "--body", help="the text"),
    to: str | None = typer.Option(None, "--to", help="the business number (default: demo)"),
    base_url: str | None = typer.Option(None, "--base-url", help="the API (default: nmc dev)"),
    sid: str | None = typer.Option(
        None, "--message-sid", help="replay a given MessageSid (SM + 32 hex digits)"
    ),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Sign an inbound text with the configured (or dev) auth token and post it; the answer
    goes out through the worker (in `nmc dev`'s window without Twilio credentials)."""
    sender = e164(sender, "--from")
    if sid is not None and not _SID.match(sid):
        fail(f"--message-sid: expected SM and 32 hex digits, got {sid!r}")
    twilio = twilio_target(to, base_url)
    sid = sid or message_sid()
    response = twilio.post(SMS_PATH, sms_form(twilio, sender, body, sid))
    emit(
        f"text {sid} from {sender} to {twilio.to}: API answered {response.status_code}",
        {
            "message_sid": sid,
            "from": sender,
            "to": twilio.to,
            "body": body,
            "http_status": response.status_code,
        },
        as_json=as_json,
    )
    if response.status_code >= 400:
        raise typer.Exit(1)
