"""Every page's frame: the navigation, the billing banner and the compliance notice."""

from __future__ import annotations

from typing import Any

import attrs
from litestar.response import Template

from nmc_api.deps import Deps
from nmc_api.web.session import Viewer, session_cookie, web_config
from nmc_domain.billing.errors import BillingNotConfigured
from nmc_domain.billing.use_cases import billing_status
from nmc_domain.compliance.model import ComplianceStatus
from nmc_domain.compliance.submission import show_compliance

__all__ = ["NAV", "Chrome", "chrome_of", "page"]

# (path, label, owners only)
NAV = (
    ("/app/conversations", "Conversations", False),
    ("/app/schedule", "Schedule", False),
    ("/app/catalog", "Catalog & hours", True),
    ("/app/billing", "Billing", True),
    ("/app/reports", "Reports", True),
    ("/app/compliance", "Compliance", True),
)


@attrs.frozen
class Chrome:
    """What the frame shows around a page."""

    viewer: Viewer
    business: str
    billing_banner: str | None
    texts_held: str | None

    def nav(self) -> list[tuple[str, str]]:
        return [(path, label) for path, label, owners in NAV if self.viewer.owner or not owners]


async def chrome_of(deps: Deps, viewer: Viewer) -> Chrome:
    compliance = await show_compliance(deps.new_uow(), viewer.principal)
    held = None
    if compliance.compliance.status is not ComplianceStatus.APPROVED:
        held = (
            "Texts are held until your business's 10DLC registration is approved "
            f"(status: {compliance.compliance.status.value}). Missed calls are still recorded."
        )
    banner = None
    try:
        billing = await billing_status(deps.new_uow(), viewer.principal)
        banner = billing.banner
        if banner is None and not billing.entitled:
            banner = "Your plan is not active: NeverMissCall is not texting your callers."
    except BillingNotConfigured:
        banner = None
    return Chrome(viewer, compliance.tenant.name, banner, held)


async def page(
    deps: Deps, viewer: Viewer, template: str, *, status_code: int = 200, **context: Any
) -> Template:
    """The template rendered inside the frame (`chrome` in its context)."""
    chrome = await chrome_of(deps, viewer)
    return Template(
        template,
        context={"chrome": chrome, **context},
        status_code=status_code,
        cookies=[session_cookie(web_config(deps), viewer.principal)],
    )
