"""Scheduling in memory."""

from nmc_adapters.memory.scheduling.repositories import (
    InMemoryBookings,
    InMemoryBusinessHours,
    InMemoryBusyBlocks,
    InMemoryCalendar,
    InMemoryClosures,
    InMemorySchedulingSettings,
    InMemoryTechnicians,
)
from nmc_adapters.memory.spec import MemoryContext

__all__ = [
    "CONTEXT",
    "InMemoryBookings",
    "InMemoryBusinessHours",
    "InMemoryBusyBlocks",
    "InMemoryCalendar",
    "InMemoryClosures",
    "InMemorySchedulingSettings",
    "InMemoryTechnicians",
]

CONTEXT = MemoryContext(
    tables=(
        "technicians",
        "business_hours",
        "scheduling_settings",
        "closures",
        "busy_blocks",
        "bookings",
    ),
    repositories={
        "technicians": lambda views, _: InMemoryTechnicians(dict(views)),
        "business_hours": lambda views, _: InMemoryBusinessHours(dict(views)),
        "scheduling_settings": lambda views, _: InMemorySchedulingSettings(dict(views)),
        "closures": lambda views, _: InMemoryClosures(dict(views)),
        "busy_blocks": lambda views, _: InMemoryBusyBlocks(dict(views)),
        "bookings": lambda views, session: InMemoryBookings(dict(views), session),
        "calendar": lambda views, session: InMemoryCalendar(dict(views), session),
    },
)
