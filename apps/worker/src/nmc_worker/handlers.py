"""Outbox handlers: which use case runs for which event."""

from __future__ import annotations

import structlog

from nmc_domain.catalog.events import CatalogUpdated
from nmc_domain.compliance.events import ComplianceStatusChanged
from nmc_domain.messaging.dispatch import dispatch_message, release_held_messages
from nmc_domain.messaging.events import MessageQueued
from nmc_domain.messaging.ports import SmsSender
from nmc_domain.shared.events import DomainEvent
from nmc_domain.unit_of_work import UnitOfWorkFactory
from nmc_worker.dispatcher import Handler

__all__ = ["build_handlers"]

log = structlog.get_logger("nmc.worker")


def build_handlers(
    new_uow: UnitOfWorkFactory, sender: SmsSender
) -> dict[type[DomainEvent], Handler]:
    """The handler table the dispatcher runs."""

    async def send_message(event: DomainEvent) -> None:
        assert isinstance(event, MessageQueued)
        outcome = await dispatch_message(new_uow, sender, event)
        log.info(
            "sms.dispatch",
            tenant_id=str(event.tenant_id),
            message_id=str(event.message_id),
            outcome=outcome.value,
        )

    async def compliance_changed(event: DomainEvent) -> None:
        assert isinstance(event, ComplianceStatusChanged)
        released = 0
        if event.status == "approved":
            released = await release_held_messages(new_uow(), event.tenant_id)
        log.info(
            "compliance.changed",
            tenant_id=str(event.tenant_id),
            status=event.status,
            released=released,
        )

    async def catalog_updated(event: DomainEvent) -> None:
        # Nothing reacts to catalog changes yet (matching reads the catalog live); the event is
        # acknowledged so it is not dead-lettered, and is there for the features that will.
        assert isinstance(event, CatalogUpdated)
        log.info("catalog.updated", tenant_id=str(event.tenant_id), item_id=str(event.item_id))

    return {
        MessageQueued: send_message,
        ComplianceStatusChanged: compliance_changed,
        CatalogUpdated: catalog_updated,
    }
