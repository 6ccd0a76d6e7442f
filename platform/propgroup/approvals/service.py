"""The approval lifecycle (R-APR-1…8): draft → in approval (step k of n) → approved → paid;
rejected back to the requester, who may resubmit a new revision; withdrawn.

Every state change locks the request row first, so two approvers acting at once (or one
double-clicking) produce one decision and a 409 for the other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import (
    Row,
    and_,
    any_,
    bindparam,
    case,
    delete,
    func,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from propgroup.approvals import deadlines
from propgroup.approvals.budget import budget_checker
from propgroup.approvals.models import (
    ApprovalRequest,
    Delegation,
    Payment,
    PolicyVersion,
    RequestLine,
    RequestStep,
)
from propgroup.approvals.policy import (
    ALL_REQUEST_TYPES,
    DEFAULT_STEP_DAYS,
    REQUEST_TYPES,
    SUBJECT_TYPES,
    parse_policy,
    rule_for,
    stored_form,
)
from propgroup.approvals.sla import due_after
from propgroup.approvals.subjects import authors, tell_owner, tell_paid
from propgroup.approvals.words import words_match
from propgroup.audit.service import record
from propgroup.db import BIGINT_MAX
from propgroup.errors import Conflict, Forbidden, InvalidInput, NotFound
from propgroup.identity.authz import authorize, holds_role, role_held, visible_units
from propgroup.identity.models import RoleAssignment, User
from propgroup.identity.principals import SYSTEM, Principal
from propgroup.jobs.service import OUTBOX_INSERT, enqueue, outbox_params
from propgroup.money import to_money
from propgroup.org import service as org
from propgroup.org.models import OrgUnit
from propgroup.storage import service as storage
from propgroup.storage.blobstore import BlobStore, ReadableStream
from propgroup.storage.models import Document
from propgroup.tenancy.settings import tenant_zone
from propgroup.tenancy.slugs import tenant_slug

PAYMENT_METHODS = ("cash", "transfer", "cheque")
# The requester changes and (re)submits a request while it is a draft or returned to them.
REVISABLE_STATUSES = ("draft", "rejected")


def _may_act(principal: Principal) -> None:
    """People only; a personal token must carry approvals:write to change anything."""
    if principal.kind != "user":
        raise Forbidden("approvals are acted on by people, not API clients", code="people_only")
    if principal.token_scopes is not None and "approvals:write" not in principal.token_scopes:
        raise Forbidden(
            "this token may not act on approvals (scope approvals:write)", code="forbidden"
        )


def now() -> datetime:
    """The engine's one clock (UTC), so a test can stand at a chosen instant."""
    return datetime.now(UTC)


def today(session: Session) -> date:
    """The group's local day (delegations, R-CASH-3 deadlines), in the tenant's own zone."""
    return now().astimezone(tenant_zone(session)).date()


# --- policy -------------------------------------------------------------------------------


def install_policy(
    session: Session, document: dict[str, Any], principal: Principal = SYSTEM, note: str = ""
) -> PolicyVersion:
    """Store a checked policy as the next version; requests already submitted keep theirs."""
    policy = parse_policy(document)
    # Two admins saving at once would both take max + 1; the second waits here instead, and
    # readers are not blocked (EXCLUSIVE conflicts with writers only).
    session.execute(text("lock table approval_policies in exclusive mode"))
    latest = session.scalar(select(func.max(PolicyVersion.version))) or 0
    version = PolicyVersion(
        version=latest + 1,
        document=stored_form(policy),
        note=note or None,
        created_by=principal.id if principal.kind == "user" else None,
    )
    session.add(version)
    session.flush()
    record(
        session,
        principal,
        "approvals.policy.installed",
        "approval_policy",
        version.version,
        after={"note": note, "rules": len(policy["rules"])},
    )
    return version


def adopt_request_types(session: Session, template_policy: dict[str, Any]) -> list[str]:
    """Give the group the template's rules for request types its policy never had (one that
    came after the group was provisioned, as ``budget_plan`` did), as the next policy version.
    A type the group once had stays as its admins left it, so running this again adds nothing.
    Returns the request types added."""
    current = session.scalar(select(PolicyVersion).order_by(PolicyVersion.version.desc()).limit(1))
    if current is None:  # a group without a policy gets none from here
        return []
    ever = {
        request_type
        for document in session.scalars(select(PolicyVersion.document))
        for rule in document["rules"]
        for request_type in rule["request_types"]
    }
    rules = []
    for rule in stored_form(template_policy)["rules"]:
        missing = [t for t in rule["request_types"] if t not in ever]
        if missing:
            rules.append({**rule, "request_types": missing})
    added = sorted({t for rule in rules for t in rule["request_types"]})
    if added:
        document = {**current.document, "rules": [*current.document["rules"], *rules]}
        install_policy(session, document, note=f"{', '.join(added)} rules from the template")
    return added


def replace_policy(
    session: Session, principal: Principal, document: dict[str, Any], note: str
) -> PolicyVersion:
    authorize(session, principal, "approvals:admin", org.get_root(session))
    return install_policy(session, document, principal, note)


def current_policy(session: Session) -> PolicyVersion:
    version = session.scalar(select(PolicyVersion).order_by(PolicyVersion.version.desc()).limit(1))
    if version is None:
        raise Conflict("the group has no approval policy yet", code="no_policy")
    return version


# --- drafting -----------------------------------------------------------------------------


def _requesting_unit(session: Session, unit_id: int) -> OrgUnit:
    unit = org.get_unit(session, unit_id)
    if unit.kind == "department":
        raise InvalidInput(
            "requests are raised by a branch, region or HQ, not by a department", code="bad_unit"
        )
    return unit


