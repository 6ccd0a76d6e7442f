"""Approval jobs: tell the people who may decide a step, with approve and reject links."""

from __future__ import annotations

import os
from typing import Any

from sqlalchemy.orm import Session

from propgroup.approvals import service
from propgroup.approvals.links import DecisionLink, sign_link
from propgroup.approvals.models import ApprovalRequest
from propgroup.approvals.policy import ALL_REQUEST_TYPES, COUNTED_TYPES
from propgroup.approvals.words import amount_in_words
from propgroup.config import get_settings
from propgroup.jobs.registry import tenant_job
from propgroup.mail import send_mail
from propgroup.tenancy.slugs import tenant_slug


@tenant_job("approvals.remind_overdue")
def remind_overdue(session: Session, **_: Any) -> int:
    """Mail again (fresh links) whoever may decide a step that is past its due time."""
    tenant = tenant_slug(session)
    return sum(
        notify_step(
            session,
            tenant=tenant,
            request_id=request.id,
            revision=request.revision,
            step=request.current_step,
        )
        for request in service.overdue_requests(session)
    )


def _amount(request: ApprovalRequest) -> str:
    if request.request_type in COUNTED_TYPES:
        return f"件数：{request.total_amount:.0f} 件"
    return f"金额：¥{request.total_amount:,}（{amount_in_words(request.total_amount)}）"


def _link(tenant: str, token: str) -> str:
    base = os.environ.get("PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/")
    return f"{base}/t/{tenant}/approvals/email/{token}"


@tenant_job("approvals.notify_step")
def notify_step(
    session: Session, *, tenant: str, request_id: int, revision: int, step: int, **_: Any
) -> int:
    """Mail each person who may decide this step now; nothing if it has moved on meanwhile."""
    request = session.get(ApprovalRequest, request_id)
    if (
        request is None
        or request.status != "in_approval"
        or (request.revision, request.current_step) != (revision, step)
    ):
        return 0
    secret = get_settings().secret_key
    kind = ALL_REQUEST_TYPES.get(request.request_type, request.request_type)
    sent = 0
    for person in service.people_who_may_decide(session, request):
        links = {
            approve: _link(
                tenant,
                sign_link(
                    secret, DecisionLink(tenant, request.id, revision, step, person.id, approve)
                ),
            )
            for approve in (True, False)
        }
        send_mail(
            person.email,
            f"[PropGroup] 待审批 {kind} #{request.id}: {request.title}",
            f"{person.display_name}：\n\n"
            f"{kind} #{request.id}「{request.title}」等待您审批（第 {step} 步）。\n"
            f"{_amount(request)}\n"
            f"收款人：{request.payee}\n\n"
            f"同意 / Approve: {links[True]}\n退回 / Return: {links[False]}\n\n"
            "链接打开后需再次确认；72 小时内有效，仅可使用一次。\n"
            "Each link asks you to confirm, works once and expires after 72 hours.\n",
        )
        sent += 1
    return sent
