"""Deciding from an e-mail link: the link opens a confirmation page (GET changes nothing); the
page's form decides, as the person the link was sent to. No sign-in: the signed, expiring,
single-step link is the credential, which is why it only ever works for that one decision."""

from __future__ import annotations

from flask import g, render_template, request

from propgroup.approvals import service as approvals
from propgroup.approvals.links import DecisionLink, read_link
from propgroup.approvals.models import ApprovalRequest
from propgroup.approvals.views import bp, refusal_message, words_for
from propgroup.config import get_settings
from propgroup.errors import Conflict, DomainError
from propgroup.identity import service as identity
from propgroup.ops.request_id import current_request_id
from propgroup.tenancy.middleware import current_tenant, tenant_db

COMMENT_MAX = 1000


def _open(token: str) -> tuple[DecisionLink, ApprovalRequest]:
    session = tenant_db()
    link = read_link(get_settings().secret_key, token, current_tenant().slug)
    req = session.get(ApprovalRequest, link.request_id)
    person = identity.get_user(session, link.user_id)
    g.principal = identity.user_principal(person, current_request_id())
    if req is None or (req.status, req.revision, req.current_step) != (
        "in_approval",
        link.revision,
        link.step,
    ):
        raise Conflict(
            "this step has been decided already, or the request has changed since this "
            "mail was sent; open it in the portal",
            code="link_used",
        )
    return link, req


def _page(template: str, token: str, *, status: int = 200, error: str | None = None, **extra):
    return render_template(template, token=token, error=error, **extra), status


@bp.get("/email/<token>")
def email_confirm(token: str):
    try:
        link, req = _open(token)
    except DomainError as error:
        return _page(
            "approvals/email_done.html", token, status=error.status, error=refusal_message(error)
        )
    steps = approvals.steps_of(tenant_db(), req, req.revision)
    return _page(
        "approvals/email_confirm.html",
        token,
        link=link,
        req=req,
        step=steps[link.step - 1],
        words=words_for(req),
    )


@bp.post("/email/<token>")
def email_decide(token: str):
    comment = (request.form.get("comment") or "").strip()[:COMMENT_MAX] or None
    try:
        link, req = _open(token)
        approvals.decide(
            tenant_db(), g.principal, req.id, step=link.step, approve=link.approve, comment=comment
        )
    except DomainError as error:
        return _page(
            "approvals/email_done.html", token, status=error.status, error=refusal_message(error)
        )
    return _page("approvals/email_done.html", token, req=req, approved=link.approve)
