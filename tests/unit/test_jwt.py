"""Bearer JWT verification: pinned algorithms, required claims, JWKS caching, and minting."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import event, given, settings
from hypothesis import strategies as st
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from nmc_adapters.auth import JwtSettings, JwtVerifier, mint_token
from nmc_adapters.auth.jwks import parse_jwks
from nmc_domain.identity.model import Principal
from nmc_domain.shared.errors import Unauthenticated

ISSUER = "https://auth.nevermisscall.test/"
AUDIENCE = "nmc-api"
SECRET = "ACME-PLUMBING-self-hosted-jwt-secret-0001-long-enough-for-hs512-too"
OTHER_SECRET = "BOLT-ELECTRIC-self-hosted-jwt-secret-0002"
TENANT = uuid.UUID("6f1c7f4e-2b1d-4c55-9a43-5a0c1d2e3f40")
OTHER_TENANT = uuid.UUID("0b7e4a9c-8d21-4f3a-b6c5-d4e3f2a1b0c9")
SUBJECT = "owner@acme-plumbing.example"
JWKS_URL = "https://idp.acme-plumbing.example/.well-known/jwks.json"
DROP = object()  # a claim value meaning "leave this claim out"


# --- keys and helpers ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def other_ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def public_pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64json(value: object) -> str:
    return b64url(json.dumps(value).encode("utf-8"))


def claims(**overrides: object) -> dict[str, object]:
    """Valid claims for ACME-PLUMBING's owner, expiring in five minutes; DROP removes one."""
    now = int(time.time())
    base: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": SUBJECT,
        "tenant_id": str(TENANT),
        "iat": now,
        "exp": now + 300,
    }
    base.update(overrides)
    return {name: value for name, value in base.items() if value is not DROP}


def sign(payload: Mapping[str, object], key: Any, algorithm: str, **headers: Any) -> str:
    return jwt.encode(dict(payload), key, algorithm=algorithm, headers=headers or None)


def hs256_by_hand(payload: Mapping[str, object], secret: bytes) -> str:
    """HS256 by hand, as an attacker would (PyJWT refuses a PEM as HMAC secret)."""
    signing_input = f"{b64json({'alg': 'HS256', 'typ': 'JWT'})}.{b64json(dict(payload))}"
    signature = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(signature)}"


def verifier(**key_source: Any) -> JwtVerifier:
    return JwtVerifier(JwtSettings(issuer=ISSUER, audience=AUDIENCE, **key_source))


async def reason_for(v: JwtVerifier, token: str) -> str:
    with pytest.raises(Unauthenticated) as caught:
        await v.verify(token)
    return caught.value.reason


@pytest.fixture(scope="module")
def hs() -> JwtVerifier:
    return verifier(secret=SECRET)


@pytest.fixture(scope="module")
def rs(rsa_key: rsa.RSAPrivateKey) -> JwtVerifier:
    return verifier(public_key=public_pem(rsa_key))


@pytest.fixture(scope="module")
def es(ec_key: ec.EllipticCurvePrivateKey) -> JwtVerifier:
    return verifier(public_key=public_pem(ec_key))


OWNER = Principal(subject=SUBJECT, tenant_id=TENANT)


# --- HS256 (self-hosting) -----------------------------------------------------------------------


async def test_valid_hs256_token_gives_the_principal(hs: JwtVerifier) -> None:
    assert await hs.verify(sign(claims(), SECRET, "HS256")) == OWNER


@pytest.mark.parametrize("token", ["", "   "])
async def test_missing_token_is_refused(hs: JwtVerifier, token: str) -> None:
    assert await reason_for(hs, token) == "missing token"


@pytest.mark.parametrize(
    "token",
    [
        "abc",
        "a.b.c",
        "a.b",
        "!!!.###.$$$",
        f"{b64json({'alg': 'HS256'})}.%%%.c2ln",
        f"{b64url(b'not json')}.{b64json(claims())}.c2ln",
        f"{b64json(['HS256'])}.{b64json(claims())}.c2ln",
    ],
    ids=["one-part", "abc", "two-parts", "junk", "bad-b64", "header-not-json", "header-list"],
)
async def test_malformed_token_is_refused(hs: JwtVerifier, token: str) -> None:
    assert await reason_for(hs, token) == "malformed token"


