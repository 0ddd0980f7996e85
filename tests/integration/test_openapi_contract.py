"""Contract: every /v1 operation answers as its OpenAPI document says, for an OWNER and a TECH.

schemathesis reads /schema/openapi.json from the real app (bootstrap, PostgreSQL, JWT verifier),
generates requests from it (its coverage phase: boundary values, wrong types, missing fields and
undocumented methods; then a bounded fuzzing phase, positive and negative) and fails on any 5xx,
any status the operation does not document, any Content-Type or body that is not the documented
one, a 405 without a matching Allow header, an operation that answers without a bearer token, or
invalid input that is accepted. A fixed seed and derandomized generation make two runs send the
same requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from litestar import Litestar
from schemathesis import Case
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi
from schemathesis.schemas import BaseSchema
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_api.app import create_app
from nmc_api.bootstrap import build_app, build_deps
from nmc_domain.catalog.use_cases import NewItem, create_item
from nmc_domain.identity.model import Principal
from nmc_domain.identity.users import add_user_for_tenant
from tests.support.api import OWNER, api_settings, bearer, token_for
from tests.support.tenants import onboard

TECH = "mo.tech@acme-plumbing.example"
CONFIG: dict[str, Any] = {
    "seed": 20_261_130,
    # Fuzzing examples per operation; the coverage phase adds its own fixed set of cases.
    "generation": {
        "max-examples": 10,
        "deterministic": True,
        "database": "none",
        # The test sends each role's bearer token itself; schemathesis leaves that header alone
        # (ignored_auth still checks that leaving it out is a 401).
        "with-security-parameters": False,
        # Unknown query parameters are ignored, as most HTTP APIs do (cache busters, tracing);
        # unknown body fields are refused (additionalProperties: false).
        "allow-extra-parameters": False,
    },
    "phases": {
        "stateful": {"enabled": False},
        "coverage": {
            # Methods no operation documents: each must be a 405 naming the allowed ones.
            "unexpected-methods": ["DELETE", "OPTIONS", "TRACE"],
            "generate-duplicate-query-parameters": False,
        },
    },
    "checks": {
        # "Valid per the document" is not "accepted": a duplicate name is a 409, an unknown id
        # a 404, both documented; status_code_conformance holds them to the document instead.
        "positive_data_acceptance": {"enabled": False},
    },
}


@pytest.fixture(scope="module")
async def tokens(engine: AsyncEngine) -> dict[str, str]:
    """ACME-PLUMBING with a small catalog and a TECH; a token for the OWNER and one for the TECH."""
    new_uow = lambda: PgUnitOfWork(engine)  # noqa: E731
    tenant, _ = await onboard(new_uow, name="ACME-PLUMBING")
    await add_user_for_tenant(new_uow(), tenant.id, email=TECH, role="TECH")
    owner = Principal(subject=OWNER, tenant_id=tenant.id)
    for name, aliases in [
        ("Water Heater Flush", ("tank flush",)),
        ("Drain Cleaning", ("clogged drain", "slow sink")),
        ("Débouchage d'évier", ()),
    ]:
        item = NewItem(name=name, price_cents=18_900, duration_minutes=90, aliases=aliases)
        await create_item(new_uow(), owner, item)
    return {"OWNER": token_for(tenant.id), "TECH": token_for(tenant.id, subject=TECH)}


@pytest.fixture(scope="module")
def app(database_url: str) -> Iterator[Litestar]:
    """The real app, served in-process by schemathesis's ASGI transport (its own event loop)."""
    yield build_app(api_settings(database_url))
    asgi.shutdown_lifespans()  # closes the app's engine before the module's database is dropped


# Serving the document needs no database: this app's engine never connects (and, unlike
# build_app, create_app leaves logging alone at import). Requests go to the real `app` above.
_DOCUMENT = create_app(build_deps(api_settings("postgresql://nmc@127.0.0.1:9/only-the-document")))


def _v1_schema(*, coverage: bool) -> BaseSchema:
    phases = {**CONFIG["phases"], "coverage": {**CONFIG["phases"]["coverage"], "enabled": coverage}}
    config = SchemathesisConfig.from_dict({**CONFIG, "phases": phases})
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", _DOCUMENT, config=config)
    # /webhooks/* are signed (test_webhooks.py covers them); /healthz and /readyz take no input.
    return schema.include(path_regex=r"^/v1/")


# The OWNER gets both phases. A TECH gets fuzzing only: the coverage phase's systematic cases
# would mostly meet the guard's 403 on OWNER routes, and its routing checks (405, Allow) do not
# depend on who asks. The coverage phase is most of the module's time.
as_owner = _v1_schema(coverage=True)
as_tech = _v1_schema(coverage=False)


@as_owner.parametrize()
def test_v1_answers_an_owner_as_its_openapi_document_says(
    case: Case, app: Litestar, tokens: dict[str, str]
) -> None:
    case.call_and_validate(app=app, headers=bearer(tokens["OWNER"]))


@as_tech.parametrize()
def test_v1_answers_a_tech_as_its_openapi_document_says(
    case: Case, app: Litestar, tokens: dict[str, str]
) -> None:
    case.call_and_validate(app=app, headers=bearer(tokens["TECH"]))
