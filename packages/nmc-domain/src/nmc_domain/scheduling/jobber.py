"""Jobber: a tenant's connection, the visits Jobber reports, and the pure rules that turn visits
into busy blocks (`source = jobber`, `external_id` = the visit's id).

Jobber's webhooks only say that something changed; what a visit looks like is always read from
Jobber itself, and `reconcile` makes the shadow rows say the same. It is a diff keyed by
(technician, visit): applying its result and reconciling again changes nothing, and it never
names a block of another source.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

import attrs

from nmc_domain.scheduling.model import BusyBlock
from nmc_domain.shared.errors import DomainError, NotFound

__all__ = [
    "DRIFT_ALARM_STREAK",
    "JOBBER",
    "RECONNECT_NEEDED",
    "BlockChanges",
    "JobberLink",
    "JobberNotConfigured",
    "JobberVisit",
    "after_poll",
    "after_sync_failure",
    "poll_window",
    "reconcile",
    "visit_span",
]

JOBBER = "jobber"  # the busy blocks' source, the webhook log's provider, the OAuth state's
RECONNECT_NEEDED = "reconnect needed"  # last_sync_error once Jobber refuses our grant
DRIFT_ALARM_STREAK = 3  # polls in a row that found drift before it is worth a warning
# Visits that do not (or no longer) take a technician's time.
_FREE_STATUSES = frozenset({"CANCELLED", "CANCELED", "UNSCHEDULED"})


class JobberNotConfigured(NotFound):
    """Jobber's client id and secret are not set here: the Jobber routes answer 404."""

    def __init__(self) -> None:
        DomainError.__init__(self, "Jobber is not configured")
        self.what, self.key = "integration", JOBBER


@attrs.frozen
class JobberLink:
    """A tenant's connection to its Jobber account (one account per tenant, one tenant per
    account). The tokens are sealed (NMC_SECRET_KEY); the refresh token rotates at each use,
    so the pair is only ever replaced together."""

    tenant_id: UUID
    account_id: str
    account_name: str
    access_token: str
    refresh_token: str
    access_expires_at: datetime
    connected_at: datetime
    last_synced_at: datetime | None = None
    last_sync_error: str | None = None
    drift_last: int | None = None
    drift_streak: int = 0

    @property
    def needs_reconnect(self) -> bool:
        return self.last_sync_error == RECONNECT_NEEDED


@attrs.frozen
class JobberVisit:
    """A visit as Jobber has it now. `start`/`end` are None while it is unscheduled;
    `assignee_emails` are the assigned users' emails (as Jobber spells them)."""

    id: str
    job_id: str | None
    start: datetime | None
    end: datetime | None
    all_day: bool = False
    status: str = ""
    assignee_emails: tuple[str, ...] = ()