async def test_oversized_token_is_refused_before_decoding(hs: JwtVerifier) -> None:
    token = sign(claims(padding="x" * 20_000), SECRET, "HS256")
    assert await reason_for(hs, token) == "token too large"


async def test_payload_that_is_not_json_is_malformed(hs: JwtVerifier) -> None:
    signing_input = f"{b64json({'alg': 'HS256'})}.{b64url(b'{not json')}"
    mac = hmac.new(SECRET.encode(), signing_input.encode(), hashlib.sha256).digest()
    assert await reason_for(hs, f"{signing_input}.{b64url(mac)}") == "malformed token"


async def test_expired_beyond_leeway_is_refused(hs: JwtVerifier) -> None:
    token = sign(claims(exp=int(time.time()) - 30), SECRET, "HS256")
    assert await reason_for(hs, token) == "token expired"


async def test_just_expired_within_leeway_is_accepted(hs: JwtVerifier) -> None:
    token = sign(claims(exp=int(time.time()) - 3), SECRET, "HS256")
    assert await hs.verify(token) == OWNER


async def test_leeway_is_configurable() -> None:
    strict = JwtVerifier(
        JwtSettings(issuer=ISSUER, audience=AUDIENCE, secret=SECRET, leeway_seconds=0)
    )
    token = sign(claims(exp=int(time.time()) - 3), SECRET, "HS256")
    assert await reason_for(strict, token) == "token expired"


async def test_not_before_in_the_future_beyond_leeway_is_refused(hs: JwtVerifier) -> None:
    token = sign(claims(nbf=int(time.time()) + 60), SECRET, "HS256")
    assert await reason_for(hs, token) == "token not yet valid"


async def test_not_before_within_leeway_is_accepted(hs: JwtVerifier) -> None:
    token = sign(claims(nbf=int(time.time()) + 3), SECRET, "HS256")
    assert await hs.verify(token) == OWNER


async def test_wrong_issuer_is_refused(hs: JwtVerifier) -> None:
    token = sign(claims(iss="https://evil.example/"), SECRET, "HS256")
    assert await reason_for(hs, token) == "wrong issuer"


@pytest.mark.parametrize("aud", ["billing-api", ["billing-api", "reports"]])
async def test_wrong_audience_is_refused(hs: JwtVerifier, aud: object) -> None:
    token = sign(claims(aud=aud), SECRET, "HS256")
    assert await reason_for(hs, token) == "wrong audience"


async def test_audience_list_containing_ours_is_accepted(hs: JwtVerifier) -> None:
    token = sign(claims(aud=["billing-api", AUDIENCE]), SECRET, "HS256")
    assert await hs.verify(token) == OWNER


@pytest.mark.parametrize("alg", ["none", "None", "NONE", ""])
async def test_alg_none_is_refused(hs: JwtVerifier, alg: str) -> None:
    token = f"{b64json({'alg': alg, 'typ': 'JWT'})}.{b64json(claims())}."
    assert await reason_for(hs, token) == "algorithm not allowed"


async def test_missing_alg_is_refused(hs: JwtVerifier) -> None:
    token = f"{b64json({'typ': 'JWT'})}.{b64json(claims())}."
    assert await reason_for(hs, token) == "algorithm not allowed"


