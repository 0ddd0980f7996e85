"""Scheduling in memory."""

from nmc_adapters.memory.scheduling.google import (
    InMemoryGoogleChannels,
    InMemoryGoogleLinks,
    InMemoryGoogleShadow,
)
from nmc_adapters.memory.scheduling.jobber import InMemoryJobberBlocks, InMemoryJobberLinks
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
    "InMemoryGoogleChannels",
    "InMemoryGoogleLinks",
    "InMemoryGoogleShadow",
    "InMemoryJobberBlocks",
    "InMemoryJobberLinks",
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
        "google_links",
        "google_channels",
        "jobber_links",
        "jobber_visits",
    ),
    repositories={
        "technicians": lambda views, _: InMemoryTechnicians(dict(views)),
        "business_hours": lambda views, _: InMemoryBusinessHours(dict(views)),
        "scheduling_settings": lambda views, _: InMemorySchedulingSettings(dict(views)),
        "closures": lambda views, _: InMemoryClosures(dict(views)),
        "busy_blocks": lambda views, _: InMemoryBusyBlocks(dict(views)),
        "bookings": lambda views, session: InMemoryBookings(dict(views), session),
        "calendar": lambda views, session: InMemoryCalendar(dict(views), session),
        "google_links": lambda views, _: InMemoryGoogleLinks(dict(views)),
        "google_channels": lambda views, _: InMemoryGoogleChannels(dict(views)),
        "google_shadow": lambda views, _: InMemoryGoogleShadow(dict(views)),
        "jobber_links": lambda views, _: InMemoryJobberLinks(dict(views)),
        "jobber_blocks": lambda views, _: InMemoryJobberBlocks(dict(views)),
    },
)
