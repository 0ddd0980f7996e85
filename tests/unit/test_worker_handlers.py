"""Every event the wire knows has a handler in the worker: none is dead-lettered for lack of one."""

from __future__ import annotations

from nmc_adapters.memory import FakeSmsSender, InMemoryStore, InMemoryUnitOfWork
from nmc_adapters.wire import TOPICS
from nmc_worker.handlers import build_handlers


def test_every_topic_has_a_handler() -> None:
    store = InMemoryStore()
    handlers = build_handlers(lambda: InMemoryUnitOfWork(store), FakeSmsSender())

    assert set(handlers) == set(TOPICS.values())
