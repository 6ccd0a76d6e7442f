"""Read-only questions the portal asks about approvals: what waits for whom, who may pay, names.

Plain functions over a Session, no Flask. "Waiting for me" mirrors the checks of
``service.decide`` so the inbox never offers a step the engine would refuse: the request is in
approval; its current step's role is held by me at the step's unit or above, or by someone who
delegated to me for today and this request type (R-APR-5); it is not my own request, and neither I
nor that delegator decided another step of this revision (R-APR-3).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, Select, and_, any_, exists, false, func, not_, or_, select
from sqlalchemy.orm import Session, aliased

from propgroup.approvals import deadlines, service
from propgroup.approvals.models import (
    ApprovalRequest,
    Delegation,
    Payment,
    PolicyVersion,
    RequestStep,
)
from propgroup.approvals.policy import SUBJECT_TYPES
from propgroup.db import BIGINT_MAX
from propgroup.errors import Forbidden
from propgroup.identity.authz import holds_role, visible_units
from propgroup.identity.models import RoleAssignment, User
from propgroup.identity.principals import Principal
from propgroup.org import service as org
from propgroup.org.models import OrgUnit

_current = aliased(RequestStep, name="current_step")
_step_unit = aliased(OrgUnit, name="step_unit")


def _holds_current_role(user_id: ColumnElement[int] | int) -> ColumnElement[bool]:
    """``user_id`` holds the current step's role at the step's unit or above it."""
    held_at = aliased(OrgUnit, name="held_at")
    return exists(
        select(RoleAssignment.id)
        .join(held_at, held_at.id == RoleAssignment.unit_id)
        .where(
            RoleAssignment.user_id == user_id,
            RoleAssignment.role == _current.role,
            _step_unit.path.startswith(held_at.path),
        )
        .correlate_except(RoleAssignment, held_at)  # the step may sit two queries out
    )


def _decided_a_step(user_id: ColumnElement[int] | int) -> ColumnElement[bool]:
    """``user_id`` decided (or was acted for on) a step of the request's current revision."""
    decided = aliased(RequestStep, name="decided")
    return exists(
        select(decided.id)
        .where(
            decided.request_id == ApprovalRequest.id,
            decided.revision == ApprovalRequest.revision,
            decided.status != "pending",
            or_(decided.decided_by == user_id, decided.acting_for == user_id),
        )
        .correlate_except(decided)
    )


def _delegated_to(user_id: int, day: date) -> ColumnElement[bool]:
    return exists(
        select(Delegation.id).where(
            Delegation.delegate_id == user_id,
            Delegation.starts_on <= day,
            Delegation.ends_on >= day,
            or_(
                Delegation.request_types.is_(None),
                ApprovalRequest.request_type == any_(Delegation.request_types),
            ),
            Delegation.delegator_id != ApprovalRequest.requester_id,
            _holds_current_role(Delegation.delegator_id),
            not_(_decided_a_step(Delegation.delegator_id)),
        )
    )


def waiting_for(session: Session, principal: Principal) -> Select[tuple[ApprovalRequest]]:
    """Requests whose current step this person may decide now, oldest submission first."""
    if principal.kind != "user" or principal.id is None:
        return select(ApprovalRequest).where(false())  # decisions are made by people only
    me = principal.id
    return (
        select(ApprovalRequest)
        .join(
            _current,
            and_(
                _current.request_id == ApprovalRequest.id,
                _current.revision == ApprovalRequest.revision,
                _current.seq == ApprovalRequest.current_step,
            ),
        )
        .join(_step_unit, _step_unit.id == _current.unit_id)
        .where(
            ApprovalRequest.status == "in_approval",
            ApprovalRequest.requester_id != me,
            not_(_decided_a_step(me)),
            # Holding the role oneself comes first (service._acting_as): then no delegation counts.
            or_(_holds_current_role(me), _delegated_to(me, service.today(session))),
        )
        .order_by(ApprovalRequest.submitted_at, ApprovalRequest.id)
    )


def count_waiting(session: Session, principal: Principal) -> int:
    waiting = waiting_for(session, principal).order_by(None).subquery()
    return session.scalar(select(func.count()).select_from(waiting)) or 0


def is_waiting_for(session: Session, principal: Principal, request: ApprovalRequest) -> bool:
    query = waiting_for(session, principal).where(ApprovalRequest.id == request.id).order_by(None)
    return bool(session.scalar(select(exists(query))))


def acting_for(session: Session, principal: Principal, request: ApprovalRequest) -> User | None:
    """Whom ``principal`` would sign for on the current step: None when the role is their own."""
    step = current_step(session, request)
    if step is None or principal.id is None:
        return None
    unit = org.get_unit(session, step.unit_id)
    if holds_role(session, principal.id, step.role, unit):
        return None
    day = service.today(session)
    delegators = session.scalars(
        select(Delegation.delegator_id).where(
            Delegation.delegate_id == principal.id,
            Delegation.starts_on <= day,
            Delegation.ends_on >= day,
            or_(
                Delegation.request_types.is_(None),
                request.request_type == any_(Delegation.request_types),
            ),
        )
    )
    for delegator_id in delegators:
        if holds_role(session, delegator_id, step.role, unit):
            return session.get(User, delegator_id)
    return None


def took_part(session: Session, principal: Principal, request: ApprovalRequest) -> bool:
    """``principal`` signed a step of the request (any revision), e.g. as a stand-in."""
    query = select(RequestStep.id).where(
        RequestStep.request_id == request.id, RequestStep.decided_by == principal.id
    )
    return bool(session.scalar(select(exists(query))))


