"""NeverMissCall's worker: the outbox dispatcher and (later) scheduled jobs."""

from nmc_worker.dispatcher import Dispatcher, DispatcherOptions
from nmc_worker.worker import Worker

__all__ = ["Dispatcher", "DispatcherOptions", "Worker"]
