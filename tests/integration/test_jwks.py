"""JWKS over real HTTP: the default httpx fetch against an identity-provider fake on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from nmc_adapters.auth import JwtSettings, JwtVerifier
from nmc_domain.identity.model import Principal
from nmc_domain.shared.errors import Unauthenticated

ISSUER = "https://auth.nevermisscall.test/"
AUDIENCE = "nmc-api"
TENANT = uuid.UUID("6f1c7f4e-2b1d-4c55-9a43-5a0c1d2e3f40")
SUBJECT = "owner@acme-plumbing.example"


class FakeIdp(ThreadingHTTPServer):
    """Serves `body` with `status` at /jwks.json and counts the requests."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.status = 200
        self.body = b"{}"
        self.hits = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/jwks.json"


class _Handler(BaseHTTPRequestHandler):
    server: FakeIdp

    def do_GET(self) -> None:
        self.server.hits += 1
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def idp(rsa_key: rsa.RSAPrivateKey) -> Iterator[FakeIdp]:
    server = FakeIdp()
    jwk = {**RSAAlgorithm.to_jwk(rsa_key.public_key(), as_dict=True), "kid": "rsa-2030"}
    server.body = json.dumps({"keys": [jwk]}).encode()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def token(key: rsa.RSAPrivateKey) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": SUBJECT,
        "tenant_id": str(TENANT),
        "exp": now + 300,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "rsa-2030"})


def verifier(url: str) -> JwtVerifier:
    return JwtVerifier(JwtSettings(issuer=ISSUER, audience=AUDIENCE, jwks_url=url))


async def test_keys_are_fetched_over_http_once(idp: FakeIdp, rsa_key: rsa.RSAPrivateKey) -> None:
    v = verifier(idp.url)
    for _ in range(3):
        assert await v.verify(token(rsa_key)) == Principal(subject=SUBJECT, tenant_id=TENANT)
    assert idp.hits == 1


@pytest.mark.parametrize(
    ("status", "body"),
    [(500, b'{"error": "boom"}'), (404, b"{}"), (200, b"<html>"), (200, b"[1, 2]")],
    ids=["5xx", "404", "not-json", "not-an-object"],
)
async def test_bad_responses_are_unavailable(
    idp: FakeIdp, rsa_key: rsa.RSAPrivateKey, status: int, body: bytes
) -> None:
    idp.status, idp.body = status, body
    with pytest.raises(Unauthenticated) as caught:
        await verifier(idp.url).verify(token(rsa_key))
    assert caught.value.reason == "identity provider unavailable"
    assert idp.hits == 1


async def test_unreachable_identity_provider_is_unavailable(rsa_key: rsa.RSAPrivateKey) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    v = verifier(f"http://127.0.0.1:{closed_port}/jwks.json")
    with pytest.raises(Unauthenticated) as caught:
        await v.verify(token(rsa_key))
    assert caught.value.reason == "identity provider unavailable"
