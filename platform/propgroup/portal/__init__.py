"""The web portal shell: sign-in by session cookie, CSRF on every form, lockout, zh_CN/en,
the layout with per-role navigation, htmx partials, HTML error pages.

``init_portal(app)`` runs after tenancy and API auth are set up: its before_request hooks need
``g.tenant``. API paths (``/api…``) keep bearer tokens, JSON errors and no CSRF.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

from flask import Flask, Request, current_app, g, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

from propgroup.config import get_settings
from propgroup.portal.auth import is_api_path, is_api_request, load_signed_in_user
from propgroup.portal.formatting import cny, local_date, local_time
from propgroup.portal.i18n import (
    DEFAULT_LOCALE,
    HTML_LANG,
    LANGUAGES,
    TRANSLATIONS,
    kind_label,
    role_label,
    select_locale,
)
from propgroup.portal.limits import limiter, storage_uri


class _PortalSessions(SecureCookieSessionInterface):
    """The signed session cookie, for the portal only: the API authenticates every request by
    its bearer token, so it neither reads nor renews the cookie."""

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if is_api_path(request.path):
            return None  # Flask's read-only null session
        return super().open_session(app, request)


def _configure(app: Flask) -> None:
    config = app.config
    # Secure outside debug (browsers accept it on http://127.0.0.1 and localhost too);
    # PORTAL_SECURE_COOKIE overrides, e.g. for plain http on another host name.
    secure = config.get("PORTAL_SECURE_COOKIE", not app.debug)
    config.update(
        SESSION_COOKIE_NAME="pg_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        BABEL_DEFAULT_LOCALE=DEFAULT_LOCALE,
        BABEL_TRANSLATION_DIRECTORIES=str(TRANSLATIONS),
        # Checked by _protect_pages below, only for portal paths: the API uses bearer tokens.
        WTF_CSRF_CHECK_DEFAULT=False,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),  # idle sessions end; each request renews
        # Sign-in must work while Redis is away: the lockout then falls back to this process.
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
    )
    redis_url = get_settings().redis_url
    config.setdefault("RATELIMIT_STORAGE_URI", storage_uri(redis_url) if redis_url else "memory://")


def _protect_pages() -> None:
    """CSRF for every unsafe request to a routed portal path (404/405 stay 404/405)."""
    if is_api_request() or request.url_rule is None:
        return
    current_app.extensions["csrf"].protect()


def _navigation() -> list[Any]:
    """Called by the layout only, so pages without it (the 500 page) read no database."""
    from propgroup.portal.nav import nav_items
    from propgroup.tenancy.middleware import tenant_db

    user = g.get("user")
    return nav_items(tenant_db(), g.principal, user) if user is not None else []


def _template_context() -> dict[str, Any]:
    locale = select_locale()
    return {
        "current_user": g.get("user"),
        "current_tenant": g.get("tenant"),
        "navigation": _navigation,
        "current_language": locale,
        "html_lang": HTML_LANG[locale],
        "languages": LANGUAGES,
        "role_label": role_label,
        "kind_label": kind_label,
        "local_time": local_time,
        "local_date": local_date,
    }


@cache
def _nest_capability_pages() -> None:
    """Page modules of capabilities, nested under the portal blueprint (endpoints
    ``portal.<name>.*``) like identity's, so they share its layout, CSRF, headers and error pages.

    A blueprint takes no more setup once an app registered it, and the portal blueprint lives as
    long as the process, so this runs once per process (tests build several apps).
    """
    from propgroup.approvals.views import bp as approvals_bp
    from propgroup.archives.views import bp as archives_bp
    from propgroup.banking.views import bp as banking_bp
    from propgroup.budgets.views import bp as budgets_bp
    from propgroup.cashdesk.views import bp as cashdesk_bp
    from propgroup.fundreport.views import bp as fundreport_bp
    from propgroup.portal.views import bp
    from propgroup.reconciliation.views import bp as reconciliation_bp

    bp.register_blueprint(approvals_bp)
    bp.register_blueprint(archives_bp)
    bp.register_blueprint(banking_bp)
    bp.register_blueprint(budgets_bp)
    bp.register_blueprint(cashdesk_bp)
    bp.register_blueprint(fundreport_bp)
    bp.register_blueprint(reconciliation_bp)


def _init_limiter(app: Flask) -> None:
    """The limiter, for portal pages only: limits are declared on portal views (sign-in, password
    change), whose wrappers check them. Its app-wide check looks for default limits, of which
    there are none, so it is dropped; its after-request hook (counting a limited view's failures)
    and teardown (forgetting the request's limit state) run for the portal's requests alone."""
    tables = (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs)
    earlier = [list(table[None]) for table in tables]
    limiter.init_app(app)
    for table, hooks in zip(tables, earlier, strict=True):
        added = [hook for hook in table[None] if hook not in hooks]
        table[None] = hooks
        if table is not app.before_request_funcs:
            table["portal"] = [*table.get("portal", []), *added]


def init_portal(app: Flask) -> None:
    from propgroup.portal.errors import register_error_pages
    from propgroup.portal.views import bp

    _nest_capability_pages()
    _configure(app)
    app.session_interface = _PortalSessions()
    Babel(app, locale_selector=select_locale)
    CSRFProtect(app)
    app.before_request(_protect_pages)
    app.before_request(load_signed_in_user)
    _init_limiter(app)  # after the user is loaded: the password limit is keyed by user
    app.jinja_env.filters["cny"] = cny
    app.context_processor(_template_context)
    app.register_blueprint(bp)
    register_error_pages(app)
