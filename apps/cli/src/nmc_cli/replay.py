"""`nmc replay`: the outbox's dead letters and set-aside rows, requeued; stored webhooks re-run."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import Progress

from nmc_cli.bootstrap import CliError, with_outbox_admin
from nmc_cli.devstate import database_url
from nmc_cli.output import fail, reported
from nmc_domain.conversation.assistant import RuleBasedAssistant
from nmc_domain.conversation.inbound import SMS_EVENTS, InboundText, receive_text
from nmc_domain.messaging.dispatch import Requeued, requeue_message
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.messaging.status import SMS_STATUS_EVENTS
from nmc_domain.shared.ports import OutboxAdmin, OutboxFilter, OutboxRecord, StoredWebhook
from nmc_domain.telephony.missed_call import VOICE_EVENTS, CallStatusReport, report_call_status
from nmc_domain.unit_of_work import UnitOfWorkFactory

__all__ = ["app"]

app = typer.Typer(
    help="Dead letters and rows set aside for review: list, requeue; re-run stored webhooks.",
    no_args_is_help=True,
)
_LIST_LIMIT = 1000
_NOT_SENT = {
    Requeued.ALREADY_SENT: "the provider already has the text; not sent again",
    Requeued.MISSING: "its message no longer exists; nothing to send",
    Requeued.FINAL: "its message was canceled or refused for good; not sent",
    Requeued.QUEUED: "queued",
}
_PROVIDERS = {"twilio": (VOICE_EVENTS, SMS_EVENTS, SMS_STATUS_EVENTS)}


def _since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"--since {value!r} is not an ISO 8601 date or time (e.g. 2026-11-30T08:00:00Z)")
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _tenant(value: str | None) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        fail(f"--tenant {value!r} is not a tenant id (a UUID)")


def _age(record: OutboxRecord, now: datetime) -> str:
    seconds = int((now - record.created_at).total_seconds())
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 86400}d{seconds % 86400 // 3600:02d}h"


def _json(record: OutboxRecord, now: datetime) -> dict[str, Any]:
    return {
        "id": record.id,
        "topic": record.topic,
        "tenant_id": None if record.tenant_id is None else str(record.tenant_id),
        "state": record.state,
        "attempts": record.attempts,
        "error": record.last_error,
        "created_at": record.created_at.isoformat(),
        "age_seconds": round((now - record.created_at).total_seconds(), 3),
        "request_id": record.request_id,
    }


@app.command("list")
def list_rows(
    topic: str | None = typer.Option(None, "--topic", help="only this topic"),
    tenant: str | None = typer.Option(None, "--tenant", help="only this tenant (id)"),
    since: str | None = typer.Option(None, "--since", help="written at or after (ISO 8601)"),
    dead: bool = typer.Option(False, "--dead", help="only dead rows"),
    needs_review: bool = typer.Option(False, "--needs-review", help="only rows set aside"),
    as_json: bool = typer.Option(False, "--json", help="one JSON object per line"),
) -> None:
    """Dead and set-aside rows (or only one kind) with their error, attempts and age."""
    if dead and needs_review:
        fail("--dead and --needs-review exclude each other")
    where = OutboxFilter(topic=topic, tenant_id=_tenant(tenant), since=_since(since))
    states = ["dead"] if dead else ["needs_review"] if needs_review else ["dead", "needs_review"]

    async def find(admin: OutboxAdmin, _: UnitOfWorkFactory) -> list[OutboxRecord]:
        found: list[OutboxRecord] = []
        for state in states:
            found.extend(
                await admin.find(
                    OutboxFilter(where.topic, where.tenant_id, where.since, state),
                    limit=_LIST_LIMIT,
                )
            )
        return sorted(found, key=lambda record: (record.created_at, record.id))

    with reported():
        records = asyncio.run(with_outbox_admin(database_url(), find))
    now = datetime.now(UTC)
    if as_json:
        for record in records:
            print(json.dumps(_json(record, now), sort_keys=True))
        return
    if not records:
        filtered = " (with these filters)" if topic or tenant or since else ""
        print(f"nothing dead or set aside{filtered}")
        return
    for record in records:
        print(
            f"{record.id:>10}  {record.state:<12}  {record.topic:<28}  "
            f"attempts {record.attempts:<3}  age {_age(record, now):>7}  "
            f"{(record.last_error or '-')[:120]}"
        )
    print(f"{len(records)} row(s)")


@app.command()
def requeue(
    ids: Annotated[
        list[int] | None, typer.Argument(help="outbox row ids", show_default=False)
    ] = None,
    all_dead: bool = typer.Option(False, "--all-dead", help="every dead row (with the filters)"),
    topic: str | None = typer.Option(None, "--topic", help="with --all-dead: only this topic"),
    since: str | None = typer.Option(None, "--since", help="with --all-dead: written since"),
    dry_run: bool = typer.Option(False, "--dry-run", help="say what would be requeued, only"),
) -> None:
    """Make rows due again (attempts reset, earlier errors kept). A text the provider had
    already accepted is not sent again: its next try asks the provider first."""
    ids = ids or []
    if bool(ids) == all_dead:
        fail("give row ids or --all-dead (not both)")
    if (topic or since) and not all_dead:
        fail("--topic and --since go with --all-dead")
    moment = _since(since)

    async def run(admin: OutboxAdmin, new_uow: UnitOfWorkFactory) -> tuple[list[int], list[str]]:
        if all_dead:
            where = OutboxFilter(topic=topic, since=moment, state="dead")
            records = list(await admin.find(where, limit=1_000_000))
        else:
            records = list(await admin.get(sorted(set(ids))))
            missing = sorted(set(ids) - {record.id for record in records})
            if missing:
                raise CliError(f"no outbox row with id {', '.join(map(str, missing))}")
            busy = [r for r in records if r.state not in ("dead", "needs_review")]
            if busy:
                raise CliError(
                    "only dead or set-aside rows can be requeued: "
                    + ", ".join(f"{r.id} is {r.state}" for r in busy)
                )
        if dry_run:
            return [r.id for r in records], []
        return await _requeue(admin, new_uow, records)

    with reported():
        done, notes = asyncio.run(with_outbox_admin(database_url(), run))
    for note in notes:
        print(note)
    verb = "would requeue" if dry_run else "requeued"
    print(f"{verb} {len(done)} row(s)" + (f": {', '.join(map(str, done))}" if done else ""))


async def _requeue(
    admin: OutboxAdmin, new_uow: UnitOfWorkFactory, records: Sequence[OutboxRecord]
) -> tuple[list[int], list[str]]:
    done: list[int] = []
    notes: list[str] = []
    # The bar goes to stderr: stdout keeps only the report (scripts read it).
    bar = Console(stderr=True)
    with Progress(console=bar, transient=True, disable=len(records) < 20) as progress:
        task = progress.add_task("requeueing", total=len(records))
        for record in records:
            # The message first: queued again (unless the provider has it), so the row's next
            # run sends it, or asks the provider before sending it.
            if isinstance(record.event, MessageQueued):
                found = await requeue_message(new_uow, record.event)
                if found is not Requeued.QUEUED:
                    notes.append(f"{record.id}: {_NOT_SENT[found]}")
            requeued = await admin.requeue([record.id])
            if not requeued:  # it changed since it was read (another requeue, a purge)
                notes.append(f"{record.id}: no longer dead or set aside; left as it is")
            done.extend(requeued)
            progress.advance(task)
    return done, notes


@app.command()
def webhook(
    provider: str = typer.Argument(..., help="twilio"),
    event_key: str = typer.Argument(..., help="the stored event's key (CallSid, MessageSid…)"),
) -> None:
    """Re-run a stored webhook through its use case. Idempotent: one already processed does
    nothing new (the event log recognises it)."""
    kinds = _PROVIDERS.get(provider.lower())
    if kinds is None:
        fail(f"unknown provider {provider!r}: expected one of {', '.join(_PROVIDERS)}")

    async def run(_: OutboxAdmin, new_uow: UnitOfWorkFactory) -> str:
        for kind in kinds:
            async with new_uow() as uow:
                stored = await uow.webhooks.get(kind, event_key)
            if stored is not None:
                return await _rerun(new_uow, stored)
        raise CliError(f"no stored {provider} webhook with key {event_key!r} (or it was purged)")

    with reported():
        print(asyncio.run(with_outbox_admin(database_url(), run)))


async def _rerun(new_uow: UnitOfWorkFactory, stored: StoredWebhook) -> str:
    params = stored.payload
    if stored.provider == VOICE_EVENTS:
        status = params.get("DialCallStatus") or params.get("CallStatus") or ""
        duration = params.get("DialCallDuration") or params.get("CallDuration") or ""
        report = CallStatusReport(
            call_sid=stored.key,
            called=params.get("To", ""),
            caller=params.get("From", ""),
            status=status,
            duration_seconds=int(duration) if duration.isdigit() else None,
            payload=params,
        )
        result = await report_call_status(new_uow(), report)
        return f"{stored.provider} {stored.key}: {result.outcome.value}"
    if stored.provider == SMS_EVENTS:
        text = InboundText(
            message_sid=stored.key,
            sender=params.get("From", ""),
            to=params.get("To", ""),
            body=params.get("Body", ""),
            media_urls=_media(params),
            payload=params,
        )
        inbound = await receive_text(new_uow(), RuleBasedAssistant(), text)
        return f"{stored.provider} {stored.key}: {inbound.outcome.value}"
    # A status report is keyed by sid and status, and stored only once it was applied.
    return f"{stored.provider} {stored.key}: duplicate (status reports are applied when stored)"


def _media(params: Mapping[str, str]) -> tuple[str, ...]:
    count = params.get("NumMedia", "0")
    total = int(count) if count.isdigit() else 0
    return tuple(url for n in range(min(total, 10)) if (url := params.get(f"MediaUrl{n}", "")))
