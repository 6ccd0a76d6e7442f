"""Who is signed in to the portal: a signed session cookie naming tenant, user and credential stamp.

The cookie holds ``{"tenant": slug, "uid": id, "stamp": credential_stamp}``. It is void when it
names another tenant than the request's, an inactive user, or a stamp from an older password, so a
password change signs out every other browser. API paths never look at it: they use bearer tokens.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Response, g, redirect, request, session, url_for

from propgroup.errors import Unauthorized
from propgroup.identity import service as identity
from propgroup.identity.models import User
from propgroup.ops.request_id import current_request_id
from propgroup.portal.i18n import LANGUAGE_KEY
from propgroup.tenancy.middleware import current_tenant, tenant_db
from propgroup.tenancy.models import Tenant

AUTH_KEY = "auth"


def is_api_path(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def is_api_request() -> bool:
    return is_api_path(request.path)


def is_page_request() -> bool:
    """A portal page (not the JSON API, not a static file, not an unrouted path)."""
    endpoint = request.endpoint or ""
    return not is_api_request() and endpoint != "static" and not endpoint.endswith(".static")


def is_partial_request() -> bool:
    """An htmx swap (not a boosted link, not a history restore, which wants the whole page)."""
    headers = request.headers
    return bool(
        headers.get("HX-Request")
        and not headers.get("HX-Boosted")
        and not headers.get("HX-History-Restore-Request")
    )


def load_signed_in_user() -> None:
    """before_request: ``g.user`` and ``g.principal`` from the session cookie (pages only)."""
    if not is_page_request():
        return
    g.user = None
    g.pop("principal", None)  # pages authenticate by the session only, never by a bearer token
    tenant = g.get("tenant")
    auth = session.get(AUTH_KEY)
    if tenant is None or not isinstance(auth, dict) or auth.get("tenant") != tenant.slug:
        return
    try:
        user = identity.get_user(tenant_db(), int(auth["uid"]))
    except (Unauthorized, KeyError, TypeError, ValueError):
        session.pop(AUTH_KEY, None)
        return
    if not hmac.compare_digest(str(auth.get("stamp", "")), identity.credential_stamp(user)):
        session.pop(AUTH_KEY, None)  # the password changed since this cookie was issued
        return
    g.user = user
    g.principal = identity.user_principal(user, current_request_id())


def sign_in(tenant: Tenant, user: User) -> None:
    """A fresh session (new CSRF token too); only the language choice survives."""
    language = session.get(LANGUAGE_KEY)
    session.clear()
    if language:
        session[LANGUAGE_KEY] = language
    session[AUTH_KEY] = {
        "tenant": tenant.slug,
        "uid": user.id,
        "stamp": identity.credential_stamp(user),
    }
    session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME without a request
    g.user = user
    g.principal = identity.user_principal(user, current_request_id())


def refresh_stamp(user: User) -> None:
    """After a password change: keep this browser signed in, every other one is now signed out."""
    auth = dict(session.get(AUTH_KEY) or {})
    auth["stamp"] = identity.credential_stamp(user)
    session[AUTH_KEY] = auth


def sign_out() -> None:
    language = session.get(LANGUAGE_KEY)
    session.clear()
    if language:
        session[LANGUAGE_KEY] = language
    g.user = None
    g.pop("principal", None)


def safe_next(target: str | None) -> str | None:
    """A path inside this tenant's portal (relative to the script root), or None.

    Anything with a scheme, a host, ``//`` or a backslash is refused: no open redirect.
    """
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def redirect_within_tenant(target: str | None, fallback_endpoint: str = "portal.home") -> Response:
    path = safe_next(target)
    if path is None:
        return redirect(url_for(fallback_endpoint), code=303)
    return redirect(request.script_root + path, code=303)


def current_path() -> str:
    """This request's path and query relative to the tenant prefix, for ``next``."""
    full = request.full_path
    return full[:-1] if full.endswith("?") else full


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Signed out: a redirect to this tenant's login page (for htmx, ``HX-Redirect`` with 401)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            current_tenant()  # no tenant in the address: 404, not a login page
            target = url_for("portal.identity.login", next=current_path())
            if request.headers.get("HX-Request"):
                response = Response(status=401)
                response.headers["HX-Redirect"] = target
                return response
            return redirect(target)
        return view(*args, **kwargs)

    return wrapped
