"""Prometheus metrics of the API and the worker, each process with its own registry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Protocol

import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

__all__ = [
    "REQUEST_BUCKETS",
    "TEXTBACK_BUCKETS",
    "Metrics",
    "OutboxBacklog",
    "ReadBacklog",
]

log = structlog.get_logger("nmc.metrics")

# From a missed call to its text-back leaving: seconds normally, up to the 5 minutes an
# outage of Twilio or of the worker may stretch it to.
TEXTBACK_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
# Our HTTP answers take milliseconds; the tail up to 10 s shows contention and timeouts.
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class OutboxBacklog(Protocol):
    """The outbox as read at scrape time."""

    @property
    def pending(self) -> Mapping[str, int]:
        """Rows waiting to be dispatched, by topic."""
        ...

    @property
    def oldest_pending_age_seconds(self) -> float:
        """How long the oldest due row has been waiting; 0 when none is."""
        ...


ReadBacklog = Callable[[], Awaitable[OutboxBacklog]]


class _OutboxCollector(Collector):
    """The outbox gauges, from the backlog `Metrics.render` read just before generating."""

    def __init__(self) -> None:
        self.backlog: OutboxBacklog | None = None

    def describe(self) -> Iterable[Metric]:
        return self._families(None)

    def collect(self) -> Iterable[Metric]:
        return self._families(self.backlog)

    @staticmethod
    def _families(backlog: OutboxBacklog | None) -> list[Metric]:
        pending = GaugeMetricFamily(
            "nmc_outbox_pending", "Outbox rows waiting to be dispatched", labels=["topic"]
        )
        oldest = GaugeMetricFamily(
            "nmc_outbox_oldest_pending_age_seconds",
            "Seconds the oldest due outbox row has been waiting to be dispatched",
        )
        if backlog is None:  # not read (no reader, or the database did not answer): no sample
            return [pending, oldest]
        for topic, rows in sorted(backlog.pending.items()):
            pending.add_metric([topic], rows)
        oldest.add_metric([], backlog.oldest_pending_age_seconds)
        return [pending, oldest]


class Metrics:
    """The process's metric families; `read_backlog` feeds the outbox gauges at scrape time.

    Labels are closed sets (route templates, outcomes, topics, statuses): never a tenant, a
    phone number or anything else a request carries.
    """

    def __init__(self, read_backlog: ReadBacklog | None = None) -> None:
        self.registry = CollectorRegistry()
        self._read_backlog = read_backlog
        self._outbox = _OutboxCollector()
        self.registry.register(self._outbox)
        self._webhooks = Counter(
            "nmc_webhook_requests",
            "Provider webhook requests by route template and outcome",
            ["route", "outcome"],
            registry=self.registry,
        )
        self._requests = Histogram(
            "nmc_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template",
            ["route"],
            buckets=REQUEST_BUCKETS,
            registry=self.registry,
        )
        self._dispatches = Counter(
            "nmc_outbox_dispatch",
            "Outbox rows handled by the worker, by topic and result",
            ["topic", "result"],
            registry=self.registry,
        )
        self._sms = Counter(
            "nmc_sms_sent",
            "SMS send attempts by resulting status",
            ["status"],
            registry=self.registry,
        )
        self._drift_rows = Counter(
            "nmc_calendar_drift_rows",
            "Shadow rows an unannounced (poll) sync of an external calendar changed, by provider",
            ["provider"],
            registry=self.registry,
        )
        self._drift_warnings = Counter(
            "nmc_calendar_drift_warnings",
            "Unannounced syncs that found drift for the third time (or more) in a row",
            ["provider"],
            registry=self.registry,
        )
        self._textback = Histogram(
            "nmc_missed_call_textback_seconds",
            "From a missed call to its text-back being sent",
            buckets=TEXTBACK_BUCKETS,
            registry=self.registry,
        )

    def count_webhook(self, route: str, outcome: str) -> None:
        self._webhooks.labels(route=route, outcome=outcome).inc()

    def observe_request(self, route: str, seconds: float) -> None:
        self._requests.labels(route=route).observe(seconds)

    def count_dispatch(self, topic: str, result: str) -> None:
        self._dispatches.labels(topic=topic, result=result).inc()

    def count_sms(self, status: str) -> None:
        self._sms.labels(status=status).inc()

    def count_calendar_drift(self, provider: str, rows: int, warning: bool) -> None:
        """One unannounced sync's drift (`rows`, maybe 0); `warning` when it is the third
        (or later) in a row above zero."""
        self._drift_rows.labels(provider=provider).inc(rows)
        if warning:
            self._drift_warnings.labels(provider=provider).inc()

    def observe_textback(self, seconds: float) -> None:
        self._textback.observe(seconds)

    async def render(self) -> tuple[bytes, str]:
        """The exposition (body, content type), the outbox read from the database first."""
        backlog: OutboxBacklog | None = None
        if self._read_backlog is not None:
            try:
                backlog = await self._read_backlog()
            except Exception as exc:
                # The other families are still worth a scrape; the outbox ones go missing,
                # which `absent(...)` alerts see, rather than repeating stale values.
                log.warning("metrics.outbox_unreadable", error=str(exc))
        # No await between setting the backlog and generating: concurrent scrapes cannot mix.
        self._outbox.backlog = backlog
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