def _check_lines(
    session: Session, unit: OrgUnit, lines: Sequence[dict[str, Any]]
) -> list[RequestLine]:
    if not lines:
        raise InvalidInput("a request needs at least one line", code="no_lines")
    checked = []
    for index, line in enumerate(lines):
        amount = to_money(line.get("amount"), f"lines[{index}].amount")
        budget_line = line.get("budget_line")
        if budget_line and budget_checker().remaining(session, unit, budget_line) is None:
            raise InvalidInput(
                f"lines[{index}]: unknown budget line {budget_line!r}", code="unknown_budget_line"
            )
        checked.append(
            RequestLine(
                category=line["category"],
                budget_line=budget_line or None,
                description=line["description"],
                amount=amount,
            )
        )
    return checked


def _settled_advance(
    session: Session, requester_id: int, advance_id: int, claim_id: int | None
) -> ApprovalRequest:
    """The paid advance of the same person that an expense claim reports (R-CASH-3), locked so
    two claims cannot both take it."""
    advance = (
        session.get(ApprovalRequest, advance_id, with_for_update=True)
        if 0 < advance_id <= BIGINT_MAX
        else None
    )
    if advance is None or advance.request_type != "advance" or advance.requester_id != requester_id:
        raise InvalidInput(
            f"request {advance_id} is not one of the requester's advances", code="bad_settlement"
        )
    if advance.status != "paid":
        raise InvalidInput(
            f"advance {advance_id} is {advance.status}: only a paid advance is reported",
            code="bad_settlement",
        )
    other = session.scalar(deadlines.claims_naming(advance_id, but_not=claim_id))
    if other is not None:
        raise Conflict(
            f"advance {advance_id} is already reported by request {other}",
            code="already_settled",
            errors={"request_id": other},
        )
    return advance


def _checked_content(
    session: Session,
    request_type: str,
    unit: OrgUnit,
    requester_id: int,
    claim_id: int | None,
    *,
    lines: Sequence[dict[str, Any]],
    total: object = None,
    amount_in_words: str | None = None,
    business_kind: str | None = None,
    business_ended_on: date | None = None,
    settles_request_id: int | None = None,
) -> tuple[list[RequestLine], dict[str, Any]]:
    """What a draft says, checked as a whole before anything is written."""
    checked = _check_lines(session, unit, lines)
    line_total = to_money(sum((line.amount for line in checked), Decimal("0.00")), "the total")
    if total is not None and to_money(total, "total") != line_total:
        raise InvalidInput(f"the lines add up to {line_total}, not {total}", code="total_mismatch")
    if amount_in_words is not None and not words_match(line_total, amount_in_words):
        raise InvalidInput(
            "the amount in words does not agree with the figure (R-APR-8)", code="words_mismatch"
        )
    if settles_request_id is not None:
        if request_type != "expense_claim":
            raise InvalidInput("only an expense claim reports an advance", code="bad_settlement")
        advance = _settled_advance(session, requester_id, settles_request_id, claim_id)
        # The claim reports the advance's business: its deadline cannot be moved by the claim.
        given = (business_kind, business_ended_on)
        if given != (None, None) and given != (advance.business_kind, advance.business_ended_on):
            raise InvalidInput(
                "a claim reporting an advance keeps the advance's business and its day",
                code="bad_business",
            )
        business_kind, business_ended_on = advance.business_kind, advance.business_ended_on
    deadlines.check_business(request_type, business_kind, business_ended_on, today(session))
    return checked, {
        "total_amount": line_total,
        "business_kind": business_kind,
        "business_ended_on": business_ended_on,
        "settles_request_id": settles_request_id,
    }


def create_request(
    session: Session,
    principal: Principal,
    *,
    request_type: str,
    unit_id: int,
    title: str,
    payee: str,
    by_owner: bool = False,
    **content: Any,
) -> ApprovalRequest:
    """A draft request (报销单 …) by a person, checked before anything is written; ``content``
    is what ``_checked_content`` takes (lines, total, amount in words, business dates).
    ``by_owner``: raised by the capability that owns a subject type (subjects.py)."""
    _may_act(principal)
    if request_type not in (SUBJECT_TYPES if by_owner else REQUEST_TYPES):
        _refuse_subject(request_type)
        raise InvalidInput(f"unknown request type {request_type!r}", code="bad_request_type")
    unit = _requesting_unit(session, unit_id)
    authorize(session, principal, "approvals:write", unit)
    checked, fields = _checked_content(session, request_type, unit, principal.id, None, **content)
    request = ApprovalRequest(
        request_type=request_type,
        unit_id=unit.id,
        requester_id=principal.id,
        title=title,
        payee=payee,
        status="draft",
        **fields,
    )
    session.add(request)
    session.flush()
    _write_lines(session, request, checked)
    record(
        session,
        principal,
        "approvals.created",
        "approval_request",
        request.id,
        after={"type": request_type, "total": fields["total_amount"], "unit": unit.code},
    )
    return request


def _write_lines(session: Session, request: ApprovalRequest, lines: Sequence[RequestLine]) -> None:
    for line in lines:
        line.request_id, line.revision = request.id, request.revision
        session.add(line)
    session.flush()


def _content_snapshot(request: ApprovalRequest) -> dict[str, Any]:
    return {
        "revision": request.revision,
        "title": request.title,
        "payee": request.payee,
        "total": request.total_amount,
        "business_kind": request.business_kind,
        "business_ended_on": request.business_ended_on,
        "settles_request_id": request.settles_request_id,
        "requester_id": request.requester_id,
    }


