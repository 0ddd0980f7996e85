"""Ports of reporting: what it reads of the other contexts, and its episodes and daily rows."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

from nmc_domain.reporting.model import Activity, DailyRow, Episode
from nmc_domain.telephony.ports import TelephonyUnitOfWork

__all__ = ["ReportRepository", "ReportingUnitOfWork", "ReportingUnitOfWorkFactory"]


class ReportRepository(Protocol):
    """Episodes (`report_episodes`, written once) and daily rows (`report_daily`, upserted)."""

    async def tenant_ids(self) -> Sequence[UUID]:
        """Every tenant with a phone number (one without has nothing to report), any binding."""
        ...

    async def activity(self, tenant_id: UUID, start: datetime, end: datetime) -> Activity:
        """What happened in [start, end) (see `Activity`)."""
        ...

    async def add_episodes(self, episodes: Sequence[Episode]) -> int:
        """Insert the episodes not stored yet (a stored one is never changed); returns how many
        were new."""
        ...

    async def episodes(self, tenant_id: UUID, start: datetime, end: datetime) -> Sequence[Episode]:
        """Stored episodes started in [start, end), by start."""
        ...

    async def save_days(self, tenant_id: UUID, rows: Sequence[DailyRow]) -> None:
        """Insert or replace each (day, metric) row."""
        ...

    async def days(
        self, tenant_id: UUID, first: date, last: date, metric: str | None
    ) -> Sequence[DailyRow]:
        """Stored rows of the days first..last (inclusive), by day then metric."""
        ...


class ReportingUnitOfWork(TelephonyUnitOfWork, Protocol):
    """A unit of work that reads everything and keeps the reports."""

    reports: ReportRepository


ReportingUnitOfWorkFactory = Callable[[], ReportingUnitOfWork]
