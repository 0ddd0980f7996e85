"""Jobber: OAuth 2.0 with rotating refresh tokens, webhook HMAC, the GraphQL API over httpx."""
