"""HTML error pages for portal paths; JSON stays the answer for /api paths.

The Api object registers JSON handlers app-wide (DomainError, HTTPException, Exception). Portal
pages get theirs on the portal blueprint, which Flask consults before the app's. Unrouted paths
(404, 405) belong to no blueprint, so the app gets handlers for those two *codes*, which Flask
prefers to the Api's class-wide HTTPException handler; on /api paths they hand over to the Api's.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, jsonify, render_template
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from propgroup.api import error_body
from propgroup.db import unstorable_text
from propgroup.errors import DomainError
from propgroup.ops.request_id import current_request_id
from propgroup.portal.auth import is_api_request
from propgroup.portal.limits import retry_after_seconds

log = logging.getLogger(__name__)


def _titles() -> dict[int, str]:
    return {
        400: _("The request was not accepted"),
        401: _("Please sign in"),
        403: _("You may not see this page"),
        404: _("Page not found"),
        405: _("That action is not available here"),
        409: _("That conflicts with what is already there"),
        422: _("Please check what you entered"),
        429: _("Too many attempts"),
        503: _("Temporarily unavailable"),
    }


def _explanations() -> dict[int, str]:
    return {
        403: _("Your roles do not reach this unit. Ask your group administrator if you need it."),
        404: _("Check the address, or go back to the home page."),
        405: _("Use the buttons on the page instead of typing the address."),
    }


def render_error(status: int, *, message: str | None = None, detail: str | None = None):
    title = _titles().get(status, _("Something went wrong"))
    message = message or _explanations().get(status)
    body = render_template(
        "portal/error.html",
        status=status,
        title=title,
        message=message,
        detail=detail,
        request_id=current_request_id(),
    )
    return body, status


def handle_http_exception(error: HTTPException):
    if isinstance(error, RateLimitExceeded):
        return handle_rate_limited(error)
    if isinstance(error, CSRFError):
        return render_error(
            400,
            message=_(
                "The form was refused because its security token is missing or has expired. "
                "Nothing was changed. Reload the page and try again."
            ),
            detail=error.description,
        )
    status = error.code or 500
    detail = error.description if status not in (404, 405) else None
    return render_error(status, detail=detail)


def handle_rate_limited(error: RateLimitExceeded):
    retry_after = retry_after_seconds()
    minutes = max(1, -(-retry_after // 60)) if retry_after else None
    body = render_template("portal/locked.html", minutes=minutes, request_id=current_request_id())
    headers = {"Retry-After": str(retry_after)} if retry_after else {}
    return body, 429, headers


def handle_domain_error(error: DomainError):
    return render_error(error.status, detail=error.message)


def handle_unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return handle_http_exception(error)
    refused = unstorable_text(error)
    if refused is not None:
        session = g.get("tenant_db")
        if session is not None:
            session.rollback()  # the page's layout reads through it again
        return handle_domain_error(refused)
    log.exception("unhandled error on a portal page")
    # No layout: the layout reads the database, which may be what just failed.
    body = render_template("portal/error_500.html", request_id=current_request_id())
    return body, 500


def _api_json(error: HTTPException):
    """The Api's own JSON answer (or the same shape, if no Api is registered)."""
    apis = current_app.extensions.get("flask-smorest", {}).get("apis", {})
    for entry in apis.values():
        return entry["ext_obj"].handle_http_exception(error)
    response = jsonify(error_body((error.name or "error").lower().replace(" ", "_"), error.name))
    response.status_code = error.code or 500
    return response


def handle_unrouted(error: HTTPException):
    if is_api_request():
        return _api_json(error)
    g.setdefault("user", None)
    return handle_http_exception(error)


def register_error_pages(app: Flask) -> None:
    for code in (404, 405):
        app.register_error_handler(code, handle_unrouted)


def register_blueprint_error_pages(blueprint) -> None:
    blueprint.register_error_handler(HTTPException, handle_http_exception)
    blueprint.register_error_handler(DomainError, handle_domain_error)
    blueprint.register_error_handler(Exception, handle_unexpected)