def readable(session: Session, principal: Principal, request_id: int) -> ApprovalRequest:
    """``service.read_request``, widened to stand-ins (R-APR-5): who is asked to decide a step,
    or signed one, may read that request even without roles at its unit."""
    if not 0 < request_id <= BIGINT_MAX:
        raise service.request_not_found(request_id)
    try:
        return service.read_request(session, principal, request_id)
    except Forbidden:
        request = session.get(ApprovalRequest, request_id)
        if (
            request is not None
            and principal.kind == "user"
            and (
                is_waiting_for(session, principal, request)
                or took_part(session, principal, request)
            )
        ):
            return request
        raise


def current_step(session: Session, request: ApprovalRequest) -> RequestStep | None:
    if request.status != "in_approval" or request.current_step is None:
        return None
    return session.scalar(
        select(RequestStep).where(
            RequestStep.request_id == request.id,
            RequestStep.revision == request.revision,
            RequestStep.seq == request.current_step,
        )
    )


def payment_of(session: Session, request: ApprovalRequest) -> Payment | None:
    """The payment that stands (one undone with its cheque is history)."""
    return session.scalar(
        select(Payment).where(Payment.request_id == request.id, Payment.reversed_at.is_(None))
    )


def payer_of(session: Session, request: ApprovalRequest) -> tuple[str, OrgUnit] | None:
    """The role and unit that pays this request under the policy it was submitted with."""
    if request.policy_version_id is None:
        return None
    version = session.get(PolicyVersion, request.policy_version_id)
    payer = version.document["payer"]
    # The engine's own resolver (a private helper), so the page never disagrees with ``pay``.
    unit = service.unit_at(session, org.get_unit(session, request.unit_id), payer)
    return payer["role"], unit


def may_pay(session: Session, principal: Principal, request: ApprovalRequest) -> bool:
    """The checks of ``service.pay`` that depend on the person (R-APR-6, R-ORG-3)."""
    if request.status != "approved" or principal.kind != "user":
        return False
    if request.request_type in SUBJECT_TYPES:  # approved is where a budget plan ends
        return False
    if principal.id == request.requester_id:
        return False
    payer = payer_of(session, request)
    if payer is None or not holds_role(session, principal.id, payer[0], payer[1]):
        return False
    steps = service.steps_of(session, request, request.revision)
    return all(step.decided_by != principal.id for step in steps)


def reportable_advances(
    session: Session, principal: Principal, keep: ApprovalRequest | None = None
) -> list[ApprovalRequest]:
    """The principal's paid advances that no live claim reports yet (``keep``'s own stays)."""
    claimed = deadlines.claims_naming(
        ApprovalRequest.id, but_not=keep.id if keep is not None else None
    ).exists()
    return list(
        session.scalars(
            select(ApprovalRequest)
            .where(
                ApprovalRequest.requester_id == principal.id,
                ApprovalRequest.request_type == "advance",
                ApprovalRequest.status == "paid",
                ~claimed,
            )
            .order_by(ApprovalRequest.id)
        )
    )


def writable_units(session: Session, principal: Principal) -> list[OrgUnit]:
    """Active branches, regions and HQ where ``principal`` may raise a request."""
    return list(
        session.scalars(
            select(OrgUnit)
            .where(
                visible_units(session, principal, "approvals:write"),
                OrgUnit.kind != "department",
                OrgUnit.active,
            )
            .order_by(OrgUnit.path, OrgUnit.id)
        )
    )


def users_by_id(session: Session, ids: Iterable[int | None]) -> dict[int, User]:
    wanted = {user_id for user_id in ids if user_id is not None}
    if not wanted:
        return {}
    return {user.id: user for user in session.scalars(select(User).where(User.id.in_(wanted)))}


def units_by_id(session: Session, ids: Iterable[int | None]) -> dict[int, OrgUnit]:
    wanted = {unit_id for unit_id in ids if unit_id is not None}
    if not wanted:
        return {}
    return {
        unit.id: unit for unit in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(wanted)))
    }


def current_steps(session: Session, requests: Iterable[ApprovalRequest]) -> dict[int, RequestStep]:
    """The current step of each request in approval, by request id (one query for a list)."""
    in_approval = [r for r in requests if r.status == "in_approval" and r.current_step]
    if not in_approval:
        return {}
    steps = session.scalars(
        select(RequestStep).where(
            or_(
                *(
                    and_(
                        RequestStep.request_id == r.id,
                        RequestStep.revision == r.revision,
                        RequestStep.seq == r.current_step,
                    )
                    for r in in_approval
                )
            )
        )
    )
    return {step.request_id: step for step in steps}


@dataclass(frozen=True)
class DelegationRow:
    delegation: Delegation
    delegator: User
    delegate: User


def delegations_of(session: Session, principal: Principal) -> list[DelegationRow]:
    """Delegations this person gave or received, latest first."""
    rows = list(
        session.scalars(
            select(Delegation)
            .where(
                or_(Delegation.delegator_id == principal.id, Delegation.delegate_id == principal.id)
            )
            .order_by(Delegation.starts_on.desc(), Delegation.id.desc())
            .limit(100)
        )
    )
    people = users_by_id(session, [d.delegator_id for d in rows] + [d.delegate_id for d in rows])
    return [DelegationRow(d, people[d.delegator_id], people[d.delegate_id]) for d in rows]
