"""/v1/compliance: the owner submits the 10DLC brand and campaign; anyone sees where it stands
(texts are held until carriers approve; a rejection's reason says what to fix)."""

from __future__ import annotations

from litestar import Response, get, post
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody

from nmc_api.deps import AnyRequest, Deps
from nmc_api.v1.auth import OWNER, Caller
from nmc_api.v1.compliance_schemas import ComplianceOut, RegistrationIO
from nmc_api.v1.problems import errors
from nmc_api.v1.schemas import strictly
from nmc_domain.compliance.submission import show_compliance, submit_registration

__all__ = ["compliance_routes"]


@get(
    "/compliance",
    responses=errors(403),
    summary="The 10DLC status (pending, approved, rejected with the reason) and the submission",
)
async def get_compliance(principal: Caller, deps: Deps) -> ComplianceOut:
    return ComplianceOut.of(await show_compliance(deps.new_uow(), principal))


@post(
    "/compliance/registration",
    opt=OWNER,
    status_code=201,
    responses={
        **errors(403, 413),
        200: ResponseSpec(
            data_container=ComplianceOut,
            description="An earlier submission was replaced",
        ),
    },
    summary="Submit the brand and campaign for 10DLC (OWNER): 201, or 200 replacing an earlier "
    "one; back to pending unless approved already; a field at fault: 422 naming it",
)
async def post_registration(
    request: AnyRequest, principal: Caller, deps: Deps, data: JSONBody[RegistrationIO]
) -> Response[ComplianceOut]:
    data = await strictly(request, RegistrationIO)
    submitted = await submit_registration(
        deps.new_uow(), principal, data.brand.draft(), data.campaign.draft()
    )
    status = 200 if submitted.replaced else 201
    return Response(ComplianceOut.of(submitted.view), status_code=status)


compliance_routes = [get_compliance, post_registration]
