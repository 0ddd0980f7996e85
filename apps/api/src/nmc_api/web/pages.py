"""Every page of the inbox, gathered (each area lives in its own module)."""

from __future__ import annotations

from nmc_api.web.billing import billing_pages
from nmc_api.web.catalog import catalog_pages
from nmc_api.web.compliance import compliance_pages
from nmc_api.web.conversations import conversation_pages
from nmc_api.web.reports import report_pages
from nmc_api.web.schedule import schedule_pages

__all__ = ["page_routes"]

page_routes = [
    *conversation_pages,
    *billing_pages,
    *report_pages,
    *compliance_pages,
    *schedule_pages,
    *catalog_pages,
]
