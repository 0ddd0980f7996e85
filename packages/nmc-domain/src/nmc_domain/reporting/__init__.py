"""Reporting: response episodes, daily rollups, and the revenue missed calls turned into."""

from nmc_domain.reporting.model import (
    METRICS,
    DailyRow,
    EndType,
    Episode,
    Latency,
    ReportingSettings,
    StartType,
    Summary,
)
from nmc_domain.reporting.ports import ReportingUnitOfWork, ReportRepository
from nmc_domain.reporting.use_cases import (
    daily_report,
    recompute_day,
    recompute_recent,
    summary_report,
    tenant_daily_report,
    tenant_summary_report,
)

__all__ = [
    "METRICS",
    "DailyRow",
    "EndType",
    "Episode",
    "Latency",
    "ReportRepository",
    "ReportingSettings",
    "ReportingUnitOfWork",
    "StartType",
    "Summary",
    "daily_report",
    "recompute_day",
    "recompute_recent",
    "summary_report",
    "tenant_daily_report",
    "tenant_summary_report",
]
