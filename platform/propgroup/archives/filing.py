"""Records other capabilities keep become archive items by themselves: a paid request's vouchers
are original vouchers (原始凭证) of the unit, in the fiscal year it was paid."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from propgroup.approvals import service as approvals
from propgroup.approvals.models import ApprovalRequest
from propgroup.approvals.policy import ALL_REQUEST_TYPES
from propgroup.archives.models import ArchiveItem
from propgroup.archives.service import link_documents, new_item
from propgroup.identity.principals import SYSTEM

VOUCHER_CLASS = "original_voucher"


def file_paid_request(session: Session, request: ApprovalRequest) -> ArchiveItem | None:
    """Called by the engine when a request is paid, in the same transaction. A request without
    vouchers files nothing (its paper originals are catalogued by hand); filed once."""
    vouchers = approvals.vouchers_of(session, request)
    if not vouchers or session.scalar(
        select(ArchiveItem.id).where(
            ArchiveItem.source_type == "approval_request", ArchiveItem.source_id == request.id
        )
    ):
        return None
    kind = ALL_REQUEST_TYPES.get(request.request_type, request.request_type)
    item = new_item(
        session,
        SYSTEM,
        {
            "class_code": VOUCHER_CLASS,
            "unit_id": request.unit_id,
            "fiscal_year": approvals.today(session).year,
            "period": f"{approvals.today(session).month:02d}",
            "title": f"{kind} #{request.id} {request.title}"[:300],
        },
        source=("approval_request", request.id),
    )
    link_documents(session, SYSTEM, item, vouchers)
    return item
