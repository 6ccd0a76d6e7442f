"""Bearer tokens for partner API clients, and the request's principal.

The token names its tenant, so resolution can refuse a token presented on another tenant's
address (403) before any tenant data is read; the token itself is checked in its own schema.
"""

from __future__ import annotations

import re

from flask import Flask, g, request

from propgroup.errors import Unauthorized
from propgroup.identity import service as identity
from propgroup.identity.principals import Principal
from propgroup.ops.request_id import current_request_id
from propgroup.tenancy.middleware import TOKEN_SLUG_KEY, tenant_db

_BEARER = re.compile(r"Bearer\s+(\S+)", re.IGNORECASE)


def read_bearer() -> None:
    """Runs before tenant resolution: note which tenant the token claims."""
    header = request.headers.get("Authorization")
    if not header:
        return
    match = _BEARER.fullmatch(header.strip())
    if not match:
        raise Unauthorized("Authorization must be 'Bearer <token>'", code="bad_token")
    g.bearer = match.group(1)
    slug = identity.token_tenant(g.bearer)
    if slug is None:
        raise Unauthorized("malformed bearer token", code="bad_token")
    request.environ[TOKEN_SLUG_KEY] = slug


def authenticate_bearer() -> None:
    """Runs after tenant resolution: check the token in the tenant's own schema."""
    if g.get("bearer") and g.get("tenant") is not None:
        g.principal = identity.client_principal(tenant_db(), g.bearer, current_request_id())


def current_principal() -> Principal:
    principal = g.get("principal")
    if principal is None:
        raise Unauthorized(
            "sign in, or send 'Authorization: Bearer <token>'", code="unauthenticated"
        )
    return principal


def init_api_auth_before_tenancy(app: Flask) -> None:
    app.before_request(read_bearer)


def init_api_auth_after_tenancy(app: Flask) -> None:
    app.before_request(authenticate_bearer)