def revise_request(
    session: Session,
    principal: Principal,
    request_id: int,
    *,
    title: str,
    payee: str,
    by_owner: bool = False,
    **content: Any,
) -> ApprovalRequest:
    """The requester rewrites a draft, or a returned request as its next revision (R-APR-4):
    the lines and decisions of earlier revisions stay as they were."""
    request = _own_request(
        session, principal, request_id, REVISABLE_STATUSES, "changes", by_owner=by_owner
    )
    unit = org.get_unit(session, request.unit_id)
    authorize(session, principal, "approvals:write", unit)
    checked, fields = _checked_content(
        session, request.request_type, unit, principal.id, request.id, **content
    )
    before = _content_snapshot(request)
    if request.status == "rejected":
        request.revision += 1
        request.status = "draft"
    else:  # a draft's lines were never decided on: replaced, not kept
        session.execute(
            delete(RequestLine).where(
                RequestLine.request_id == request.id, RequestLine.revision == request.revision
            )
        )
    request.title, request.payee = title, payee
    for name, value in fields.items():
        setattr(request, name, value)
    if by_owner:
        # Whoever sends a subject's next revision answers for what it says (a colleague may
        # carry a plan on), so they, not its first sender, decide none of its steps (R-APR-3).
        request.requester_id = principal.id
    _write_lines(session, request, checked)
    record(
        session,
        principal,
        "approvals.revised",
        "approval_request",
        request.id,
        before=before,
        after=_content_snapshot(request),
    )
    return request


# --- the chain ----------------------------------------------------------------------------


def request_not_found(request_id: int) -> NotFound:
    return NotFound(f"request {request_id} does not exist", code="request_not_found")


def _locked(session: Session, request_id: int) -> ApprovalRequest:
    request = session.scalar(
        select(ApprovalRequest)
        .where(ApprovalRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)  # as locked, not as read before the lock
    )
    if request is None:
        raise request_not_found(request_id)
    return request


# Built once, like every statement of a decision (its SQL cache key is computed once): a
# decision is on every approver's path. Only a request waiting on the step is locked: under a
# race the loser waits for the lock and PostgreSQL checks the row again as the winner left it
# (READ COMMITTED), finds it moved on and returns nothing; a decision on a step decided earlier
# locks nothing at all.
_LOCKED_AT_STEP = (
    select(
        ApprovalRequest,
        func.coalesce(PolicyVersion.document["step_working_days"].as_integer(), DEFAULT_STEP_DAYS),
    )
    .outerjoin(PolicyVersion, PolicyVersion.id == ApprovalRequest.policy_version_id)
    .where(
        ApprovalRequest.id == bindparam("request_id"),
        ApprovalRequest.status == "in_approval",
        ApprovalRequest.current_step == bindparam("step"),
    )
    .with_for_update(of=ApprovalRequest)
    .execution_options(populate_existing=True)  # as locked, not as read before the lock
)
_AS_IT_STANDS = (
    select(ApprovalRequest)
    .where(ApprovalRequest.id == bindparam("request_id"))
    .execution_options(populate_existing=True)
)


def _locked_at_step(session: Session, request_id: int, step: int) -> tuple[ApprovalRequest, int]:
    """The request, locked while step ``step`` waits for a decision, and the working days its
    policy version gives a step (every decision that moves the chain on needs them); a 409 with
    the request's state when that step is not waiting (any more)."""
    row = session.execute(_LOCKED_AT_STEP, {"request_id": request_id, "step": step}).first()
    if row is None:
        request = session.scalar(_AS_IT_STANDS, {"request_id": request_id})
        if request is None:
            raise request_not_found(request_id)
        raise Conflict(
            f"step {step} is not waiting for a decision",
            code="not_current_step",
            errors=_state(request),
        )
    return row[0], row[1]


def _refuse_subject(request_type: str) -> None:
    if request_type in SUBJECT_TYPES:
        raise Conflict(
            f"a {SUBJECT_TYPES[request_type]} is raised, changed, submitted and withdrawn "
            "through the record it approves, not here",
            code="subject_request",
        )


def _own_request(
    session: Session,
    principal: Principal,
    request_id: int,
    allowed: Sequence[str],
    doing: str,
    *,
    by_owner: bool = False,
) -> ApprovalRequest:
    """The request, locked, when the principal is its requester and it is in an allowed state;
    a subject type's request only when its owning capability asks (``by_owner``)."""
    request = _locked(session, request_id)
    _may_act(principal)
    # The owning capability has authorized the person on its record (a plan's unit), so anyone
    # it lets act may carry a subject request on after its first sender.
    if not by_owner:
        _refuse_subject(request.request_type)
        if principal.id != request.requester_id:
            raise Forbidden(f"only the requester {doing} a request", code="not_requester")
    if request.status not in allowed:
        raise Conflict(
            f"the requester {doing} a request while it is {' or '.join(allowed)}; "
            f"this one is {request.status}",
            code="bad_state",
            errors=_state(request),
        )
    return request


def _state(request: ApprovalRequest) -> dict[str, Any]:
    return {
        "status": request.status,
        "current_step": request.current_step,
        "revision": request.revision,
    }


def _unit_at_key(step: dict[str, Any]) -> tuple[str, str | None]:
    return step["level"], step.get("department")


def unit_at(session: Session, unit: OrgUnit, step: dict[str, Any]) -> OrgUnit:
    if step["level"] == "unit":
        base = unit
    elif step["level"] == "hq":
        base = org.get_root(session)
    else:
        chain = [*org.ancestors(session, unit), unit]
        regions = [u for u in chain if u.kind == "region"]
        if not regions:
            raise InvalidInput(f"{unit.code} has no region for a regional step", code="no_region")
        base = regions[-1]
    if step.get("department"):
        return org.get_unit_by_code(session, f"{base.code}-{step['department']}")
    return base


