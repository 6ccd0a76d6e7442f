"""Which tenant a request is for: subdomain, else ``/t/<slug>/``, else the API token's tenant.

Pure functions over the request's parts, so the rule is tested without a server.
"""

from __future__ import annotations

import re

from propgroup.errors import DomainError, Forbidden, NotFound
from propgroup.tenancy.slugs import SLUG_PATTERN

PATH_PREFIX = re.compile(r"^/t/([^/]+)(/.*)?$")


class Conflicting(DomainError):
    status = 400
    code = "conflicting_tenant"


def slug_from_host(host: str | None, base_domain: str | None) -> str | None:
    """``acme.example.com`` → ``acme`` when the base domain is ``example.com``.

    DNS labels cannot hold ``_``, so a hyphen in the label stands for an underscore in the slug.
    """
    if not host or not base_domain:
        return None
    hostname = host.rsplit(":", 1)[0].lower().rstrip(".")
    suffix = "." + base_domain.lower().strip(".")
    if not hostname.endswith(suffix):
        return None
    label = hostname[: -len(suffix)]
    if not label or "." in label or label == "www":
        return None
    return label.replace("-", "_")


def split_path_prefix(path: str) -> tuple[str | None, str]:
    """``/t/acme/api/x`` → (``acme``, ``/api/x``); other paths are returned unchanged."""
    match = PATH_PREFIX.match(path)
    if not match:
        return None, path
    return match.group(1), match.group(2) or "/"


def resolve_slug(
    *,
    host_slug: str | None,
    path_slug: str | None,
    header_slug: str | None,
    token_slug: str | None,
) -> str | None:
    """The one tenant named by the request, or None if it names none.

    Host and path must agree. ``X-Tenant`` counts only beside a token that names a tenant (API
    clients); the token wins, and any other tenant named alongside it is a 403.
    """
    if host_slug and path_slug and host_slug != path_slug:
        raise Conflicting("the host and the /t/<slug>/ prefix name different tenants")
    named = host_slug or path_slug
    if token_slug:
        for other in (named, header_slug):
            if other and other != token_slug:
                raise Forbidden("this token belongs to another tenant", code="tenant_mismatch")
    slug = named or token_slug
    if slug is not None and not SLUG_PATTERN.fullmatch(slug):
        raise NotFound(f"tenant {slug[:60]!r} does not exist", code="unknown_tenant")
    return slug
