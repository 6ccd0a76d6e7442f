"""Refusals are decisions too: every 401, 403 and 429 on a tenant is audited.

The request's own transaction is rolled back on an error status, so the event is written in a
transaction of its own. A failing audit write is logged and never turns the refusal into a 500.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, g, request
from sqlalchemy.exc import SQLAlchemyError

from propgroup.audit.service import record
from propgroup.identity.principals import Principal
from propgroup.ops.request_id import current_request_id
from propgroup.tenancy import service as tenancy
from propgroup.tenancy.middleware import control

log = logging.getLogger(__name__)
AUDITED_REFUSALS = (401, 403, 429)


def _who() -> Principal:
    return g.get("principal") or Principal(
        kind="anonymous",
        id=None,
        name=request.remote_addr or "unknown",
        request_id=current_request_id(),
    )


def record_refusal(response: Response) -> Response:
    tenant = g.get("tenant")
    if response.status_code not in AUDITED_REFUSALS or tenant is None:
        return response
    body = response.get_json(silent=True) if response.is_json else None
    details = {
        "status": response.status_code,
        "method": request.method,
        "path": request.path,
        "code": (body or {}).get("code"),
        "login": request.form.get("login")
        if request.endpoint and "login" in request.endpoint
        else None,
    }
    try:
        with tenancy.open_tenant_session(control(), tenant) as session:
            record(session, _who(), "security.refused", "request", None, after=details)
            session.commit()
    except SQLAlchemyError:
        log.warning(
            "could not audit a refusal of %s %s", request.method, request.path, exc_info=True
        )
    return response


def init_refusal_audit(app: Flask) -> None:
    app.after_request(record_refusal)