def _overrun_lines(session: Session, unit: OrgUnit, request: ApprovalRequest) -> list[str]:
    """R-APR-7: budget lines this request would take past what is left on them (a claim
    reporting an advance takes the advance's place, not budget beside it)."""
    asked: dict[str, Decimal] = defaultdict(Decimal)
    for line in lines_of(session, request):
        if line.budget_line:
            asked[line.budget_line] += line.amount
    over = []
    for budget_line, amount in sorted(asked.items()):  # sorted: locks in one order
        remaining = budget_checker().remaining(
            session, unit, budget_line, hold=True, settling=request.settles_request_id
        )
        if remaining is None:
            raise InvalidInput(f"unknown budget line {budget_line!r}", code="unknown_budget_line")
        if amount > remaining:
            over.append(budget_line)
    return over


def submit(
    session: Session, principal: Principal, request_id: int, *, by_owner: bool = False
) -> ApprovalRequest:
    """Send a draft (or a rejected request, as a new revision) into its approval chain."""
    org.hold_tree(session)  # before the row lock: a move waits for these steps, then moves them
    request = _own_request(
        session, principal, request_id, REVISABLE_STATUSES, "submits", by_owner=by_owner
    )
    if request.status == "rejected":  # sent again unchanged: the next revision, same lines
        lines = lines_of(session, request)
        request.revision += 1
        _write_lines(session, request, [_copy(line) for line in lines])
    unit = org.get_unit(session, request.unit_id)
    # A request keeps the policy version it started with, through every revision.
    version = (
        session.get(PolicyVersion, request.policy_version_id)
        if request.policy_version_id
        else current_policy(session)
    )
    policy = version.document
    steps = [
        dict(step)
        for step in rule_for(policy, request.request_type, unit.kind, request.total_amount)["steps"]
    ]
    over = _overrun_lines(session, unit, request)
    overrun = policy["overrun_step"]
    if over and not any(
        (s["role"], _unit_at_key(s)) == (overrun["role"], _unit_at_key(overrun)) for s in steps
    ):
        steps.append({**overrun, "reason": "budget_overrun"})  # unless that signer is in already
    chain = [
        RequestStep(
            request_id=request.id,
            revision=request.revision,
            seq=seq,
            role=step["role"],
            unit_id=unit_at(session, unit, step).id,
            level=step["level"],
            department=step.get("department"),
            reason=step.get("reason"),
            status="pending",
        )
        for seq, step in enumerate(steps, start=1)
    ]
    session.add_all(chain)
    request.status, request.current_step = "in_approval", 1
    request.policy_version_id, request.budget_overrun = version.id, bool(over)
    if request.submitted_at is None:  # R-CASH-3 is judged by the first report
        due = deadlines.report_due_on(request.business_kind, request.business_ended_on)
        request.reported_late = request.request_type == "expense_claim" and (
            due is not None and today(session) > due
        )
    request.submitted_at, request.decided_at = now(), None
    session.flush()
    _announce(session, request, chain, policy.get("step_working_days", DEFAULT_STEP_DAYS))
    record(
        session,
        principal,
        "approvals.submitted",
        "approval_request",
        request.id,
        after={
            "revision": request.revision,
            "steps": len(steps),
            "overrun": over,
            "policy_version": version.version,
            "late": request.reported_late,
        },
    )
    return request


def steps_of(
    session: Session, request: ApprovalRequest, revision: int | None = None
) -> list[RequestStep]:
    query = select(RequestStep).where(RequestStep.request_id == request.id)
    if revision is not None:
        query = query.where(RequestStep.revision == revision)
    return list(session.scalars(query.order_by(RequestStep.revision, RequestStep.seq)))


_steps, _requests = RequestStep.__table__, ApprovalRequest.__table__
_step_unit = OrgUnit.__table__.alias("step_unit")
_STEP_COLUMNS = tuple(_steps.c.keys())

# Every step of a request (all revisions, in order: what a decision's answer shows) as plain
# rows, and for step ``seq`` of revision ``revision`` whether ``person`` holds its role at its
# unit. Read after the request's lock, so no step is older than it.
_CHAIN_WITH_ROLE_CHECK = (
    select(
        _steps,
        case(
            (
                and_(_steps.c.revision == bindparam("revision"), _steps.c.seq == bindparam("seq")),
                role_held(bindparam("person"), _steps.c.role, _step_unit.c.path),
            )
        ).label("holds"),
    )
    .join(_step_unit, _step_unit.c.id == _steps.c.unit_id)
    .where(_steps.c.request_id == bindparam("request_id"))
    .order_by(_steps.c.revision, _steps.c.seq)
)

# What a decision writes, in one statement each (data-changing CTEs beside the step's UPDATE):
# the unit of work would send a statement per row.
_DECIDE_STEP = (
    update(_steps)
    .where(_steps.c.id == bindparam("b_step_id"))
    .values(
        status=bindparam("b_status"),
        decided_by=bindparam("b_decided_by"),
        acting_for=bindparam("b_acting_for"),
        decided_at=bindparam("b_decided_at"),
        comment=bindparam("b_comment"),
    )
)
# … the request approved or returned: the chain ends here.
_DECIDE_AND_SETTLE = _DECIDE_STEP.add_cte(
    update(_requests)
    .where(_requests.c.id == bindparam("b_request_id"))
    .values(
        status=bindparam("b_request_status"),
        current_step=None,
        decided_at=bindparam("b_decided_at"),
    )
    .cte("settled")
)
# … the next step becomes current: due in its working days, its approvers told (outbox).
_DECIDE_AND_PASS_ON = _DECIDE_STEP.add_cte(
    update(_requests)
    .where(_requests.c.id == bindparam("b_request_id"))
    .values(current_step=bindparam("b_next_seq"))
    .cte("passed_on"),
    update(_steps)
    .where(_steps.c.id == bindparam("b_next_step_id"))
    .values(due_at=bindparam("b_due_at"))
    .cte("due"),
    OUTBOX_INSERT.cte("notice"),
)


