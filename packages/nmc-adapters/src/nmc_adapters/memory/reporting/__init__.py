"""Reporting in memory: response episodes and daily rollups."""

from nmc_adapters.memory.reporting.repositories import InMemoryReports
from nmc_adapters.memory.spec import MemoryContext

__all__ = ["CONTEXT", "InMemoryReports"]

CONTEXT = MemoryContext(
    tables=("report_episodes", "report_daily"),
    repositories={"reports": lambda views, _: InMemoryReports(dict(views))},
)
