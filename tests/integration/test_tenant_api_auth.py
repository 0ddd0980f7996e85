"""Tenant API (/v1) authentication: real tokens and every negative, real app and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from nmc_adapters.postgres import PgUnitOfWork
from nmc_adapters.postgres.identity.tables import users
from nmc_domain.tenancy.model import Tenant
from tests.support.api import (
    AUDIENCE,
    DROP,
    OWNER,
    PROBLEM,
    Caller,
    add_item,
    api_client,
    api_settings,
    b64url,
    bearer,
    claims,
    new_tenant,
    problem,
    tech_of,
    token_for,
)
from tests.support.compliance import ACME_REGISTRATION
from tests.support.twilio import JWT_SECRET

ME = "/v1/me"
# Every /v1 route, with a request that is valid in all but its credentials.
SOME_ID = "3f2c8a51-6d0e-4b7a-9c1f-2e5d7a9b0c14"
ROUTES = [
    ("GET", "/v1/me", None),
    ("GET", "/v1/users", None),
    ("POST", "/v1/users", {"email": "dispatch@acme-plumbing.example", "role": "TECH"}),
    ("POST", f"/v1/users/{SOME_ID}/deactivate", None),
    ("GET", "/v1/catalog/items", None),
    (
        "POST",
        "/v1/catalog/items",
        {"name": "Water Heater Flush", "price_cents": 18_900, "duration_minutes": 90},
    ),
    ("GET", f"/v1/catalog/items/{SOME_ID}", None),
    ("PATCH", f"/v1/catalog/items/{SOME_ID}", {"price_cents": 21_900}),
    ("GET", "/v1/catalog/match?q=my+water+heater+is+leaking", None),
    ("POST", "/v1/quotes", {"item_id": SOME_ID}),
    ("GET", "/v1/compliance", None),
    ("POST", "/v1/compliance/registration", ACME_REGISTRATION),
]


@pytest.fixture(scope="module")
async def client(database_url: str) -> AsyncIterator[AsyncTestClient]:
    async with api_client(api_settings(database_url)) as client:
        yield client


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture(scope="module")
async def rsa_client(
    database_url: str, rsa_key: rsa.RSAPrivateKey
) -> AsyncIterator[AsyncTestClient]:
    """The same API configured for an external identity provider signing RS256."""
    async with api_client(api_settings(database_url, jwt_public_key=pem(rsa_key))) as client:
        yield client


@pytest.fixture(scope="module")
async def ec_client(
    database_url: str, ec_key: ec.EllipticCurvePrivateKey
) -> AsyncIterator[AsyncTestClient]:
    """The same API configured for an external identity provider signing ES256."""
    async with api_client(api_settings(database_url, jwt_public_key=pem(ec_key))) as client:
        yield client


@pytest.fixture
def new_uow(engine: AsyncEngine):
    return lambda: PgUnitOfWork(engine)


@pytest.fixture
async def tenant(client: AsyncTestClient, new_uow) -> Tenant:
    tenant, _ = await new_tenant(client, new_uow, "ACME-PLUMBING")
    return tenant


def hs256(payload: dict[str, object], secret: str = JWT_SECRET, **headers: object) -> str:
    return jwt.encode(payload, secret, algorithm="HS256", headers=headers or None)


def unsigned(payload: dict[str, object], alg: str = "none") -> str:
    """An `alg: none` token: header and payload, empty signature."""
    return f"{b64url({'alg': alg, 'typ': 'JWT'})}.{b64url(payload)}."


def hmac_signed(payload: dict[str, object], secret: bytes) -> str:
    """HS256 by hand: PyJWT itself refuses a PEM as an HMAC secret (the key-confusion attack)."""
    signing_input = f"{b64url({'alg': 'HS256', 'typ': 'JWT'})}.{b64url(payload)}"
    digest = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(digest).decode().rstrip('=')}"


async def me(client: AsyncTestClient, token: str):
    return await client.get(ME, headers=bearer(token))


# --- the baseline the negatives are measured against -------------------------------------------


async def test_a_minted_token_reaches_the_api(client, tenant) -> None:
    response = await me(client, token_for(tenant.id))

    assert response.status_code == 200, response.text
    assert response.json()["user"]["email"] == OWNER
    assert response.json()["tenant"]["id"] == str(tenant.id)


async def test_the_bearer_scheme_is_case_insensitive(client, tenant) -> None:
    response = await client.get(ME, headers={"Authorization": f"bearer {token_for(tenant.id)}"})

    assert response.status_code == 200, response.text


# --- no or unusable credentials ------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=lambda v: str(v))
async def test_every_route_wants_a_bearer_token(client, method, path, body) -> None:
    response = await client.request(method, path, json=body)

    problem(response, 401)


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=lambda v: str(v))
async def test_every_route_refuses_a_stranger_before_reading_the_body(
    client, method, path, body
) -> None:
    """No token and a bad body: 401, not 422 (anonymous callers learn nothing about inputs)."""
    bad = None if body is None else {"unexpected": ["field"]}
    response = await client.request(method, path, json=bad)

    problem(response, 401)


HEADERS: dict[str, Callable[[str], str]] = {
    "basic scheme": lambda _: "Basic " + base64.b64encode(b"owner:hunter2").decode(),
    "token scheme": lambda token: f"Token {token}",
    "no scheme": lambda token: token,
    "scheme only": lambda _: "Bearer",
    "blank token": lambda _: "Bearer    ",
    "not a jwt": lambda _: "Bearer acme-plumbing-api-key",
    "three garbage segments": lambda _: "Bearer abc.def.ghi",
    "two segments": lambda token: "Bearer " + token.rsplit(".", 1)[0],
    "trailing junk": lambda token: f"Bearer {token} {token}",
    "oversized": lambda token: "Bearer " + token + "A" * 20_000,
}


@pytest.mark.parametrize("shape", HEADERS)
async def test_a_malformed_authorization_header_is_401(client, tenant, shape) -> None:
    header = HEADERS[shape](token_for(tenant.id))

    response = await client.get(ME, headers={"Authorization": header})

    body = problem(response, 401)
    assert body["type"].endswith("unauthenticated")


# --- claims ------------------------------------------------------------------------------------


async def test_an_expired_token_is_401(client, tenant) -> None:
    yesterday = datetime.now(UTC) - timedelta(days=1)

    response = await me(client, token_for(tenant.id, now=yesterday))

    assert "expired" in problem(response, 401)["detail"]


async def test_a_token_expired_a_moment_ago_is_within_the_leeway(client, tenant) -> None:
    response = await me(client, hs256(claims(tenant.id, exp=int(time.time()) - 2)))

    assert response.status_code == 200, response.text


# Each case: the claims changed, and a word the problem's detail names the fault with.
CLAIM_NEGATIVES = {
    "expired a minute ago": (lambda now: {"iat": now - 3600, "exp": now - 60}, "expired"),
    "not yet valid (nbf)": (lambda now: {"nbf": now + 600}, "not yet valid"),
    "wrong issuer": (lambda _: {"iss": "https://evil.example/"}, "issuer"),
    "issuer of another environment": (lambda _: {"iss": "nevermisscall-staging"}, "issuer"),
    "wrong audience": (lambda _: {"aud": "nmc-admin"}, "audience"),
    "audience list without ours": (lambda _: {"aud": ["billing", "reports"]}, "audience"),
    "no exp": (lambda _: {"exp": DROP}, "exp"),
    "no iss": (lambda _: {"iss": DROP}, "iss"),
    "no aud": (lambda _: {"aud": DROP}, "aud"),
    "no sub": (lambda _: {"sub": DROP}, "sub"),
    "no tenant_id": (lambda _: {"tenant_id": DROP}, "tenant_id"),
    "blank sub": (lambda _: {"sub": "   "}, "sub"),
    "sub not a string": (lambda _: {"sub": 4242}, "sub"),
    "tenant_id not a uuid": (lambda _: {"tenant_id": "acme-plumbing"}, "tenant_id"),
    "tenant_id a number": (lambda _: {"tenant_id": 17}, "tenant_id"),
    "exp not a number": (lambda _: {"exp": "tomorrow"}, ""),
}


@pytest.mark.parametrize("case", CLAIM_NEGATIVES)
async def test_a_token_with_bad_claims_is_401(client, tenant, case) -> None:
    changes, named = CLAIM_NEGATIVES[case]
    payload = claims(tenant.id, **changes(int(time.time())))

    assert named in problem(await me(client, hs256(payload)), 401)["detail"]


async def test_a_token_valid_from_a_moment_ago_is_accepted(client, tenant) -> None:
    """The same claims as the negatives, unchanged, pass: the negatives fail for their reason."""
    now = int(time.time())
    payload = claims(tenant.id, nbf=now - 1, aud=["billing", AUDIENCE])

    assert (await me(client, hs256(payload))).status_code == 200


# --- signatures and algorithms -------------------------------------------------------------------


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
async def test_alg_none_is_401(client, tenant, alg) -> None:
    problem(await me(client, unsigned(claims(tenant.id), alg)), 401)


async def test_alg_none_with_a_real_signature_attached_is_401(client, tenant) -> None:
    real_signature = token_for(tenant.id).rsplit(".", 1)[1]
    token = unsigned(claims(tenant.id)) + real_signature

    problem(await me(client, token), 401)


async def test_a_token_signed_with_another_secret_is_401(client, tenant) -> None:
    token = hs256(claims(tenant.id), secret="bobs-hvac-secret-that-is-also-32-bytes-long")

    assert "signature" in problem(await me(client, token), 401)["detail"]


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("alg", ["HS384", "HS512"])
async def test_the_hmac_algorithm_is_pinned_to_hs256(client, tenant, alg) -> None:
    token = jwt.encode(claims(tenant.id), JWT_SECRET, algorithm=alg)

    problem(await me(client, token), 401)


async def test_rs256_against_the_hs256_app_is_401(client, tenant, rsa_key) -> None:
    token = jwt.encode(claims(tenant.id), rsa_key, algorithm="RS256")

    problem(await me(client, token), 401)


async def test_a_tampered_payload_is_401(client, new_uow, tenant) -> None:
    """Acme's owner rewrites the tenant_id to Bob's, where the same email is the owner too."""
    bobs, bobs_owner = await new_tenant(client, new_uow, "BOBS-HVAC")
    assert (await bobs_owner.get(ME)).status_code == 200
    header, _, signature = token_for(tenant.id).split(".")
    forged = f"{header}.{b64url(claims(bobs.id))}.{signature}"

    response = await me(client, forged)

    problem(response, 401)
    assert "BOBS-HVAC" not in response.text


async def test_a_tampered_signature_is_401(client, tenant) -> None:
    header, payload, signature = token_for(tenant.id).split(".")
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    token = f"{header}.{payload}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"

    problem(await me(client, token), 401)


async def test_an_unsigned_header_swap_to_hs384_is_401(client, tenant) -> None:
    _, payload, signature = token_for(tenant.id).split(".")
    token = f"{b64url({'alg': 'HS384', 'typ': 'JWT'})}.{payload}.{signature}"

    problem(await me(client, token), 401)


# --- who the token names -------------------------------------------------------------------------


async def test_a_valid_token_for_an_unknown_user_is_401(client, tenant) -> None:
    token = token_for(tenant.id, subject="ghost@acme-plumbing.example")

    assert "unknown user" in problem(await me(client, token), 401)["detail"]


async def test_a_valid_token_for_an_unknown_tenant_is_401(client) -> None:
    problem(await me(client, token_for(uuid.uuid4())), 401)


async def test_a_user_of_one_tenant_is_unknown_in_another(client, new_uow, tenant) -> None:
    await tech_of(client, new_uow, tenant.id, "tech.maria@acme-plumbing.example")
    bobs, _ = await new_tenant(client, new_uow, "BOBS-HVAC")

    token = token_for(bobs.id, subject="tech.maria@acme-plumbing.example")

    problem(await me(client, token), 401)


async def test_a_deactivated_user_gets_403(client, new_uow, tenant) -> None:
    tech = await tech_of(client, new_uow, tenant.id, "tech.luis@acme-plumbing.example")
    owner = Caller(client, token_for(tenant.id))
    listed = (await owner.get("/v1/users")).json()["items"]
    luis = next(u for u in listed if u["email"] == "tech.luis@acme-plumbing.example")
    assert (await tech.get(ME)).status_code == 200

    assert (await owner.post(f"/v1/users/{luis['id']}/deactivate")).status_code == 200

    body = problem(await tech.get(ME), 403)
    assert body["type"].endswith("forbidden")
    problem(await tech.get("/v1/catalog/items"), 403)
    problem(await tech.get("/v1/catalog/match", q="water heater"), 403)


async def test_a_deactivated_owner_gets_403_even_with_a_valid_token(
    client, new_uow, admin_engine, tenant
) -> None:
    async with admin_engine.begin() as conn:
        await conn.execute(update(users).where(users.c.tenant_id == tenant.id).values(active=False))

    response = await me(client, token_for(tenant.id))

    problem(response, 403)


@pytest.mark.parametrize(
    ("who", "request_", "status"),
    [
        ("tech", ("GET", "/v1/users?limit=0", None), 403),
        ("tech", ("GET", "/v1/users?cursor=not-a-cursor", None), 403),
        ("ghost", ("GET", "/v1/catalog/items?limit=1000", None), 401),
        ("ghost", ("POST", "/v1/catalog/items", {"name": "Drain Cleaning"}), 401),
    ],
    ids=["tech bad limit", "tech bad cursor", "unknown user bad limit", "unknown user bad body"],
)
async def test_who_may_call_is_decided_before_the_input_is_checked(
    client, new_uow, tenant, who, request_, status
) -> None:
    email = f"{who}@acme-plumbing.example"
    if who == "tech":
        await tech_of(client, new_uow, tenant.id, email)
    method, path, body = request_

    response = await client.request(
        method, path, json=body, headers=bearer(token_for(tenant.id, subject=email))
    )

    problem(response, status)


# --- external identity providers (RS256, ES256 public keys) -------------------------------------


async def test_rs256_tokens_are_accepted_by_an_rs256_app(rsa_client, new_uow, rsa_key) -> None:
    tenant, _ = await new_tenant(rsa_client, new_uow, "ACME-PLUMBING")
    token = jwt.encode(claims(tenant.id), rsa_key, algorithm="RS256", headers={"kid": "acme-1"})

    response = await me(rsa_client, token)

    assert response.status_code == 200, response.text
    assert response.json()["user"]["email"] == OWNER


async def test_es256_tokens_are_accepted_by_an_es256_app(ec_client, new_uow, ec_key) -> None:
    tenant, _ = await new_tenant(ec_client, new_uow, "ACME-PLUMBING")
    token = jwt.encode(claims(tenant.id), ec_key, algorithm="ES256")

    response = await me(ec_client, token)

    assert response.status_code == 200, response.text
    assert response.json()["tenant"]["name"] == "ACME-PLUMBING"


async def test_hs256_tokens_are_refused_by_an_rs256_app(rsa_client, new_uow, rsa_key) -> None:
    tenant, _ = await new_tenant(rsa_client, new_uow)
    # The shared secret, and the classic key confusion: the public key's PEM as HMAC secret.
    for token in (token_for(tenant.id), hmac_signed(claims(tenant.id), pem(rsa_key).encode())):
        problem(await me(rsa_client, token), 401)


async def test_an_rs256_app_refuses_other_keys_and_algorithms(
    rsa_client, new_uow, rsa_key, ec_key
) -> None:
    tenant, _ = await new_tenant(rsa_client, new_uow)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tokens = {
        "another RSA key": jwt.encode(claims(tenant.id), stranger, algorithm="RS256"),
        "PS256, same key": jwt.encode(claims(tenant.id), rsa_key, algorithm="PS256"),
        "RS512, same key": jwt.encode(claims(tenant.id), rsa_key, algorithm="RS512"),
        "ES256": jwt.encode(claims(tenant.id), ec_key, algorithm="ES256"),
        "alg none": unsigned(claims(tenant.id)),
        "expired": jwt.encode(
            claims(tenant.id, exp=int(time.time()) - 120), rsa_key, algorithm="RS256"
        ),
        "wrong audience": jwt.encode(
            claims(tenant.id, aud="nmc-admin"), rsa_key, algorithm="RS256"
        ),
    }
    for name, token in tokens.items():
        response = await me(rsa_client, token)
        assert response.status_code == 401, (name, response.text)
        problem(response, 401)


async def test_an_es256_app_refuses_rs256_and_hs256(ec_client, new_uow, ec_key, rsa_key) -> None:
    tenant, _ = await new_tenant(ec_client, new_uow)
    tokens = {
        "RS256": jwt.encode(claims(tenant.id), rsa_key, algorithm="RS256"),
        "HS256 shared secret": token_for(tenant.id),
        "HS256 with the PEM": hmac_signed(claims(tenant.id), pem(ec_key).encode()),
        "another EC key": jwt.encode(
            claims(tenant.id), ec.generate_private_key(ec.SECP256R1()), algorithm="ES256"
        ),
    }
    for name, token in tokens.items():
        response = await me(ec_client, token)
        assert response.status_code == 401, (name, response.text)
        problem(response, 401)


# --- errors are problem+json everywhere; the OpenAPI document says so ----------------------------


async def test_unknown_routes_and_methods_under_v1_are_problems(client, tenant) -> None:
    owner = Caller(client, token_for(tenant.id))
    item = await add_item(owner, "Water Heater Flush")

    problem(await owner.get("/v1/invoices"), 404)
    problem(await owner.get("/v1/catalog/items/not-a-uuid"), 404)
    problem(await client.delete(f"/v1/catalog/items/{item['id']}", headers=owner.headers), 405)


async def test_a_body_that_is_not_json_is_a_problem(client, tenant) -> None:
    headers = {**bearer(token_for(tenant.id)), "Content-Type": "application/json"}

    response = await client.post("/v1/catalog/items", content=b"{name: 'Drain'", headers=headers)

    assert response.status_code in (400, 422), response.text
    problem(response, response.status_code)


async def test_a_stranger_sending_a_body_that_is_not_json_gets_401(client) -> None:
    headers = {"Content-Type": "application/json"}

    response = await client.post("/v1/users", content=b"{email: owner", headers=headers)

    problem(response, 401)


EXPECTED_ERRORS = {
    ("/v1/me", "get"): {"401", "403"},
    ("/v1/users", "get"): {"401", "403", "422"},
    ("/v1/users", "post"): {"401", "403", "409", "422"},
    ("/v1/users/{user_id}/deactivate", "post"): {"401", "403", "404", "409"},
    ("/v1/catalog/items", "get"): {"401", "403", "422"},
    ("/v1/catalog/items", "post"): {"401", "403", "409", "422"},
    ("/v1/catalog/items/{item_id}", "get"): {"401", "403", "404"},
    ("/v1/catalog/items/{item_id}", "patch"): {"401", "403", "404", "409", "422"},
    ("/v1/catalog/match", "get"): {"401", "403", "422"},
    ("/v1/quotes", "post"): {"401", "403", "404", "410", "422"},
    ("/v1/technicians", "get"): {"401", "403", "422"},
    ("/v1/technicians", "post"): {"401", "403", "409", "422"},
    ("/v1/technicians/{technician_id}", "patch"): {"401", "403", "404", "409", "422"},
    ("/v1/technicians/{technician_id}/calendar/google/connect", "get"): {"401", "403", "404"},
    ("/v1/technicians/{technician_id}/calendar", "get"): {"401", "403", "404"},
    ("/v1/technicians/{technician_id}/calendar", "delete"): {"401", "403", "404"},
    ("/v1/integrations/jobber/connect", "get"): {"401", "403", "404"},
    ("/v1/integrations/jobber", "get"): {"401", "403", "404"},
    ("/v1/integrations/jobber", "delete"): {"401", "403", "404"},
    ("/v1/business-hours", "get"): {"401", "403"},
    ("/v1/business-hours", "put"): {"401", "403", "422"},
    ("/v1/closures", "get"): {"401", "403", "422"},
    ("/v1/closures", "post"): {"401", "403", "409", "422"},
    ("/v1/closures/{closure_id}", "delete"): {"401", "403", "404"},
    ("/v1/busy-blocks", "get"): {"401", "403", "422"},
    ("/v1/busy-blocks", "post"): {"401", "403", "409", "422"},
    ("/v1/busy-blocks/{block_id}", "delete"): {"401", "403", "404"},
    ("/v1/settings", "get"): {"401", "403"},
    ("/v1/settings", "patch"): {"401", "403", "422"},
    ("/v1/availability", "get"): {"401", "403", "404", "410", "422"},
    ("/v1/holds", "post"): {"401", "403", "404", "409", "410", "422"},
    ("/v1/holds/{hold_id}", "delete"): {"401", "403", "404", "409"},
    ("/v1/appointments", "get"): {"401", "403", "422"},
    ("/v1/appointments", "post"): {"401", "403", "404", "409", "410", "422"},
    ("/v1/appointments/{appointment_id}/cancel", "post"): {"401", "403", "404", "409"},
    ("/v1/appointments/{appointment_id}/reschedule", "post"): {"401", "403", "404", "409", "422"},
    ("/v1/conversations", "get"): {"401", "403", "422"},
    ("/v1/conversations/{conversation_id}", "get"): {"401", "403", "404"},
    ("/v1/conversations/{conversation_id}/takeover", "post"): {"401", "403", "404", "409"},
    ("/v1/conversations/{conversation_id}/release", "post"): {"401", "403", "404", "409"},
    ("/v1/conversations/{conversation_id}/close", "post"): {"401", "403", "404", "409"},
    ("/v1/conversations/{conversation_id}/messages", "post"): {"401", "403", "404", "409", "422"},
    ("/v1/opt-outs", "get"): {"401", "403", "422"},
    ("/v1/compliance", "get"): {"401", "403"},
    ("/v1/compliance/registration", "post"): {"401", "403", "422"},
    ("/v1/billing", "get"): {"401", "403", "404"},
    ("/v1/billing/checkout", "post"): {"401", "403", "404", "502"},
    ("/v1/billing/portal", "post"): {"401", "403", "404", "502"},
    ("/v1/reports/daily", "get"): {"401", "403", "422"},
    ("/v1/reports/summary", "get"): {"401", "403", "422"},
}


async def test_openapi_lists_every_route_with_its_errors_and_bearer_security(client) -> None:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    document = response.json()
    paths = document["paths"]

    v1 = {(path, method) for path, ops in paths.items() if path.startswith("/v1") for method in ops}
    assert v1 == set(EXPECTED_ERRORS)
    schemes = document["components"]["securitySchemes"]
    bearer_schemes = [
        name for name, s in schemes.items() if s["type"] == "http" and s["scheme"] == "bearer"
    ]
    assert bearer_schemes
    global_security = document.get("security") or []
    for (path, method), codes in EXPECTED_ERRORS.items():
        operation = paths[path][method]
        documented = set(operation["responses"])
        assert codes <= documented, (path, method, codes - documented)
        for code in codes:
            content = operation["responses"][code]["content"]
            assert PROBLEM in content, (path, method, code)
        security = operation.get("security") or global_security
        assert any(set(req) & set(bearer_schemes) for req in security), (path, method)
        assert {c for c in documented if c.startswith("2")}, (path, method)


async def test_successful_statuses_match_the_openapi_document(client) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]

    assert "201" in paths["/v1/users"]["post"]["responses"]
    assert "201" in paths["/v1/catalog/items"]["post"]["responses"]
    assert "201" in paths["/v1/quotes"]["post"]["responses"]
    assert "200" in paths["/v1/users/{user_id}/deactivate"]["post"]["responses"]
    assert "200" in paths["/v1/catalog/items/{item_id}"]["patch"]["responses"]