def _acting_as(
    session: Session,
    principal: Principal,
    request: ApprovalRequest,
    step: Row,
    excluded: set[int],
) -> int | None:
    """None when the principal holds the step's role (``step.holds``, checked with the chain);
    else the delegator they may act for, leaving out the requester and anyone who decided a
    step already (R-APR-3)."""
    if step.holds:
        return None
    unit = org.get_unit(session, step.unit_id)
    day = today(session)
    delegations = session.scalars(
        select(Delegation)
        .where(
            Delegation.delegate_id == principal.id,
            Delegation.starts_on <= day,
            Delegation.ends_on >= day,
            or_(
                Delegation.request_types.is_(None),
                literal(request.request_type) == any_(Delegation.request_types),
            ),
            Delegation.delegator_id.not_in(excluded or {0}),
        )
        .order_by(Delegation.id)
    )
    for delegation in delegations:
        if holds_role(session, delegation.delegator_id, step.role, unit):
            return delegation.delegator_id
    raise Forbidden(
        f"{principal.name} is not {step.role} at {unit.code}, nor delegated by one",
        code="not_your_step",
    )


def _show_written(session: Session, model: type, row_id: int, values: dict[str, Any]) -> None:
    """What a statement wrote, on the row's object when the session holds it: as committed
    state, as the unit of work would have left it (a caller holding the steps sees them move)."""
    loaded = session.identity_map.get(identity_key(model, row_id))
    if loaded is not None:
        for key, value in values.items():
            set_committed_value(loaded, key, value)


class Decision(NamedTuple):
    request: ApprovalRequest
    steps: list[dict[str, Any]]  # every revision's steps as the decision left them, in order


def decide(
    session: Session,
    principal: Principal,
    request_id: int,
    *,
    step: int,
    approve: bool,
    comment: str | None = None,
) -> ApprovalRequest:
    """Approve or reject step ``step`` (the one the approver was shown, so a stale click is 409)."""
    return decision(
        session, principal, request_id, step=step, approve=approve, comment=comment
    ).request


def decision(
    session: Session,
    principal: Principal,
    request_id: int,
    *,
    step: int,
    approve: bool,
    comment: str | None = None,
) -> Decision:
    """``decide``, with the request's steps as it left them (for an answer that shows them)."""
    _may_act(principal)
    request, step_days = _locked_at_step(session, request_id, step)
    chain = session.execute(
        _CHAIN_WITH_ROLE_CHECK,
        {
            "request_id": request.id,
            "revision": request.revision,
            "seq": step,
            "person": principal.id,
        },
    ).all()
    steps = [s for s in chain if s.revision == request.revision]
    current = steps[step - 1]
    decided = {p for s in steps if s.status != "pending" for p in (s.decided_by, s.acting_for)}
    writers = {request.requester_id} | authors(session, request)
    acting_for = _acting_as(
        session, principal, request, current, excluded=(decided | writers) - {None}
    )
    people = {principal.id, acting_for} - {None}
    if writers & people:
        raise Forbidden("nobody approves their own request (R-APR-3)", code="self_approval")
    if any({s.decided_by, s.acting_for} & people for s in steps if s.status != "pending"):
        raise Forbidden("one person decides one step of a request (R-APR-3)", code="second_step")
    at = now()
    decided_step = {
        "status": "approved" if approve else "rejected",
        "decided_by": principal.id,
        "acting_for": acting_for,
        "decided_at": at,
        "comment": comment,
    }
    changed = {current.id: decided_step}
    params = {"b_step_id": current.id, "b_request_id": request.id}
    params.update({f"b_{key}": value for key, value in decided_step.items()})
    if approve and step < len(steps):
        following = steps[step]
        due_at = due_after(at, step_days, tenant_zone(session))
        session.execute(
            _DECIDE_AND_PASS_ON,
            {
                **params,
                "b_next_seq": step + 1,
                "b_next_step_id": following.id,
                "b_due_at": due_at,
                **outbox_params(*_step_notice(session, request, step + 1)),
            },
        )
        changed[following.id] = {"due_at": due_at}
        settled = {"current_step": step + 1}
    else:
        settled = {
            "status": "approved" if approve else "rejected",
            "current_step": None,
            "decided_at": at,
        }
        session.execute(_DECIDE_AND_SETTLE, {**params, "b_request_status": settled["status"]})
    _show_written(session, ApprovalRequest, request.id, settled)
    for step_id, values in changed.items():
        _show_written(session, RequestStep, step_id, values)
    if request.status != "in_approval":
        tell_owner(session, request)
    record(
        session,
        _with_delegator(session, principal, acting_for),
        "approvals.approved" if approve else "approvals.rejected",
        "approval_request",
        request.id,
        after={"step": step, "role": current.role, "comment": comment, "status": request.status},
    )
    shown = [{key: getattr(s, key) for key in _STEP_COLUMNS} for s in chain]
    return Decision(request, [{**s, **changed.get(s["id"], {})} for s in shown])


def _with_delegator(session: Session, principal: Principal, acting_for: int | None) -> Principal:
    if acting_for is None:
        return principal
    delegator = session.get(User, acting_for)
    return Principal(
        kind=principal.kind,
        id=principal.id,
        name=principal.name,
        acting_for=delegator.login,
        request_id=principal.request_id,
    )


def withdraw(
    session: Session, principal: Principal, request_id: int, *, by_owner: bool = False
) -> ApprovalRequest:
    request = _own_request(
        session,
        principal,
        request_id,
        ("draft", "in_approval", "rejected"),
        "withdraws",
        by_owner=by_owner,
    )
    request.status, request.current_step = "withdrawn", None
    for step in steps_of(session, request, request.revision):
        if step.status == "pending":
            step.status = "cancelled"  # never reached, and never will be
    session.flush()
    tell_owner(session, request)
    record(session, principal, "approvals.withdrawn", "approval_request", request.id)
    return request


