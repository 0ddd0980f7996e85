"""Jobber: OAuth 2.0 with rotating refresh tokens, webhook HMAC, the GraphQL API over httpx."""

from nmc_adapters.jobber.client import CALLBACK_PATH, GRAPHQL_VERSION, JobberClient
from nmc_adapters.jobber.webhooks import (
    JobberEventMalformed,
    JobberSignatureInvalid,
    JobberWebhookVerifier,
    jobber_signature,
)

__all__ = [
    "CALLBACK_PATH",
    "GRAPHQL_VERSION",
    "JobberClient",
    "JobberEventMalformed",
    "JobberSignatureInvalid",
    "JobberWebhookVerifier",
    "jobber_signature",
]
