"""Identity adapters: bearer JWT verification and minting."""

from nmc_adapters.auth.jwks import FetchJwks, fetch_jwks_http
from nmc_adapters.auth.jwt import JwtSettings, JwtVerifier, mint_token

__all__ = ["FetchJwks", "JwtSettings", "JwtVerifier", "fetch_jwks_http", "mint_token"]
