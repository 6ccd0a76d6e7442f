"""Tenant slugs and the schema names derived from them.

The slug is the only user-supplied text that ever becomes an SQL identifier, so it is held to a
pattern that needs no quoting at all; quoting is still applied wherever it is used.
"""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.orm import Session

from propgroup.errors import InvalidInput

SLUG_PATTERN = re.compile(r"[a-z][a-z0-9_]{2,39}")
SCHEMA_PREFIX = "t_"
RESERVED_SLUGS = frozenset(
    {
        "public",
        "information_schema",
        "tenant",
        "tenants",
        "admin",
        "api",
        "app",
        "www",
        "static",
        "assets",
        "healthz",
        "readyz",
        "platform",
        "system",
        "root",
        "postgres",
        "template0",
        "template1",
        "default",
        "demo_template",
        "mail",
        "docs",
    }
)
RESERVED_PREFIXES = ("pg_", "sql_")


def validate_slug(slug: object) -> str:
    """Return the slug if it may name a tenant, else raise InvalidInput saying why."""
    if not isinstance(slug, str) or not SLUG_PATTERN.fullmatch(slug):
        raise InvalidInput(
            "slug must be 3-40 characters: a lowercase ASCII letter, then lowercase letters, "
            "digits or underscores",
            code="invalid_slug",
            errors={"slug": [repr(slug)[:60]]},
        )
    if slug in RESERVED_SLUGS or slug.startswith(RESERVED_PREFIXES):
        raise InvalidInput(f"slug {slug!r} is reserved", code="reserved_slug")
    return slug


def schema_for(slug: str) -> str:
    return SCHEMA_PREFIX + validate_slug(slug)


def tenant_slug(session: Session) -> str:
    """The slug of the tenant a session is bound to (its transaction's search path)."""
    schema = session.info.get("tenant_schema") or session.scalar(text("select current_schema()"))
    if not schema or not schema.startswith(SCHEMA_PREFIX):
        raise InvalidInput("this session is not bound to a tenant", code="no_tenant")
    return schema[len(SCHEMA_PREFIX) :]