@attrs.frozen
class BlockChanges:
    """What makes the shadow rows match Jobber: blocks to insert, blocks to move (same id, new
    times), blocks to delete, and the visit -> job map to remember or forget (a job deleted in
    Jobber names only itself: its visits are found through that map)."""

    added: tuple[BusyBlock, ...] = ()
    moved: tuple[BusyBlock, ...] = ()
    removed: tuple[BusyBlock, ...] = ()
    jobs: Mapping[str, str] = attrs.field(factory=dict)
    forgotten: frozenset[str] = frozenset()

    @property
    def count(self) -> int:
        """Rows inserted, moved or deleted."""
        return len(self.added) + len(self.moved) + len(self.removed)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    # In UTC: arithmetic on two times of one ZoneInfo ignores a DST change between them.
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def visit_span(visit: JobberVisit, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The time the visit takes, or None when it takes none (unscheduled, cancelled, no
    length). An all-day visit takes its whole days in the tenant's zone (a day across a DST
    change is 23 or 25 hours long); an end at midnight ends the day before."""
    if visit.start is None or visit.end is None or visit.status.upper() in _FREE_STATUSES:
        return None
    if visit.end < visit.start or (visit.end == visit.start and not visit.all_day):
        return None
    if not visit.all_day:
        return visit.start.astimezone(UTC), visit.end.astimezone(UTC)
    first = visit.start.astimezone(zone).date()
    local_end = visit.end.astimezone(zone)
    last = local_end.date()
    if local_end.time() == time(0) and last > first:
        last -= timedelta(days=1)
    return _midnight(first, zone), _midnight(last + timedelta(days=1), zone)


def _wanted(
    visits: Iterable[JobberVisit], technicians: Mapping[str, UUID], zone: ZoneInfo
) -> tuple[dict[tuple[UUID, str], tuple[datetime, datetime]], dict[str, str]]:
    wanted: dict[tuple[UUID, str], tuple[datetime, datetime]] = {}
    jobs: dict[str, str] = {}
    for visit in visits:
        span = visit_span(visit, zone)
        if span is None:
            continue
        for email in visit.assignee_emails:
            technician = technicians.get(email.strip().lower())
            if technician is not None:
                wanted[technician, visit.id] = span
                if visit.job_id is not None:
                    jobs[visit.id] = visit.job_id
    return wanted, jobs


def reconcile(
    tenant_id: UUID,
    current: Iterable[BusyBlock],
    visits: Iterable[JobberVisit],
    technicians: Mapping[str, UUID],
    zone: ZoneInfo,
    *,
    gone: Iterable[str] = (),
) -> BlockChanges:
    """The changes that make `current` (the tenant's Jobber blocks in scope: of these visits,
    or of a whole window) match `visits` (as Jobber has them now; `gone`: visits Jobber no
    longer has). `technicians` maps lower-cased emails to technicians; assignees without one
    block nobody. Blocks of other sources in `current` are left alone."""
    visits = tuple(visits)
    wanted, jobs = _wanted(visits, technicians, zone)
    ours = {(b.technician_id, b.external_id or ""): b for b in current if b.source == JOBBER}
    moved, removed = [], []
    for key, block in ours.items():
        span = wanted.get(key)
        if span is None:
            removed.append(block)
        elif (block.start, block.end) != span:
            moved.append(attrs.evolve(block, start=span[0], end=span[1]))
    added = [
        BusyBlock(uuid.uuid4(), tenant_id, technician, start, end, JOBBER, visit_id)
        for (technician, visit_id), (start, end) in wanted.items()
        if (technician, visit_id) not in ours
    ]
    seen = {v.id for v in visits} | set(gone) | {visit_id for _, visit_id in ours}
    return BlockChanges(
        added=tuple(added),
        moved=tuple(moved),
        removed=tuple(removed),
        jobs=jobs,
        forgotten=frozenset(seen - set(jobs) - {""}),
    )


def poll_window(today: date, horizon_days: int, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """What a poll reads and reconciles: local midnight of yesterday to the midnight after
    the scheduling horizon's last day."""
    return (
        _midnight(today - timedelta(days=1), zone),
        _midnight(today + timedelta(days=horizon_days + 1), zone),
    )


def after_poll(link: JobberLink, now: datetime, drift: int | None) -> JobberLink:
    """The link after a complete sync at `now`: `drift` rows changed that no webhook had
    announced (None: not counted, the first sync after connecting)."""
    if drift is None:
        return attrs.evolve(link, last_synced_at=now, last_sync_error=None)
    return attrs.evolve(
        link,
        last_synced_at=now,
        last_sync_error=None,
        drift_last=drift,
        drift_streak=link.drift_streak + 1 if drift > 0 else 0,
    )


def after_sync_failure(link: JobberLink, error: str) -> JobberLink:
    """The link after a sync that could not finish (the shadow rows are kept as they were);
    a grant Jobber refused stays marked until the owner connects again."""
    if link.needs_reconnect:
        return link
    return attrs.evolve(link, last_sync_error=error[:300])
