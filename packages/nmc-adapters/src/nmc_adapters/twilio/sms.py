"""Twilio SMS sender: hands texts to the Messages API and reconciles sends of unknown outcome."""

from __future__ import annotations

import email.utils
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import httpx

from nmc_domain.messaging.errors import SmsNotSent, SmsOutcomeUnknown, SmsRejected
from nmc_domain.messaging.ports import OutgoingSms, SmsReceipt

__all__ = ["TwilioSmsSender"]

_API_VERSION: Final = "2010-04-01"
_STATUS_CALLBACK_PATH: Final = "/webhooks/twilio/sms/status"
# Twilio's clock and ours disagree a little; a message stamped just before `since` is still ours.
_CLOCK_SKEW: Final = timedelta(minutes=2)
_PAGE_SIZE: Final = 50
_MAX_PAGES: Final = 5
# 408 and 429 say "not now", not "never": the message was not created and a resend is safe.
# 401/403/404 mean our credentials or account are wrong: nothing was created, and the fix is
# ours, so retry (and dead-letter for `nmc replay`) rather than fail the message for good.
_RETRYABLE_4XX: Final = frozenset({401, 403, 404, 408, 429})
# Any 5xx may come after Twilio created the message (fault injection found 500s that had):
# the outcome is unknown, and the retry reconciles against the message list before resending.
_DETAIL_LIMIT: Final = 500

# Raised before any byte of the request reached Twilio, so a resend cannot duplicate the text.
# Every other httpx error may come after Twilio read the request: the outcome is unknown.
_NEVER_LEFT: Final = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.ProxyError,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
)