def pay(
    session: Session, principal: Principal, request_id: int, *, method: str, reference: str | None
) -> Payment:
    """The cashier pays an approved request once (R-APR-6), never one they approved (R-ORG-3)."""
    if method not in PAYMENT_METHODS:
        raise InvalidInput(f"payment method is one of {PAYMENT_METHODS}", code="bad_method")
    if method == "cheque" and not reference:
        raise InvalidInput("a cheque payment needs the cheque number", code="cheque_number")
    _may_act(principal)
    request = _locked(session, request_id)
    if request.request_type in SUBJECT_TYPES:
        raise Conflict(
            f"a {SUBJECT_TYPES[request.request_type]} is approved, never paid", code="not_payable"
        )
    if request.status == "paid":
        raise Conflict(
            "this request has been paid already", code="already_paid", errors=_state(request)
        )
    if request.status != "approved":
        raise Conflict(
            f"a request that is {request.status} cannot be paid",
            code="bad_state",
            errors=_state(request),
        )
    _check_payer(session, principal, request)
    payment = Payment(
        request_id=request.id,
        method=method,
        reference=reference,
        amount=request.total_amount,
        paid_by=principal.id,
    )
    session.add(payment)
    request.status = "paid"
    session.flush()
    tell_paid(session, request)
    record(
        session,
        principal,
        "approvals.paid",
        "approval_request",
        request.id,
        after={"method": method, "reference": reference, "amount": request.total_amount},
    )
    return payment


def _check_payer(session: Session, principal: Principal, request: ApprovalRequest) -> None:
    """The paying role of the request's policy at its unit; never the requester, never one
    who reviewed it (R-ORG-3)."""
    payer = session.get(PolicyVersion, request.policy_version_id).document["payer"]
    unit = unit_at(session, org.get_unit(session, request.unit_id), payer)
    if not holds_role(session, principal.id, payer["role"], unit):
        raise Forbidden(
            f"{principal.name} is not the paying {payer['role']} at {unit.code}",
            code="not_payer",
        )
    if principal.id == request.requester_id:
        raise Forbidden("nobody pays their own request", code="self_payment")
    if any(principal.id in (s.decided_by, s.acting_for) for s in steps_of(session, request)):
        raise Forbidden(
            "who reviewed a request does not also pay it (R-ORG-3)", code="segregation_of_duties"
        )


def standing_payment(session: Session, request_id: int) -> Payment | None:
    """The request's payment that stands (not reversed), if any."""
    return session.scalar(
        select(Payment).where(Payment.request_id == request_id, Payment.reversed_at.is_(None))
    )


def reverse_payment(
    session: Session, principal: Principal, request_id: int, *, reason: str
) -> Payment:
    """Undo a payment that never left (its cheque voided): the payment stays, marked reversed,
    and the request is approved again, to be paid once more. Budget actuals count standing
    payments only, so they drop it too. An advance already reported by an expense claim is not
    undone: the claim settles money that was paid."""
    _may_act(principal)
    request = _locked(session, request_id)
    payment = standing_payment(session, request.id)
    if request.status != "paid" or payment is None:
        raise Conflict(
            f"request {request.id} is {request.status}: there is no payment to reverse",
            code="not_paid",
            errors=_state(request),
        )
    claim = session.scalar(deadlines.claims_naming(request.id).limit(1))
    if claim is not None:
        raise Conflict(
            f"advance {request.id} is reported by request {claim}: its payment stands",
            code="already_settled",
            errors={"request_id": claim},
        )
    _check_payer(session, principal, request)
    payment.reversed_at, payment.reversed_by, payment.reversal_reason = now(), principal.id, reason
    request.status = "approved"
    session.flush()
    record(
        session,
        principal,
        "approvals.payment_reversed",
        "approval_request",
        request.id,
        before={"status": "paid", "method": payment.method, "reference": payment.reference},
        after={"status": request.status, "reason": reason, "amount": payment.amount},
    )
    return payment


# --- who is told -------------------------------------------------------------------------


def people_who_may_decide(session: Session, request: ApprovalRequest) -> list[User]:
    """Everyone who could decide the current step now: holders of its role at its unit or
    above, and today's stand-ins for them; never the requester or who already decided a step."""
    if request.status != "in_approval" or request.current_step is None:
        return []
    steps = steps_of(session, request, request.revision)
    step = steps[request.current_step - 1]
    unit = org.get_unit(session, step.unit_id)
    holders = set(
        session.scalars(
            select(RoleAssignment.user_id)
            .join(OrgUnit, OrgUnit.id == RoleAssignment.unit_id)
            .where(RoleAssignment.role == step.role, literal(unit.path).startswith(OrgUnit.path))
        )
    )
    day = today(session)
    stand_ins = (
        set(
            session.scalars(
                select(Delegation.delegate_id).where(
                    Delegation.delegator_id.in_(holders),
                    Delegation.starts_on <= day,
                    Delegation.ends_on >= day,
                    or_(
                        Delegation.request_types.is_(None),
                        literal(request.request_type) == any_(Delegation.request_types),
                    ),
                )
            )
        )
        if holders
        else set()
    )
    decided = {p for s in steps if s.status != "pending" for p in (s.decided_by, s.acting_for)}
    candidates = (holders | stand_ins) - decided - {request.requester_id}
    if not candidates:
        return []
    return list(
        session.scalars(
            select(User).where(User.id.in_(candidates), User.active).order_by(User.login)
        )
    )


def _current_step_overdue():
    """The request's current step is past its due time (SLA)."""
    return (
        select(RequestStep.id)
        .where(
            RequestStep.request_id == ApprovalRequest.id,
            RequestStep.revision == ApprovalRequest.revision,
            RequestStep.seq == ApprovalRequest.current_step,
            RequestStep.status == "pending",
            RequestStep.due_at < func.now(),
        )
        .exists()
    )


