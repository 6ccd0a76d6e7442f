"""Request types another capability raises for a record of its own (a budget plan's version, a
destruction list of archives), and the capabilities told when a request is paid.

The engine runs their chains like any other request's, but nobody raises or edits them by hand
and nothing is paid: the owning capability writes them, and is told in the same transaction when
one is approved, returned or withdrawn. Owners are named as ``module:function`` so approvals
never imports the capabilities built on top of it.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from sqlalchemy.orm import Session

from propgroup.approvals.models import ApprovalRequest

_OWNERS = {
    "budget_plan": "propgroup.budgets.service:plan_request_settled",
    "destruction_list": "propgroup.archives.destruction:list_request_settled",
    "bank_account": "propgroup.banking.settle:account_request_settled",
}
# Who wrote the subject (drafted, revised, submitted it) besides the engine's requester: they
# do not decide it either (R-APR-3).
_AUTHORS = {"bank_account": "propgroup.banking.lifecycle:authors_of"}
# Told of every payment, in the payment's transaction: a paid request's vouchers are archived.
_ON_PAID = ("propgroup.archives.filing:file_paid_request",)


def by_name(reference: str) -> Any:
    """``module:attribute``, imported when first needed."""
    module, attribute = reference.split(":")
    return getattr(import_module(module), attribute)


def tell_owner(session: Session, request: ApprovalRequest) -> None:
    """Hand a subject request's outcome (approved, rejected, withdrawn) to its capability."""
    owner = _OWNERS.get(request.request_type)
    if owner is not None:
        by_name(owner)(session, request)


def authors(session: Session, request: ApprovalRequest) -> set[int]:
    reference = _AUTHORS.get(request.request_type)
    return set(by_name(reference)(session, request)) if reference else set()


def tell_paid(session: Session, request: ApprovalRequest) -> None:
    for reference in _ON_PAID:
        by_name(reference)(session, request)