class TwilioSmsSender:
    """`SmsSender` over Twilio's REST API (base URL configurable so tests use a local fake)."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        account_sid: str,
        auth_token: str,
        api_base: str,
        public_base_url: str,
    ) -> None:
        self._client = client
        self._auth_token = auth_token
        self._auth = httpx.BasicAuth(account_sid, auth_token)
        self._api_base = api_base.rstrip("/")
        self._messages_url = f"{self._api_base}/{_API_VERSION}/Accounts/{account_sid}/Messages.json"
        self._status_callback = public_base_url.rstrip("/") + _STATUS_CALLBACK_PATH

    def __repr__(self) -> str:
        # Never show the token, even in a debugger or a log of this object.
        return f"TwilioSmsSender(messages_url={self._messages_url!r})"

    async def send(self, sms: OutgoingSms) -> SmsReceipt:
        """Hand one SMS to Twilio; raises SmsRejected, SmsNotSent or SmsOutcomeUnknown."""
        form = {
            "To": sms.to,
            "From": sms.from_,
            "Body": sms.body,
            "StatusCallback": f"{self._status_callback}?message_id={sms.reference}",
        }
        # `from None` below: our message carries the redacted cause; the raw one stays out of logs.
        try:
            response = await self._client.post(self._messages_url, data=form, auth=self._auth)
        except (*_NEVER_LEFT, httpx.InvalidURL) as exc:
            raise SmsNotSent(self._describe("the request never reached Twilio", exc)) from None
        except httpx.HTTPError as exc:
            raise SmsOutcomeUnknown(self._describe("Twilio may have the message", exc)) from None
        return self._receipt_of_send(response)

    async def find_sent(self, sms: OutgoingSms, since: datetime) -> Sequence[SmsReceipt]:
        """Twilio's records like `sms` (same To, From, Body) created at or after `since` (less
        clock skew), newest first.

        Raises SmsNotSent when Twilio cannot be asked now; the reconciliation can be retried.
        """
        earliest = _as_utc(since) - _CLOCK_SKEW
        # No DateSent filter: Twilio fills date_sent only once a message leaves its queue, so a
        # message still queued there would be missed (and sent twice). The list is newest first.
        params: dict[str, str] | None = {
            "To": sms.to,
            "From": sms.from_,
            "PageSize": str(_PAGE_SIZE),
        }
        url = self._messages_url
        found: list[SmsReceipt] = []
        for _ in range(_MAX_PAGES):
            page = await self._list_page(url, params)
            entries = _entries(page)
            found.extend(
                receipt
                for receipt in (_receipt_if_match(entry, sms.body, earliest) for entry in entries)
                if receipt is not None
            )
            oldest = _created(entries[-1]) if entries else None
            if oldest is not None and oldest < earliest:  # newest first: the rest is older
                break
            next_uri = page.get("next_page_uri")
            # Only relative URIs: our credentials must never follow a link to another host.
            if not isinstance(next_uri, str) or not next_uri.startswith("/"):
                break
            url, params = self._api_base + next_uri, None  # the URI carries its own query
        return found

    async def _list_page(self, url: str, params: Mapping[str, str] | None) -> Mapping[str, Any]:
        try:
            response = await self._client.get(url, params=params, auth=self._auth)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise SmsNotSent(self._describe("could not list messages", exc)) from None
        if not response.is_success:
            raise SmsNotSent(
                f"could not list messages: Twilio answered HTTP {response.status_code}"
            )
        payload = _json_object(response)
        if payload is None:
            raise SmsNotSent("could not list messages: unreadable answer from Twilio")
        return payload

    def _receipt_of_send(self, response: httpx.Response) -> SmsReceipt:
        status = response.status_code
        if response.is_success:
            payload = _json_object(response) or {}
            sid, state = payload.get("sid"), payload.get("status")
            if isinstance(sid, str) and sid and isinstance(state, str):
                return SmsReceipt(provider_sid=sid, status=state)
            # Twilio said yes but we cannot tell to what: only reconciliation can find the sid.
            raise SmsOutcomeUnknown(f"Twilio answered HTTP {status} with an unreadable body")
        if status >= 500:
            raise SmsOutcomeUnknown(f"Twilio answered HTTP {status}: it may have the message")
        if status in _RETRYABLE_4XX:
            raise SmsNotSent(f"Twilio answered HTTP {status}")
        if status >= 400:
            payload = _json_object(response) or {}
            code = payload.get("code") or status
            detail = payload.get("message") or response.text
            raise SmsRejected(code=str(code), detail=self._redact(str(detail)))
        # 1xx/3xx: nothing was created at this URL (a misconfigured api_base, most likely).
        raise SmsNotSent(f"unexpected HTTP {status} from Twilio")

    def _describe(self, what: str, exc: Exception) -> str:
        return f"{what}: {type(exc).__name__}: {self._redact(str(exc))}"

    def _redact(self, text: str) -> str:
        if self._auth_token:
            text = text.replace(self._auth_token, "[redacted]")
        return text[:_DETAIL_LIMIT]


def _as_utc(moment: datetime) -> datetime:
    # A naive datetime is taken as UTC, which is what the database clock gives us.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _json_object(response: httpx.Response) -> Mapping[str, Any] | None:
    try:
        payload = response.json()
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        return None
    return payload if isinstance(payload, dict) else None


def _entries(page: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    messages = page.get("messages")
    if not isinstance(messages, list):
        return []
    return [entry for entry in messages if isinstance(entry, dict)]


def _created(entry: Mapping[str, Any]) -> datetime | None:
    created = entry.get("date_created")
    if not isinstance(created, str):
        return None
    try:
        return _as_utc(email.utils.parsedate_to_datetime(created))
    except (TypeError, ValueError):
        return None  # a date we cannot read cannot prove the message is ours


def _receipt_if_match(entry: Mapping[str, Any], body: str, earliest: datetime) -> SmsReceipt | None:
    sid, status, created_at = entry.get("sid"), entry.get("status"), _created(entry)
    if entry.get("body") != body or not isinstance(sid, str) or created_at is None:
        return None
    if created_at < earliest:
        return None
    return SmsReceipt(provider_sid=sid, status=status if isinstance(status, str) else "queued")
