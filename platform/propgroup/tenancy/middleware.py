"""Binding each request to its tenant: path prefix in WSGI, lookup before the view runs."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, Response, g, request
from sqlalchemy.orm import Session

from propgroup.config import get_settings
from propgroup.db import engine_for, undo
from propgroup.errors import NotFound
from propgroup.tenancy import service
from propgroup.tenancy.models import Tenant
from propgroup.tenancy.resolution import resolve_slug, slug_from_host, split_path_prefix

PATH_SLUG_KEY = "propgroup.path_tenant"
# Set by identity (API token auth) once it knows which tenant a bearer token belongs to.
TOKEN_SLUG_KEY = "propgroup.token_tenant"  # noqa: S105 - an environ key, not a secret


class TenantPathPrefix:
    """Moves ``/t/<slug>`` from PATH_INFO to SCRIPT_NAME, so routes and url_for see one app."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        slug, rest = split_path_prefix(environ.get("PATH_INFO", ""))
        if slug is not None:
            environ[PATH_SLUG_KEY] = slug
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + f"/t/{slug}"
            environ["PATH_INFO"] = rest
        return self.app(environ, start_response)


# Registry rows change rarely; reading one per request costs a connection and a round trip.
# A suspension therefore takes effect within TENANT_CACHE_SECONDS in every web process.
TENANT_CACHE_SECONDS = 2.0
_tenants: dict[str, tuple[float, Tenant | None]] = {}


def _registry_row(slug: str) -> Tenant | None:
    now = time.monotonic()
    cached = _tenants.get(slug)
    if cached is None or cached[0] < now:
        cached = (now + TENANT_CACHE_SECONDS, service.find_tenant(control(), slug))
        _tenants[slug] = cached
    return cached[1]


def _bind_tenant() -> None:
    slug = resolve_slug(
        host_slug=slug_from_host(request.host, get_settings().base_domain),
        path_slug=request.environ.get(PATH_SLUG_KEY),
        header_slug=request.headers.get("X-Tenant"),
        token_slug=request.environ.get(TOKEN_SLUG_KEY),
    )
    g.tenant = service.usable_tenant(slug, _registry_row(slug)) if slug else None


def control():
    return engine_for(get_settings().database_url)


def current_tenant() -> Tenant:
    """The request's tenant; views of tenant data call this and get a 404 when there is none."""
    tenant = g.get("tenant")
    if tenant is None:
        raise NotFound(
            "no tenant in this request: use the group's subdomain or the /t/<slug>/ prefix",
            code="tenant_required",
        )
    return tenant


def tenant_db() -> Session:
    """The request's session on its tenant schema, opened on first use and closed at teardown."""
    if "tenant_db" not in g:
        tenant = current_tenant()
        g.tenant_db_cm = service.open_tenant_session(control(), tenant)
        g.tenant_db = g.tenant_db_cm.__enter__()
    return g.tenant_db


def _finish_unit_of_work(response: Response) -> Response:
    """One request, one transaction: kept when the response is a success, else undone."""
    session = g.get("tenant_db")
    if session is not None:
        if response.status_code < 400:
            session.commit()
        else:
            undo(session)
    return response


def _close_tenant_db(_exc: BaseException | None) -> None:
    manager = g.pop("tenant_db_cm", None)
    g.pop("tenant_db", None)
    if manager is not None:
        manager.__exit__(None, None, None)


def init_tenancy(app: Flask) -> None:
    app.wsgi_app = TenantPathPrefix(app.wsgi_app)  # type: ignore[method-assign]
    app.before_request(_bind_tenant)
    app.after_request(_finish_unit_of_work)
    app.teardown_request(_close_tenant_db)