def overdue_requests(session: Session) -> Sequence[ApprovalRequest]:
    """Every request of the tenant waiting on a step past its due time (for reminders)."""
    return session.scalars(
        select(ApprovalRequest)
        .where(ApprovalRequest.status == "in_approval", _current_step_overdue())
        .order_by(ApprovalRequest.id)
    ).all()


def _announce(
    session: Session, request: ApprovalRequest, steps: Sequence[RequestStep], working_days: int
) -> None:
    """The step that just became current (of ``steps``, the revision's chain) gets its due
    time, and whoever may decide it hears of it."""
    step = steps[request.current_step - 1]
    step.due_at = due_after(now(), working_days, tenant_zone(session))
    _notify(session, request)


def _notify(session: Session, request: ApprovalRequest) -> None:
    """Mail whoever may decide the current step now (outbox → job)."""
    enqueue(session, *_step_notice(session, request, request.current_step))


def _step_notice(session: Session, request: ApprovalRequest, step: int) -> tuple[str, dict]:
    """The job that mails the approvers of ``step`` of the request's revision."""
    return "approvals.notify_step", {
        "tenant": tenant_slug(session),
        "request_id": request.id,
        "revision": request.revision,
        "step": step,
    }


# --- when a unit moves --------------------------------------------------------------------


@org.on_unit_moved
def follow_moved_unit(session: Session, principal: Principal, moved: OrgUnit) -> None:
    """Requests in approval raised in the moved subtree have their steps still to be decided
    resolved again in the new tree, so the new region's approvers take them over; decided steps
    are history and stay. One audit event per request whose steps changed."""
    for request, changes in _steps_resolved_again(session, moved).items():
        before, after = [], []
        for step, unit in changes:
            before.append(_step_at(step, org.get_unit(session, step.unit_id)))
            step.unit_id = unit.id
            after.append(_step_at(step, unit))
        session.flush()
        record(
            session,
            principal,
            "approvals.steps_relocated",
            "approval_request",
            request.id,
            before={"steps": before},
            after={"steps": after, "moved": moved.code},
        )
        if any(step.seq == request.current_step for step, _ in changes):
            _notify(session, request)  # the new approvers did not hear of it yet


def _steps_resolved_again(
    session: Session, moved: OrgUnit
) -> dict[ApprovalRequest, list[tuple[RequestStep, OrgUnit]]]:
    """Pending steps of the current revisions of requests in approval under ``moved`` that now
    resolve to another unit. The requests are locked first (a decision in flight ends before),
    and every step is resolved before anything changes, so one that cannot be refuses the move
    with nothing written. Steps of unknown origin (``level`` NULL) keep their unit."""
    ids = session.scalars(
        select(ApprovalRequest.id)
        .join(OrgUnit, OrgUnit.id == ApprovalRequest.unit_id)
        .where(
            ApprovalRequest.status == "in_approval",
            OrgUnit.path.startswith(moved.path, autoescape=True),
        )
        .order_by(ApprovalRequest.id)
        .with_for_update(of=ApprovalRequest)
    ).all()
    rows = session.execute(
        select(ApprovalRequest, RequestStep)
        .join(
            RequestStep,
            and_(
                RequestStep.request_id == ApprovalRequest.id,
                RequestStep.revision == ApprovalRequest.revision,
            ),
        )
        .where(
            ApprovalRequest.id.in_(ids),
            RequestStep.status == "pending",
            RequestStep.level.is_not(None),
        )
        .order_by(ApprovalRequest.id, RequestStep.seq)
    ).all()
    resolved: dict[tuple[int, str, str | None], OrgUnit] = {}  # many requests share a unit
    changes: dict[ApprovalRequest, list[tuple[RequestStep, OrgUnit]]] = defaultdict(list)
    for request, step in rows:
        key = (request.unit_id, step.level, step.department)
        if key not in resolved:
            resolved[key] = _resolved_again(session, request, step, moved)
        if resolved[key].id != step.unit_id:
            changes[request].append((step, resolved[key]))
    return changes


def _resolved_again(
    session: Session, request: ApprovalRequest, step: RequestStep, moved: OrgUnit
) -> OrgUnit:
    origin = {"level": step.level, "department": step.department}
    try:
        return unit_at(session, org.get_unit(session, request.unit_id), origin)
    except (NotFound, InvalidInput) as error:
        raise Conflict(
            f"{moved.code} cannot move there: step {step.seq} ({step.role}) of request "
            f"{request.id}, still to be decided, would have no unit ({error.message})",
            code="step_unit_missing",
            errors={"request_id": request.id, "step": step.seq},
        ) from error


def _step_at(step: RequestStep, unit: OrgUnit) -> dict[str, Any]:
    return {"seq": step.seq, "role": step.role, "unit": unit.code}


# --- vouchers (原始凭证) ---------------------------------------------------------------------

VOUCHER_ENTITY = "approval_request"
ATTACHABLE_STATUSES = ("draft", "rejected", "in_approval")


def check_attach(session: Session, principal: Principal, request_id: int) -> ApprovalRequest:
    """The requester adds vouchers until the request is decided (a returned one included,
    R-APR-8); run before the upload streams and again after it."""
    request = _own_request(session, principal, request_id, ATTACHABLE_STATUSES, "adds vouchers to")
    storage.check_upload(session, principal, request.unit_id)
    return request


def attach_voucher(
    session: Session,
    store: BlobStore,
    principal: Principal,
    request_id: int,
    *,
    stream: ReadableStream,
    filename: str,
    max_bytes: int,
) -> Document:
    """Stream the file in first, holding no lock; then lock the request and check again, so a
    request decided meanwhile refuses it (the stored bytes are swept as an orphan)."""
    request = read_request(session, principal, request_id)
    document = storage.upload_document(
        session,
        store,
        principal,
        tenant_slug=tenant_slug(session),
        unit_id=request.unit_id,
        stream=stream,
        filename=filename,
        entity_type=VOUCHER_ENTITY,
        entity_id=request.id,
        max_bytes=max_bytes,
    )
    check_attach(session, principal, request_id)
    return document


