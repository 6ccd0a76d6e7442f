"""R-CASH-3, reporting on time (现金报销应做到及时, §10.1.1.9): money taken for business in town
(市内办事) is reported within 3 days after the business ends (事毕), for business away (外埠办事)
within 5. An expense claim sent later is flagged late; a paid advance that no expense claim has
reported by then is overdue.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.orm import aliased

from propgroup.approvals.models import BUSINESS_KINDS, ApprovalRequest
from propgroup.errors import InvalidInput

REPORT_DAYS = {"local": 3, "travel": 5}
# How far a business day may lie from today: a typo (2062 for 2026) is refused, not tracked.
BUSINESS_DAYS_BACK, BUSINESS_DAYS_AHEAD = 3650, 366
# A settling claim in these states has reported the advance; a draft or a returned one has not.
REPORTING_STATUSES = ("in_approval", "approved", "paid")
DATED_TYPES = ("expense_claim", "advance")


def report_due_on(kind: str | None, ended_on: date | None) -> date | None:
    if kind is None or ended_on is None:
        return None
    return ended_on + timedelta(days=REPORT_DAYS[kind])


def check_business(request_type: str, kind: str | None, ended_on: date | None, day: date) -> None:
    """The business a request is for: required on an advance, optional on an expense claim
    (both parts or neither), meaningless on a supplier payment."""
    if kind is not None and kind not in BUSINESS_KINDS:
        raise InvalidInput(
            f"business_kind is one of {list(BUSINESS_KINDS)}", code="bad_business_kind"
        )
    if request_type not in DATED_TYPES:
        if kind or ended_on:
            raise InvalidInput(
                "only expense claims and advances carry a business date", code="bad_business"
            )
        return
    if (kind is None) != (ended_on is None):
        raise InvalidInput(
            "give both the kind of business and the day it ends, or neither", code="bad_business"
        )
    if request_type == "advance" and kind is None:
        raise InvalidInput(
            "an advance names the business it is for and the day it ends (R-CASH-3)",
            code="business_required",
        )
    if ended_on is not None and not (
        day - timedelta(days=BUSINESS_DAYS_BACK)
        <= ended_on
        <= day + timedelta(days=BUSINESS_DAYS_AHEAD)
    ):
        raise InvalidInput(
            "the day the business ends is more than ten years ago or a year ahead",
            code="business_out_of_range",
        )
    if request_type == "expense_claim" and ended_on is not None and ended_on > day:
        raise InvalidInput(
            "an expense claim reports business that has ended: the day is in the future",
            code="business_not_ended",
        )


def _due(kind: ColumnElement[str], ended_on: ColumnElement[date], day: date) -> ColumnElement:
    """SQL: the report was due before ``day``."""
    return ((kind == "local") & (ended_on < day - timedelta(days=REPORT_DAYS["local"]))) | (
        (kind == "travel") & (ended_on < day - timedelta(days=REPORT_DAYS["travel"]))
    )


def claims_naming(
    advance_id: int | ColumnElement[int],
    *,
    reporting: bool = False,
    but_not: int | None = None,
) -> Select[tuple[int]]:
    """SQL: the ids of the expense claims that name an advance, except withdrawn ones (one live
    claim per advance), or only those that have reported it (``reporting``)."""
    claim = aliased(ApprovalRequest)
    query = select(claim.id).where(claim.settles_request_id == advance_id)
    if reporting:
        query = query.where(claim.status.in_(REPORTING_STATUSES))
    else:
        query = query.where(claim.status != "withdrawn")
    if but_not is not None:
        query = query.where(claim.id != but_not)
    return query


def overdue_advance(day: date) -> ColumnElement[bool]:
    """SQL over ``ApprovalRequest``: a paid advance, past its report day, that no claim reports."""
    return and_(
        ApprovalRequest.request_type == "advance",
        ApprovalRequest.status == "paid",
        _due(ApprovalRequest.business_kind, ApprovalRequest.business_ended_on, day),
        ~claims_naming(ApprovalRequest.id, reporting=True).exists(),
    )
