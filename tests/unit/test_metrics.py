"""The metric families, their labels and buckets, and the exposition `Metrics.render` serves."""

from __future__ import annotations

from collections.abc import Mapping

import attrs
import pytest
from prometheus_client.parser import text_string_to_metric_families

from nmc_adapters.metrics import Metrics

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(body: bytes) -> Samples:
    """Every sample of an exposition, by name and label set (read by Prometheus's own parser)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def key(name: str, **labels: str) -> tuple[str, frozenset[tuple[str, str]]]:
    return name, frozenset(labels.items())


def family_names(body: bytes) -> set[str]:
    """The families exposed, less the `_created` timestamps prometheus_client adds beside them."""
    names = {family.name for family in text_string_to_metric_families(body.decode())}
    return {name for name in names if not name.endswith("_created")}


@attrs.frozen
class Backlog:
    pending: Mapping[str, int]
    oldest_pending_age_seconds: float


def reading(*backlogs: Backlog):
    """A backlog reader answering each scrape with the next backlog given."""
    queue = list(backlogs)

    async def read() -> Backlog:
        return queue.pop(0)

    return read


async def test_render_is_prometheus_text() -> None:
    body, content_type = await Metrics().render()

    assert content_type.startswith("text/plain; version=")
    assert isinstance(body, bytes)
    assert b"# TYPE nmc_webhook_requests_total counter" in body


async def test_every_family_of_the_issue_is_exposed() -> None:
    metrics = Metrics(reading(Backlog({"message.queued.v1": 0}, 0.0)))

    body, _ = await metrics.render()

    assert family_names(body) == {
        "nmc_webhook_requests",
        "nmc_missed_call_textback_seconds",
        "nmc_outbox_pending",
        "nmc_outbox_oldest_pending_age_seconds",
        "nmc_outbox_dispatch",
        "nmc_sms_sent",
        "nmc_http_request_duration_seconds",
        "nmc_calendar_drift_rows",
        "nmc_calendar_drift_warnings",
    }


async def test_counters_count_by_their_labels() -> None:
    metrics = Metrics()
    metrics.count_webhook("/webhooks/twilio/sms", "ok")
    metrics.count_webhook("/webhooks/twilio/sms", "ok")
    metrics.count_webhook("/webhooks/twilio/voice/status", "rejected")
    metrics.count_dispatch("message.queued.v1", "done")
    metrics.count_dispatch("message.queued.v1", "retry")
    metrics.count_sms("sent")
    metrics.count_sms("failed")
    metrics.count_sms("sent")

    samples = parse((await metrics.render())[0])

    assert (
        samples[key("nmc_webhook_requests_total", route="/webhooks/twilio/sms", outcome="ok")] == 2
    )
    voice = key(
        "nmc_webhook_requests_total", route="/webhooks/twilio/voice/status", outcome="rejected"
    )
    assert samples[voice] == 1
    done = key("nmc_outbox_dispatch_total", topic="message.queued.v1", result="done")
    retry = key("nmc_outbox_dispatch_total", topic="message.queued.v1", result="retry")
    assert (samples[done], samples[retry]) == (1, 1)
    assert samples[key("nmc_sms_sent_total", status="sent")] == 2
    assert samples[key("nmc_sms_sent_total", status="failed")] == 1


async def test_textback_buckets_reach_five_minutes() -> None:
    metrics = Metrics()
    metrics.observe_textback(0.2)
    metrics.observe_textback(42.0)
    metrics.observe_textback(299.0)

    samples = parse((await metrics.render())[0])

    buckets = {
        dict(labels)["le"]: value
        for (name, labels), value in samples.items()
        if name == "nmc_missed_call_textback_seconds_bucket"
    }
    assert list(buckets) == [
        "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0",
        "10.0", "30.0", "60.0", "120.0", "300.0", "+Inf",
    ]  # fmt: skip
    assert (buckets["0.1"], buckets["0.25"], buckets["30.0"], buckets["60.0"]) == (0, 1, 1, 2)
    assert buckets["300.0"] == 3
    assert samples[key("nmc_missed_call_textback_seconds_count")] == 3
    assert samples[key("nmc_missed_call_textback_seconds_sum")] == pytest.approx(341.2)


async def test_request_durations_have_millisecond_buckets_by_route() -> None:
    metrics = Metrics()
    metrics.observe_request("/v1/conversations/{conversation_id}", 0.004)
    metrics.observe_request("/v1/conversations/{conversation_id}", 0.3)
    metrics.observe_request("unmatched", 0.0002)

    samples = parse((await metrics.render())[0])

    route = "/v1/conversations/{conversation_id}"
    bucket = "nmc_http_request_duration_seconds_bucket"
    assert samples[key(bucket, route=route, le="0.001")] == 0
    assert samples[key(bucket, route=route, le="0.005")] == 1
    assert samples[key(bucket, route=route, le="0.25")] == 1
    assert samples[key(bucket, route=route, le="0.5")] == 2
    assert samples[key(bucket, route=route, le="10.0")] == 2
    assert samples[key(bucket, route="unmatched", le="0.001")] == 1
    assert samples[key("nmc_http_request_duration_seconds_count", route=route)] == 2


async def test_outbox_gauges_are_read_at_each_scrape() -> None:
    metrics = Metrics(
        reading(
            Backlog({"message.queued.v1": 3, "catalog.updated.v1": 0}, 12.5),
            Backlog({"message.queued.v1": 1, "catalog.updated.v1": 4}, 0.0),
        )
    )

    first = parse((await metrics.render())[0])
    second = parse((await metrics.render())[0])

    assert first[key("nmc_outbox_pending", topic="message.queued.v1")] == 3
    assert first[key("nmc_outbox_pending", topic="catalog.updated.v1")] == 0
    assert first[key("nmc_outbox_oldest_pending_age_seconds")] == 12.5
    assert second[key("nmc_outbox_pending", topic="message.queued.v1")] == 1
    assert second[key("nmc_outbox_pending", topic="catalog.updated.v1")] == 4
    assert second[key("nmc_outbox_oldest_pending_age_seconds")] == 0


async def test_an_unreadable_outbox_drops_its_gauges_not_the_scrape() -> None:
    calls = 0

    async def broken() -> Backlog:
        nonlocal calls
        calls += 1
        if calls == 1:
            return Backlog({"message.queued.v1": 7}, 30.0)
        raise OSError("connection refused")

    metrics = Metrics(broken)
    metrics.count_sms("sent")
    await metrics.render()  # a good scrape first: its values must not linger

    samples = parse((await metrics.render())[0])

    assert calls == 2
    assert not [name for name, _ in samples if name.startswith("nmc_outbox_")]
    assert samples[key("nmc_sms_sent_total", status="sent")] == 1


async def test_without_a_reader_there_are_no_outbox_samples() -> None:
    samples = parse((await Metrics().render())[0])

    assert not [name for name, _ in samples if name.startswith("nmc_outbox_")]


async def test_labels_never_name_a_tenant_or_a_phone_number() -> None:
    metrics = Metrics(reading(Backlog({"message.queued.v1": 1}, 1.0)))
    metrics.count_webhook("/webhooks/twilio/sms", "ok")
    metrics.observe_request("/webhooks/twilio/sms", 0.01)
    metrics.count_dispatch("message.queued.v1", "done")
    metrics.count_sms("sent")
    metrics.observe_textback(1.0)

    samples = parse((await metrics.render())[0])

    label_names = {name for _, labels in samples for name, _ in labels}
    assert label_names == {"route", "outcome", "topic", "result", "status", "le"}


async def test_each_instance_has_its_own_registry() -> None:
    one, other = Metrics(), Metrics()
    one.count_sms("sent")

    samples = parse((await other.render())[0])

    assert key("nmc_sms_sent_total", status="sent") not in samples
