"""The HTTP API: JSON under /api/v1, RFC 9457 problems, OpenAPI at /openapi.json."""
