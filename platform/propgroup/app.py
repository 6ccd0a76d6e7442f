"""The Flask application factory."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from propgroup import __version__
from propgroup.api import Api
from propgroup.api.jsonio import DecimalJSONProvider
from propgroup.config import get_settings


class PropGroupFlask(Flask):
    """Flask, asking once per function whether it is async.

    Flask asks ``inspect.iscoroutinefunction`` of every hook and the view on every request, 17
    times for an API read; a function's answer never changes.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync_functions: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        sync = self._sync_functions.get(func)
        if sync is None:
            sync = self._sync_functions[func] = super().ensure_sync(func)
        return sync


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    settings = get_settings()
    app = PropGroupFlask(__name__)
    app.json = DecimalJSONProvider(app)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        API_TITLE="PropGroup API",
        API_VERSION=__version__,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        OPENAPI_SWAGGER_UI_URL="https://cdn.jsdelivr.net/npm/swagger-ui-dist/",
        JSON_SORT_KEYS=False,
    )
    app.config.update(overrides or {})

    from propgroup.api.auth import init_api_auth_after_tenancy, init_api_auth_before_tenancy
    from propgroup.approvals.api import blp as approvals_api
    from propgroup.archives.api import blp as archives_api
    from propgroup.audit.web import init_refusal_audit
    from propgroup.banking.api import blp as banking_api
    from propgroup.budgets.api import blp as budgets_api
    from propgroup.cashdesk.api import blp as cashdesk_api
    from propgroup.fundreport.api import blp as fundreport_api
    from propgroup.jobs.api import blp as jobs_api
    from propgroup.ops.api import blp as health
    from propgroup.ops.request_id import init_request_id
    from propgroup.org.api import blp as org_api
    from propgroup.reconciliation.api import blp as reconciliation_api
    from propgroup.storage.api import blp as documents_api
    from propgroup.tenancy.api import blp as tenant_api
    from propgroup.tenancy.middleware import init_tenancy

    # Order matters: request id, then the token's tenant claim, then resolution, then the token.
    init_request_id(app)
    init_api_auth_before_tenancy(app)
    init_tenancy(app)
    init_api_auth_after_tenancy(app)
    init_refusal_audit(app)
    from propgroup.portal import init_portal

    init_portal(app)  # portal pages: session sign-in, CSRF, i18n, HTML errors (not /api)
    app.register_blueprint(health)
    api = Api(app)
    api.register_blueprint(tenant_api)
    api.register_blueprint(org_api)
    api.register_blueprint(jobs_api)
    api.register_blueprint(documents_api)
    api.register_blueprint(approvals_api)
    api.register_blueprint(budgets_api)
    api.register_blueprint(archives_api)
    api.register_blueprint(cashdesk_api)
    api.register_blueprint(fundreport_api)
    api.register_blueprint(banking_api)
    api.register_blueprint(reconciliation_api)
    return app