def vouchers_of(session: Session, request: ApprovalRequest) -> list[Document]:
    """The requester's uploads for the request (nothing else counts as its voucher)."""
    return [
        document
        for document in storage.list_documents(session, VOUCHER_ENTITY, request.id)
        if document.uploaded_by == request.requester_id and document.unit_id == request.unit_id
    ]


# --- delegation ---------------------------------------------------------------------------


def delegate(
    session: Session,
    principal: Principal,
    *,
    delegate_login: str,
    starts_on: date,
    ends_on: date,
    request_types: Sequence[str] | None = None,
) -> Delegation:
    """R-APR-5: name a stand-in for a date range, optionally for some request types only."""
    _may_act(principal)
    if ends_on < starts_on:
        raise InvalidInput("a delegation ends on or after its start", code="bad_dates")
    unknown = sorted(set(request_types or ()) - set(ALL_REQUEST_TYPES))
    if unknown:
        raise InvalidInput(f"unknown request types {unknown}", code="bad_request_type")
    stand_in = session.scalar(select(User).where(User.login == delegate_login, User.active))
    if stand_in is None or stand_in.id == principal.id:
        raise InvalidInput(f"{delegate_login!r} cannot stand in", code="bad_delegate")
    delegation = Delegation(
        delegator_id=principal.id,
        delegate_id=stand_in.id,
        starts_on=starts_on,
        ends_on=ends_on,
        request_types=list(request_types) if request_types else None,
    )
    session.add(delegation)
    session.flush()
    record(
        session,
        principal,
        "approvals.delegated",
        "delegation",
        delegation.id,
        after={"to": delegate_login, "from": starts_on, "until": ends_on, "types": request_types},
    )
    return delegation


# --- reading ------------------------------------------------------------------------------


def read_request(session: Session, principal: Principal, request_id: int) -> ApprovalRequest:
    request = session.get(ApprovalRequest, request_id)
    if request is None:
        raise request_not_found(request_id)
    if not (principal.kind == "user" and principal.id == request.requester_id):
        authorize(session, principal, "approvals:read", org.get_unit(session, request.unit_id))
    return request


# Built once (their SQL cache keys computed once): every answer showing a request reads them.
_EVERY_LINE = (
    select(RequestLine)
    .where(RequestLine.request_id == bindparam("request_id"))
    .order_by(RequestLine.revision, RequestLine.id)
)
_LINES = _EVERY_LINE.where(RequestLine.revision == bindparam("revision"))


def lines_of(
    session: Session, request: ApprovalRequest, *, every_revision: bool = False
) -> list[RequestLine]:
    """The lines of the request's current revision (or of all, oldest first)."""
    if every_revision:
        return list(session.scalars(_EVERY_LINE, {"request_id": request.id}))
    return list(session.scalars(_LINES, {"request_id": request.id, "revision": request.revision}))


def advance_overdue(session: Session, request: ApprovalRequest) -> bool:
    """R-CASH-3: a paid advance still unreported after its report day."""
    if request.request_type != "advance" or request.status != "paid":
        return False  # the question needs no query
    return bool(
        session.scalar(
            select(
                select(ApprovalRequest.id)
                .where(ApprovalRequest.id == request.id, deadlines.overdue_advance(today(session)))
                .exists()
            )
        )
    )


def _copy(line: RequestLine) -> RequestLine:
    return RequestLine(
        category=line.category,
        budget_line=line.budget_line,
        description=line.description,
        amount=line.amount,
    )


def visible_requests(
    session: Session,
    principal: Principal,
    *,
    status: str | None = None,
    request_type: str | None = None,
    unit_id: int | None = None,
    mine: bool = False,
    overdue: bool = False,
    advances_overdue: bool = False,
    submitted_from: date | None = None,
    submitted_to: date | None = None,
    amount_min: Decimal | None = None,
    amount_max: Decimal | None = None,
):
    """Requests the principal may read: their own, plus those of units they may read; filtered
    by status, type, unit subtree, submission day (the group's local days, both ends included)
    and amount (both ends included)."""
    readable = select(OrgUnit.id).where(visible_units(session, principal, "approvals:read"))
    query = select(ApprovalRequest)
    if mine:
        query = query.where(ApprovalRequest.requester_id == principal.id)
    else:
        query = query.where(
            or_(ApprovalRequest.requester_id == principal.id, ApprovalRequest.unit_id.in_(readable))
        )
    if status:
        query = query.where(ApprovalRequest.status == status)
    if request_type:
        query = query.where(ApprovalRequest.request_type == request_type)
    if overdue:
        query = query.where(_current_step_overdue())
    if advances_overdue:
        query = query.where(deadlines.overdue_advance(today(session)))
    if unit_id:
        under = org.get_unit(session, unit_id)
        query = query.where(
            ApprovalRequest.unit_id.in_(
                select(OrgUnit.id).where(OrgUnit.path.startswith(under.path, autoescape=True))
            )
        )
    if submitted_from is not None:
        query = query.where(
            ApprovalRequest.submitted_at >= _local_midnight(session, submitted_from)
        )
    if submitted_to is not None and submitted_to < date.max:
        next_day = _local_midnight(session, submitted_to + timedelta(days=1))
        query = query.where(ApprovalRequest.submitted_at < next_day)
    if amount_min is not None:
        query = query.where(ApprovalRequest.total_amount >= amount_min)
    if amount_max is not None:
        query = query.where(ApprovalRequest.total_amount <= amount_max)
    return query.order_by(ApprovalRequest.id.desc())


def _local_midnight(session: Session, day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=tenant_zone(session))
