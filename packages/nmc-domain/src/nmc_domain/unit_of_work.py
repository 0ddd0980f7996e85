"""The whole system's unit of work: every context's repositories in one transaction.

Each context declares the repositories it owns in its `ports` module and extends the unit of
work of the contexts below it; this is the top of that chain, what the apps' adapters provide.
A new context with repositories of its own joins the bases here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from nmc_domain.reporting.ports import ReportingUnitOfWork

__all__ = ["UnitOfWork", "UnitOfWorkFactory"]


class UnitOfWork(ReportingUnitOfWork, Protocol):
    """Every repository of every context, on one database transaction."""


UnitOfWorkFactory = Callable[[], UnitOfWork]
