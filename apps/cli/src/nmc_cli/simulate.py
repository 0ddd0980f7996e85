"""`nmc simulate missed-call`: post a signed Twilio status callback, as Twilio would."""

from __future__ import annotations

import os
import re
import uuid

import httpx
import typer

from nmc_cli.bootstrap import twilio_signature
from nmc_cli.devstate import DevState
from nmc_cli.output import emit, fail
from nmc_domain.shared.phone import is_e164

app = typer.Typer(help="Simulate provider traffic against a running API.", no_args_is_help=True)

_PATH = "/webhooks/twilio/voice/status"
_DEV_BASE_URL = "http://127.0.0.1:8000"


def _e164(value: str, option: str) -> str:
    cleaned = re.sub(r"[\s().-]", "", value)
    if not is_e164(cleaned):
        fail(f"{option}: not an E.164 number: {value!r} (write it like +14155550123)")
    return cleaned


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
    state = DevState.load()
    caller = _e164(caller, "--from")
    if to is None and state is None:
        fail("--to is required when no `nmc dev` runs in this folder")
    to = _e164(to, "--to") if to is not None else state.demo_number  # type: ignore[union-attr]
    base = (
        base_url
        or os.environ.get("NMC_PUBLIC_BASE_URL")
        or (state.base_url if state else _DEV_BASE_URL)
    ).rstrip("/")
    token = os.environ.get("NMC_TWILIO_AUTH_TOKEN") or (state.auth_token if state else None)
    if not token:
        fail("NMC_TWILIO_AUTH_TOKEN is not set (and no `nmc dev` in this folder)")
    sid = call_sid or "CA" + uuid.uuid4().hex
    params = [
        (
            "AccountSid",
            os.environ.get("NMC_TWILIO_ACCOUNT_SID") or (state.account_sid if state else ""),
        ),
        ("ApiVersion", "2010-04-01"),
        ("CallDuration", "0"),
        ("CallSid", sid),
        ("CallStatus", status),
        ("Direction", "inbound"),
        ("From", caller),
        ("To", to),
    ]
    url = base + _PATH
    headers = {"X-Twilio-Signature": twilio_signature(token, url, params)}
    try:
        response = httpx.post(url, data=dict(params), headers=headers, timeout=10.0)
    except httpx.HTTPError as exc:
        fail(f"cannot reach the API at {base} ({exc.__class__.__name__}): is `nmc dev` running?")
    emit(
        f"missed call {sid} from {caller} to {to} ({status}): API answered {response.status_code}",
        {
            "call_sid": sid,
            "from": caller,
            "to": to,
            "status": status,
            "http_status": response.status_code,
        },
        as_json=as_json,
    )
    if response.status_code >= 400:
        raise typer.Exit(1)
