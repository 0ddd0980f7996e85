"""The tenant API (/v1): JSON, bearer JWT, RFC 9457 problem details."""