async def test_rs256_token_when_only_a_secret_is_configured_is_refused(
    hs: JwtVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    token = sign(claims(), rsa_key, "RS256")
    assert await reason_for(hs, token) == "algorithm not allowed"


async def test_hs512_with_the_right_secret_is_refused(hs: JwtVerifier) -> None:
    token = sign(claims(), SECRET, "HS512")
    assert await reason_for(hs, token) == "algorithm not allowed"


async def test_tampered_payload_is_refused(hs: JwtVerifier) -> None:
    header, _, signature = sign(claims(), SECRET, "HS256").split(".")
    forged = f"{header}.{b64json(claims(tenant_id=str(OTHER_TENANT)))}.{signature}"
    assert await reason_for(hs, forged) == "bad signature"


async def test_signature_from_another_secret_is_refused(hs: JwtVerifier) -> None:
    token = sign(claims(), OTHER_SECRET, "HS256")
    assert await reason_for(hs, token) == "bad signature"


@pytest.mark.parametrize("claim", ["exp", "iss", "aud", "sub", "tenant_id"])
async def test_missing_required_claim_is_refused(hs: JwtVerifier, claim: str) -> None:
    token = sign(claims(**{claim: DROP}), SECRET, "HS256")
    assert await reason_for(hs, token) == f"missing claim {claim}"


async def test_iat_is_not_required(hs: JwtVerifier) -> None:
    assert await hs.verify(sign(claims(iat=DROP), SECRET, "HS256")) == OWNER


async def test_empty_subject_is_refused(hs: JwtVerifier) -> None:
    assert await reason_for(hs, sign(claims(sub=""), SECRET, "HS256")) == "missing claim sub"


async def test_subject_that_is_not_a_string_is_refused(hs: JwtVerifier) -> None:
    assert await reason_for(hs, sign(claims(sub=42), SECRET, "HS256")) == "sub is not a string"


@pytest.mark.parametrize("tenant_id", ["ACME-PLUMBING", "", 42, [str(TENANT)], "6f1c7f4e-2b1d"])
async def test_tenant_id_that_is_not_a_uuid_is_refused(hs: JwtVerifier, tenant_id: object) -> None:
    token = sign(claims(tenant_id=tenant_id), SECRET, "HS256")
    assert await reason_for(hs, token) == "tenant_id is not a UUID"


async def test_exp_that_is_not_a_number_is_malformed(hs: JwtVerifier) -> None:
    token = sign(claims(exp="tomorrow"), SECRET, "HS256")
    assert await reason_for(hs, token) == "malformed token"


async def test_reasons_never_echo_the_token(hs: JwtVerifier, rsa_key: rsa.RSAPrivateKey) -> None:
    tokens = [
        "abc",
        sign(claims(exp=int(time.time()) - 60), SECRET, "HS256"),
        sign(claims(), OTHER_SECRET, "HS256"),
        sign(claims(), rsa_key, "RS256"),
        sign(claims(tenant_id="ACME-PLUMBING"), SECRET, "HS256"),
    ]
    for token in tokens:
        reason = await reason_for(hs, token)
        assert len(reason) < 40
        assert all(part not in reason for part in token.split(".") if len(part) > 3)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_no_exception_but_unauthenticated_escapes_on_garbage(token: str) -> None:
    v = verifier(secret=SECRET)
    with pytest.raises(Unauthenticated):
        asyncio.run(v.verify(token))


# Claim by claim: values the verifier must accept, and values it must refuse. The refused ones
# are unambiguous (a text of at most 20 characters is never a UUID; times are well past the
# 10 s leeway), so "verified iff every claim is acceptable" is an exact oracle.
CLAIM_NAMES = ("iss", "aud", "sub", "tenant_id", "exp", "nbf", "iat")
LEEWAY = 10
FAR = 10**6
_SHAPES = st.one_of(st.none(), st.booleans(), st.lists(st.integers(), max_size=2), st.just({}))


@attrs.frozen
class Offset:
    """A time claim, in seconds from now (drawn as an offset, so the draws do not depend on
    the wall clock, which hypothesis would rightly call flaky)."""

    seconds: float


def _offsets(low: float, high: float, *, floats: bool = False) -> st.SearchStrategy[Offset]:
    numbers = st.floats(low, high, allow_nan=False) if floats else st.integers(int(low), int(high))
    return numbers.map(Offset)


def _acceptable(name: str) -> st.SearchStrategy[object]:
    return {
        "iss": st.just(ISSUER),
        "aud": st.sampled_from([AUDIENCE, [AUDIENCE], ["billing-api", AUDIENCE]]),
        "sub": st.one_of(st.just(SUBJECT), st.text(min_size=1, max_size=30)).filter(str.strip),
        "tenant_id": st.one_of(st.just(TENANT), st.uuids()).map(str),
        "exp": st.one_of(_offsets(-LEEWAY + 5, FAR), _offsets(60, FAR, floats=True)),
        "nbf": st.one_of(st.just(DROP), _offsets(-FAR, LEEWAY - 5)),
        "iat": st.one_of(st.just(DROP), _offsets(-FAR, 0)),
    }[name]


def _refused(name: str) -> st.SearchStrategy[object]:
    return {
        "iss": st.one_of(
            st.just(DROP),
            st.text(max_size=30).filter(lambda text: text != ISSUER),
            st.integers(),
            st.just([ISSUER]),
            _SHAPES,
        ),
        "aud": st.one_of(
            st.just(DROP),
            st.sampled_from(["billing-api", ["billing-api", "reports"], [], AUDIENCE.upper()]),
            st.integers(),
            st.just({"aud": AUDIENCE}),
        ),
        "sub": st.one_of(
            st.just(DROP), st.text(alphabet=" \t\n", max_size=3), st.integers(), _SHAPES
        ),
        "tenant_id": st.one_of(
            st.just(DROP),
            st.text(max_size=20),
            st.integers(),
            st.just([str(TENANT)]),
            st.just(TENANT.hex[:12]),
            _SHAPES,
        ),
        "exp": st.one_of(
            st.just(DROP),
            _offsets(-FAR, -LEEWAY - 5),
            st.sampled_from(["tomorrow", "", None, [], {}]),
        ),
        "nbf": st.one_of(_offsets(LEEWAY + 30, FAR), st.just("soon")),
        "iat": st.one_of(_offsets(LEEWAY + 30, FAR), st.just("yesterday")),
    }[name]


# Which claims get a refused value: none (a valid token), one (so that claim's check alone
# decides: the case that finds a missing check), or a few.
BROKEN = st.one_of(
    st.just(frozenset[str]()),
    st.sampled_from(CLAIM_NAMES).map(lambda name: frozenset({name})),
    st.frozensets(st.sampled_from(CLAIM_NAMES), min_size=2, max_size=3),
)


def _expected(payload: Mapping[str, object]) -> Principal:
    return Principal(subject=str(payload["sub"]), tenant_id=uuid.UUID(str(payload["tenant_id"])))


def test_signed_fuzzed_claims_give_the_right_principal_or_unauthenticated() -> None:
    """Correctly signed (HS256, our secret), so claim validation is what gets exercised."""
    v = verifier(secret=SECRET)
    outcomes: dict[str, int] = {"verified": 0, "refused": 0}

    @settings(max_examples=400, deadline=None)
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        broken = data.draw(BROKEN, label="broken")
        drawn = {
            name: data.draw(_refused(name) if name in broken else _acceptable(name), label=name)
            for name in CLAIM_NAMES
        }
        now = int(time.time())
        payload = {
            name: now + value.seconds if isinstance(value, Offset) else value
            for name, value in drawn.items()
            if value is not DROP
        }
        token = hs256_by_hand(payload, SECRET.encode())
        try:
            principal = asyncio.run(v.verify(token))
        except Unauthenticated:
            event("refused", payload=",".join(sorted(broken)))
            outcomes["refused"] += 1
            assert broken, f"valid claims refused: {payload}"
            return
        event("verified")
        outcomes["verified"] += 1
        assert not broken, f"accepted despite bad {sorted(broken)}: {payload}"
        assert principal == _expected(payload)

    check()
    # Both branches really ran: the fuzz is not all refusals (nor all acceptances).
    assert outcomes["verified"] >= 20, outcomes
    assert outcomes["refused"] >= 20, outcomes


# --- RS256 / ES256 with a configured public key -------------------------------------------------


async def test_rs256_token_with_the_rsa_public_key_configured_is_accepted(
    rs: JwtVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    assert await rs.verify(sign(claims(), rsa_key, "RS256")) == OWNER


async def test_hs256_signed_with_the_public_key_pem_is_refused(
    rs: JwtVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    pem = public_pem(rsa_key).encode("ascii")
    forged = hs256_by_hand(claims(), pem)
    # The forgery is genuine: a verifier that used the PEM as an HMAC secret would accept it.
    signing_input, _, signature = forged.rpartition(".")
    expected = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    assert b64url(expected) == signature
    assert await reason_for(rs, forged) == "algorithm not allowed"


async def test_rs256_signed_by_another_key_is_refused(
    rs: JwtVerifier, other_rsa_key: rsa.RSAPrivateKey
) -> None:
    assert await reason_for(rs, sign(claims(), other_rsa_key, "RS256")) == "bad signature"


async def test_ps256_with_the_right_rsa_key_is_refused(
    rs: JwtVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    assert await reason_for(rs, sign(claims(), rsa_key, "PS256")) == "algorithm not allowed"


async def test_tampered_rs256_payload_is_refused(
    rs: JwtVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    header, _, signature = sign(claims(), rsa_key, "RS256").split(".")
    forged = f"{header}.{b64json(claims(sub='tech@acme-plumbing.example'))}.{signature}"
    assert await reason_for(rs, forged) == "bad signature"


async def test_es256_token_with_the_ec_key_configured_is_accepted(
    es: JwtVerifier, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    assert await es.verify(sign(claims(), ec_key, "ES256")) == OWNER


async def test_rs256_token_against_an_ec_key_is_refused(
    es: JwtVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    assert await reason_for(es, sign(claims(), rsa_key, "RS256")) == "algorithm not allowed"


async def test_hs256_signed_with_the_ec_public_key_pem_is_refused(
    es: JwtVerifier, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    forged = hs256_by_hand(claims(), public_pem(ec_key).encode("ascii"))
    assert await reason_for(es, forged) == "algorithm not allowed"


async def test_es256_signed_by_another_ec_key_is_refused(
    es: JwtVerifier, other_ec_key: ec.EllipticCurvePrivateKey
) -> None:
    assert await reason_for(es, sign(claims(), other_ec_key, "ES256")) == "bad signature"


async def test_alg_none_is_refused_with_a_public_key(rs: JwtVerifier) -> None:
    token = f"{b64json({'alg': 'none'})}.{b64json(claims())}."
    assert await reason_for(rs, token) == "algorithm not allowed"


async def test_pem_with_escaped_newlines_is_accepted(ec_key: ec.EllipticCurvePrivateKey) -> None:
    one_line = public_pem(ec_key).replace("\n", "\\n")
    assert await verifier(public_key=one_line).verify(sign(claims(), ec_key, "ES256")) == OWNER


# --- construction -------------------------------------------------------------------------------


def test_no_key_source_is_a_value_error_naming_the_variables() -> None:
    with pytest.raises(ValueError, match=r"NMC_JWT_SECRET.*NMC_JWT_PUBLIC_KEY.*NMC_JWT_JWKS_URL"):
        verifier()


def test_empty_strings_count_as_unset() -> None:
    with pytest.raises(ValueError, match=r"exactly one of .*found none"):
        verifier(secret="", public_key="", jwks_url="")


def test_two_key_sources_are_a_value_error_naming_them(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ValueError, match="found NMC_JWT_SECRET and NMC_JWT_PUBLIC_KEY"):
        verifier(secret=SECRET, public_key=public_pem(rsa_key))
    with pytest.raises(ValueError, match="found NMC_JWT_PUBLIC_KEY and NMC_JWT_JWKS_URL"):
        verifier(public_key=public_pem(rsa_key), jwks_url=JWKS_URL)


@pytest.mark.parametrize(
    "pem",
    ["not a pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", SECRET],
)
def test_malformed_public_key_is_a_value_error_naming_it(pem: str) -> None:
    with pytest.raises(ValueError, match="NMC_JWT_PUBLIC_KEY"):
        verifier(public_key=pem)


def test_private_key_pem_is_refused_as_public_key(ec_key: ec.EllipticCurvePrivateKey) -> None:
    private = ec_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    with pytest.raises(ValueError, match="NMC_JWT_PUBLIC_KEY"):
        verifier(public_key=private)


def test_ec_key_off_p256_is_refused() -> None:
    with pytest.raises(ValueError, match=r"NMC_JWT_PUBLIC_KEY.*P-256"):
        verifier(public_key=public_pem(ec.generate_private_key(ec.SECP384R1())))


def test_short_rsa_key_is_refused() -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - refused
    with pytest.raises(ValueError, match=r"NMC_JWT_PUBLIC_KEY.*2048"):
        verifier(public_key=public_pem(weak))


def test_short_secret_is_a_value_error_naming_it() -> None:
    with pytest.raises(ValueError, match=r"NMC_JWT_SECRET.*32 bytes"):
        verifier(secret="hunter2")


def test_public_key_given_as_secret_is_refused(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ValueError, match=r"NMC_JWT_SECRET.*NMC_JWT_PUBLIC_KEY"):
        verifier(secret=public_pem(rsa_key))


@pytest.mark.parametrize(
    "url", ["http://idp.example/jwks.json", "ftp://idp.example/jwks", "not a url", "https://"]
)
def test_insecure_or_malformed_jwks_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="NMC_JWT_JWKS_URL"):
        verifier(jwks_url=url)


@pytest.mark.parametrize(
    ("issuer", "audience", "name"), [("", AUDIENCE, "ISSUER"), (ISSUER, " ", "AUDIENCE")]
)
def test_blank_issuer_or_audience_is_refused(issuer: str, audience: str, name: str) -> None:
    with pytest.raises(ValueError, match=f"NMC_JWT_{name}"):
        JwtVerifier(JwtSettings(issuer=issuer, audience=audience, secret=SECRET))


def test_settings_repr_hides_the_secret() -> None:
    assert SECRET not in repr(JwtSettings(issuer=ISSUER, audience=AUDIENCE, secret=SECRET))


# --- mint_token ---------------------------------------------------------------------------------


async def test_minted_token_round_trips(hs: JwtVerifier) -> None:
    token = mint_token(SECRET, issuer=ISSUER, audience=AUDIENCE, subject=SUBJECT, tenant_id=TENANT)
    assert await hs.verify(token) == OWNER


async def test_minted_token_carries_the_ttl_and_extra_claims() -> None:
    now = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    token = mint_token(
        SECRET,
        issuer=ISSUER,
        audience=AUDIENCE,
        subject=SUBJECT,
        tenant_id=TENANT,
        ttl_seconds=600,
        now=now,
        extra={"email": SUBJECT},
    )
    payload = jwt.decode(token, options={"verify_signature": False})
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert payload["iat"] == int(now.timestamp())
    assert payload["exp"] == int(now.timestamp()) + 600
    assert payload["email"] == SUBJECT
    assert payload["tenant_id"] == str(TENANT)


async def test_minted_token_past_its_ttl_is_expired(hs: JwtVerifier) -> None:
    token = mint_token(
        SECRET,
        issuer=ISSUER,
        audience=AUDIENCE,
        subject=SUBJECT,
        tenant_id=TENANT,
        ttl_seconds=60,
        now=datetime.now(UTC) - timedelta(hours=1),
    )
    assert await reason_for(hs, token) == "token expired"


async def test_minted_token_for_another_audience_is_refused(hs: JwtVerifier) -> None:
    token = mint_token(
        SECRET, issuer=ISSUER, audience="billing-api", subject=SUBJECT, tenant_id=TENANT
    )
    assert await reason_for(hs, token) == "wrong audience"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"ttl_seconds": 0}, "ttl_seconds"),
        ({"now": datetime(2030, 1, 1)}, "timezone-aware"),
    ],
)
def test_mint_token_refuses_bad_arguments(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        mint_token(
            SECRET, issuer=ISSUER, audience=AUDIENCE, subject=SUBJECT, tenant_id=TENANT, **kwargs
        )


def test_mint_token_refuses_a_short_secret() -> None:
    with pytest.raises(ValueError, match="NMC_JWT_SECRET"):
        mint_token("short", issuer=ISSUER, audience=AUDIENCE, subject=SUBJECT, tenant_id=TENANT)


# --- JWKS (external identity provider) ----------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeIdp:
    """Serves a JWKS document to the verifier's fetch and counts the fetches."""

    def __init__(self, *keys: dict[str, Any]) -> None:
        self.keys = list(keys)
        self.calls: list[str] = []
        self.failure: Exception | None = None
        self.document: dict[str, Any] | None = None

    async def fetch(self, url: str) -> dict[str, Any]:
        self.calls.append(url)
        await asyncio.sleep(0)  # let concurrent verifications queue up behind this fetch
        if self.failure is not None:
            raise self.failure
        return self.document if self.document is not None else {"keys": list(self.keys)}


def rsa_jwk(key: rsa.RSAPrivateKey, kid: str, **extra: Any) -> dict[str, Any]:
    return {**RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid, **extra}


def ec_jwk(key: ec.EllipticCurvePrivateKey, kid: str, **extra: Any) -> dict[str, Any]:
    return {**ECAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid, **extra}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def idp(rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey) -> FakeIdp:
    return FakeIdp(rsa_jwk(rsa_key, "rsa-2030", use="sig", alg="RS256"), ec_jwk(ec_key, "ec-2030"))


@pytest.fixture
def jwks(idp: FakeIdp, clock: FakeClock) -> JwtVerifier:
    settings = JwtSettings(issuer=ISSUER, audience=AUDIENCE, jwks_url=JWKS_URL)
    return JwtVerifier(settings, fetch_jwks=idp.fetch, clock=clock)


async def test_jwks_right_kid_is_accepted(
    jwks: JwtVerifier, idp: FakeIdp, rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    assert await jwks.verify(sign(claims(), rsa_key, "RS256", kid="rsa-2030")) == OWNER
    assert await jwks.verify(sign(claims(), ec_key, "ES256", kid="ec-2030")) == OWNER
    assert idp.calls == [JWKS_URL]


async def test_jwks_keys_are_cached_for_ten_minutes(
    jwks: JwtVerifier, idp: FakeIdp, clock: FakeClock, rsa_key: rsa.RSAPrivateKey
) -> None:
    token = sign(claims(), rsa_key, "RS256", kid="rsa-2030")
    await jwks.verify(token)
    clock.advance(599)
    await jwks.verify(token)
    assert len(idp.calls) == 1
    clock.advance(2)
    await jwks.verify(token)
    assert len(idp.calls) == 2


async def test_unknown_kid_triggers_exactly_one_refetch(
    jwks: JwtVerifier, idp: FakeIdp, clock: FakeClock, rsa_key: rsa.RSAPrivateKey
) -> None:
    await jwks.verify(sign(claims(), rsa_key, "RS256", kid="rsa-2030"))
    clock.advance(31)
    ghost = sign(claims(), rsa_key, "RS256", kid="ghost")
    assert await reason_for(jwks, ghost) == "unknown key id"
    assert len(idp.calls) == 2
    assert await reason_for(jwks, ghost) == "unknown key id"
    assert len(idp.calls) == 2


async def test_refetches_are_rate_limited_to_one_per_30_seconds(
    jwks: JwtVerifier, idp: FakeIdp, clock: FakeClock, rsa_key: rsa.RSAPrivateKey
) -> None:
    await jwks.verify(sign(claims(), rsa_key, "RS256", kid="rsa-2030"))
    garbage = [sign(claims(), rsa_key, "RS256", kid=f"garbage-{n}") for n in range(25)]
    for token in garbage[:5]:
        assert await reason_for(jwks, token) == "unknown key id"
    assert len(idp.calls) == 1  # the first fetch was under 30 s ago
    clock.advance(30)
    results = await asyncio.gather(*(jwks.verify(t) for t in garbage), return_exceptions=True)
    assert all(isinstance(r, Unauthenticated) for r in results)
    assert len(idp.calls) == 2
    clock.advance(29)
    assert await reason_for(jwks, garbage[0]) == "unknown key id"
    assert len(idp.calls) == 2
    clock.advance(1)
    assert await reason_for(jwks, garbage[0]) == "unknown key id"
    assert len(idp.calls) == 3


async def test_rotated_key_is_picked_up_on_refetch(
    jwks: JwtVerifier,
    idp: FakeIdp,
    clock: FakeClock,
    rsa_key: rsa.RSAPrivateKey,
    other_rsa_key: rsa.RSAPrivateKey,
) -> None:
    await jwks.verify(sign(claims(), rsa_key, "RS256", kid="rsa-2030"))
    idp.keys.append(rsa_jwk(other_rsa_key, "rsa-2031"))
    clock.advance(45)
    rotated = sign(claims(), other_rsa_key, "RS256", kid="rsa-2031")
    # Requests racing with the rotation wait for one refetch instead of failing or fetching.
    results = await asyncio.gather(*(jwks.verify(rotated) for _ in range(5)))
    assert results == [OWNER] * 5
    assert len(idp.calls) == 2


async def test_jwks_fetch_failure_is_unauthenticated_and_not_retried_at_once(
    jwks: JwtVerifier, idp: FakeIdp, clock: FakeClock, rsa_key: rsa.RSAPrivateKey
) -> None:
    token = sign(claims(), rsa_key, "RS256", kid="rsa-2030")
    idp.failure = ConnectionError("idp down")
    assert await reason_for(jwks, token) == "identity provider unavailable"
    clock.advance(10)
    assert await reason_for(jwks, token) == "identity provider unavailable"
    assert len(idp.calls) == 1
    idp.failure = None
    clock.advance(20)
    assert await jwks.verify(token) == OWNER
    assert len(idp.calls) == 2


@pytest.mark.parametrize("document", [{"nope": 1}, {"keys": "rsa"}, {"keys": None}])
async def test_jwks_document_of_the_wrong_shape_is_unavailable(
    jwks: JwtVerifier, idp: FakeIdp, rsa_key: rsa.RSAPrivateKey, document: dict[str, Any]
) -> None:
    idp.document = document
    token = sign(claims(), rsa_key, "RS256", kid="rsa-2030")
    assert await reason_for(jwks, token) == "identity provider unavailable"


async def test_jwks_refuses_hs256_and_none_without_fetching(
    jwks: JwtVerifier, idp: FakeIdp, rsa_key: rsa.RSAPrivateKey
) -> None:
    pem = public_pem(rsa_key).encode("ascii")
    forged = hs256_by_hand(claims(), pem)
    assert await reason_for(jwks, forged) == "algorithm not allowed"
    hs_with_kid = sign(claims(), SECRET, "HS256", kid="rsa-2030")
    assert await reason_for(jwks, hs_with_kid) == "algorithm not allowed"
    unsigned = f"{b64json({'alg': 'none', 'kid': 'rsa-2030'})}.{b64json(claims())}."
    assert await reason_for(jwks, unsigned) == "algorithm not allowed"
    assert idp.calls == []


async def test_jwks_algorithm_must_match_the_key_type(
    jwks: JwtVerifier, rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    rs_on_ec_kid = sign(claims(), rsa_key, "RS256", kid="ec-2030")
    assert await reason_for(jwks, rs_on_ec_kid) == "algorithm not allowed"
    es_on_rsa_kid = sign(claims(), ec_key, "ES256", kid="rsa-2030")
    assert await reason_for(jwks, es_on_rsa_kid) == "algorithm not allowed"


async def test_jwks_token_without_kid_is_refused(
    jwks: JwtVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    assert await reason_for(jwks, sign(claims(), rsa_key, "RS256")) == "missing key id"


async def test_jwks_signature_by_another_key_under_a_known_kid_is_refused(
    jwks: JwtVerifier, other_rsa_key: rsa.RSAPrivateKey
) -> None:
    token = sign(claims(), other_rsa_key, "RS256", kid="rsa-2030")
    assert await reason_for(jwks, token) == "bad signature"


async def test_jwks_claims_are_checked_too(jwks: JwtVerifier, rsa_key: rsa.RSAPrivateKey) -> None:
    token = sign(claims(iss="https://evil.example/"), rsa_key, "RS256", kid="rsa-2030")
    assert await reason_for(jwks, token) == "wrong issuer"


def test_parse_jwks_keeps_only_public_signing_keys_with_a_kid(
    rsa_key: rsa.RSAPrivateKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - skipped
    private = {**RSAAlgorithm.to_jwk(rsa_key, as_dict=True), "kid": "leaked-private"}
    document = {
        "keys": [
            rsa_jwk(rsa_key, "good-rsa"),
            ec_jwk(ec_key, "good-ec"),
            {"kty": "oct", "k": b64url(SECRET.encode()), "kid": "hmac"},
            rsa_jwk(rsa_key, "encryption", use="enc"),
            rsa_jwk(rsa_key, "ps256", alg="PS256"),
            rsa_jwk(weak, "weak"),
            ec_jwk(ec.generate_private_key(ec.SECP384R1()), "p384"),
            private,
            {k: v for k, v in rsa_jwk(rsa_key, "x").items() if k != "kid"},
            {"kty": "RSA", "kid": "broken", "n": "!!", "e": "AQAB"},
            "not a key",
        ]
    }
    keys = parse_jwks(document)
    assert sorted(keys) == ["good-ec", "good-rsa"]
    assert keys["good-rsa"].algorithm_name == "RS256"
    assert keys["good-ec"].algorithm_name == "ES256"
