"""Opening, changing and closing an account (R-BNK-1): a request raised by the unit's finance
(or drafted by the system: dormancy, a keeper's departure), revised, submitted to the approvals
engine as a ``bank_account`` subject request, or withdrawn. Only an approved request changes an
account (settle.py); what stands in the way is checks.py's."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from propgroup.approvals import service as approvals
from propgroup.approvals.models import ApprovalRequest
from propgroup.audit.service import record
from propgroup.banking.checks import check_content, refuse_department, refuse_second_request
from propgroup.banking.content import checked_form
from propgroup.banking.models import (
    LIVE_REQUEST_STATUSES,
    REQUEST_KINDS,
    BankAccount,
    BankAccountRequest,
)
from propgroup.banking.service import read_account
from propgroup.db import BIGINT_MAX
from propgroup.errors import Conflict, Forbidden, InvalidInput, NotFound
from propgroup.identity.authz import authorize, can, visible_units
from propgroup.identity.principals import SYSTEM, Principal
from propgroup.org import service as org
from propgroup.org.models import OrgUnit

REQUEST_TYPE = "bank_account"


# --- reading ------------------------------------------------------------------------------


def request_not_found(request_id: int) -> NotFound:
    return NotFound(f"bank account request {request_id} not found", code="request_not_found")


def read_request(
    session: Session,
    principal: Principal,
    request_id: int,
    action: str = "banking:read",
    *,
    lock: bool = False,
) -> BankAccountRequest:
    """The request, if ``principal`` may ``action`` at its unit (another unit's: not found)."""
    found = (
        session.get(BankAccountRequest, request_id, with_for_update=lock)
        if 0 < request_id <= BIGINT_MAX
        else None
    )
    unit = org.get_unit(session, found.unit_id) if found else None
    if found is None or not can(session, principal, "banking:read", unit):
        raise request_not_found(request_id)
    authorize(session, principal, action, unit)
    return found


def visible_requests(
    session: Session, principal: Principal, account_id: int | None = None
) -> Select[tuple[BankAccountRequest]]:
    query = (
        select(BankAccountRequest)
        .join(OrgUnit, OrgUnit.id == BankAccountRequest.unit_id)
        .where(visible_units(session, principal, "banking:read"))
        .order_by(BankAccountRequest.id.desc())
    )
    if account_id is not None:
        query = query.where(BankAccountRequest.account_id == account_id)
    return query


# --- raising, revising, submitting, withdrawing ---------------------------------------------


def _person(principal: Principal) -> None:
    if principal.kind != "user":
        raise Forbidden(
            "account requests are signed by people, not API clients", code="people_only"
        )


def _target(
    session: Session, principal: Principal, kind: str, unit_id: object, account_id: object
) -> tuple[OrgUnit, BankAccount | None]:
    """The unit asking and, for a change or closing, its account (banking:write there)."""
    if kind == "open":
        if not isinstance(unit_id, int) or isinstance(unit_id, bool):
            raise InvalidInput("an opening names its unit", errors={"unit_id": ["required"]})
        unit = org.get_unit(session, unit_id)
        refuse_department(unit)
        authorize(session, principal, "banking:write", unit)
        return unit, None
    if not isinstance(account_id, int) or isinstance(account_id, bool):
        raise InvalidInput(
            f"a {kind} request names its account", errors={"account_id": ["required"]}
        )
    account = read_account(session, principal, account_id, "banking:write")
    if unit_id is not None and unit_id != account.unit_id:
        raise InvalidInput(
            f"account {account.id} is held by another unit: a request is raised by the "
            "account's own unit",
            code="another_units_account",
            errors={"unit_id": ["not the account's unit"]},
        )
    return org.get_unit(session, account.unit_id), account


def raise_request(
    session: Session,
    principal: Principal,
    *,
    kind: str,
    form: object,
    unit_id: object = None,
    account_id: object = None,
) -> BankAccountRequest:
    """A draft request by the unit's finance (banking:write), checked before anything is written."""
    _person(principal)
    checked = checked_form(kind, form)
    unit, account = _target(session, principal, kind, unit_id, account_id)
    if account is not None:
        session.refresh(account, with_for_update=True)  # one live request per account
        refuse_second_request(session, account.id, None)
    check_content(session, kind, unit, account, checked)
    request = BankAccountRequest(
        kind=kind,
        unit_id=unit.id,
        account_id=account.id if account else None,
        form=checked,
        origin="finance",
        status="draft",
        created_by=principal.id,
        authors=[principal.id],
    )
    session.add(request)
    session.flush()
    record(
        session,
        principal,
        "banking.request_raised",
        "bank_account_request",
        request.id,
        after={"kind": kind, "unit": unit.code, "account": request.account_id, "form": checked},
    )
    return request


def system_draft(
    session: Session,
    account: BankAccount,
    kind: str,
    form: dict[str, Any],
    *,
    origin: str,
    departed_user_id: int | None = None,
) -> BankAccountRequest | None:
    """A draft the system raises (dormancy, a departure) for finance to complete and submit;
    none when the account already has a request under way (that one is finance's to finish)."""
    live = session.scalar(
        select(BankAccountRequest.id).where(
            BankAccountRequest.account_id == account.id,
            BankAccountRequest.status.in_(LIVE_REQUEST_STATUSES),
        )
    )
    if live:
        record(
            session,
            SYSTEM,
            f"banking.{origin}_noted",
            "bank_account",
            account.id,
            after={"under_way": live, "form": form},
        )
        return None
    request = BankAccountRequest(
        kind=kind,
        unit_id=account.unit_id,
        account_id=account.id,
        form=form,
        origin=origin,
        status="draft",
        departed_user_id=departed_user_id,
    )
    session.add(request)
    session.flush()
    record(
        session,
        SYSTEM,
        "banking.request_raised",
        "bank_account_request",
        request.id,
        after={"kind": kind, "origin": origin, "account": account.id, "form": form},
    )
    return request


def _revisable(session: Session, principal: Principal, request_id: int) -> BankAccountRequest:
    """The request, about to be written by ``principal``, who joins its authors."""
    _person(principal)
    request = read_request(session, principal, request_id, "banking:write", lock=True)
    if request.status not in ("draft", "returned"):
        raise Conflict(
            f"request {request.id} is {request.status}: only a draft or a returned request "
            "changes or goes (again) into approval",
            code="bad_state",
        )
    if principal.id not in request.authors:
        request.authors = [*request.authors, principal.id]
    return request


def authors_of(session: Session, approval: ApprovalRequest) -> set[int]:
    """The approvals engine's question (R-APR-3): who wrote the bank request it decides."""
    request = session.scalar(
        select(BankAccountRequest).where(BankAccountRequest.approval_request_id == approval.id)
    )
    return set(request.authors) - {None} if request else set()


def _account_of(session: Session, request: BankAccountRequest) -> BankAccount | None:
    if request.account_id is None:
        return None
    return session.get(BankAccount, request.account_id, with_for_update=True)


def finance_part(form: dict[str, Any]) -> dict[str, Any]:
    """The form as finance writes it: without the departure the system noted (R-BNK-3)."""
    return {key: value for key, value in form.items() if key != "departure"}


def _form_kept(request: BankAccountRequest, form: dict[str, Any]) -> dict[str, Any]:
    """Finance's form, checked; the departure the system wrote on its own draft (R-BNK-3) stays
    on it, for the record: no form can bring one in."""
    checked = checked_form(request.kind, form)
    if request.departed_user_id is not None and "departure" in request.form:
        checked["departure"] = request.form["departure"]
    return checked


def revise(
    session: Session, principal: Principal, request_id: int, form: object
) -> BankAccountRequest:
    request = _revisable(session, principal, request_id)
    checked = _form_kept(request, form if isinstance(form, dict) else {})
    unit = org.get_unit(session, request.unit_id)
    check_content(session, request.kind, unit, _account_of(session, request), checked, request.id)
    before, request.form = request.form, checked
    session.flush()
    record(
        session,
        principal,
        "banking.request_revised",
        "bank_account_request",
        request.id,
        before={"form": before},
        after={"form": checked},
    )
    return request


def _title(session: Session, request: BankAccountRequest, unit: OrgUnit) -> tuple[str, str]:
    """The approval request's title and payee: what the approver's inbox shows."""
    if request.kind == "open":
        bank = f"{request.form['bank']} {request.form['bank_branch']}"
        about = f"{bank} {request.form['account_name']}"
    else:
        account = session.get(BankAccount, request.account_id)
        bank = f"{account.bank} {account.bank_branch}"
        about = f"{bank} ****{account.number_last4 or '----'}"
    title = f"{REQUEST_KINDS[request.kind]}银行账户申请 #{request.id} · {unit.name} · {about}"
    return title[:200], bank[:200]


def _lines(request: BankAccountRequest) -> list[dict[str, Any]]:
    # The engine's amount is positive; for this type it counts the one account asked about.
    return [
        {
            "category": REQUEST_TYPE,
            "description": f"{REQUEST_KINDS[request.kind]}: {request.form['reason']}"[:500],
            "amount": 1,
        }
    ]


def submit(session: Session, principal: Principal, request_id: int) -> BankAccountRequest:
    """Into approval: the form is checked against the records again, as they are now."""
    request = _revisable(session, principal, request_id)
    checked = checked_form(request.kind, finance_part(request.form))
    unit = org.get_unit(session, request.unit_id)
    check_content(session, request.kind, unit, _account_of(session, request), checked, request.id)
    title, payee = _title(session, request, unit)
    if request.approval_request_id is None:
        approval = approvals.create_request(
            session,
            principal,
            request_type=REQUEST_TYPE,
            unit_id=unit.id,
            title=title,
            payee=payee,
            lines=_lines(request),
            by_owner=True,
        )
        request.approval_request_id = approval.id
    else:  # returned: the form may have changed, so the engine gets it as the next revision
        approvals.revise_request(
            session,
            principal,
            request.approval_request_id,
            title=title,
            payee=payee,
            lines=_lines(request),
            by_owner=True,
        )
    session.flush()
    approvals.submit(session, principal, request.approval_request_id, by_owner=True)
    request.status, request.submitted_by = "submitted", principal.id
    request.submitted_at, request.decided_at = approvals.now(), None
    session.flush()
    record(
        session,
        principal,
        "banking.request_submitted",
        "bank_account_request",
        request.id,
        after={"approval_request": request.approval_request_id},
    )
    return request


def withdraw(session: Session, principal: Principal, request_id: int) -> BankAccountRequest:
    """Taken back by finance: a draft ends; one in the engine (in approval or returned) is
    withdrawn there too, which tells ``account_request_settled``. A departure's change is not
    withdrawn (R-BNK-3): it is completed and approved."""
    _person(principal)
    request = read_request(session, principal, request_id, "banking:write", lock=True)
    if request.origin == "keeper_departure" and request.status in LIVE_REQUEST_STATUSES:
        raise Conflict(
            f"request {request.id} replaces the seals or signature of someone who left "
            "(R-BNK-3): name who takes over and submit it; it cannot be withdrawn",
            code="departure_not_withdrawn",
        )
    if request.status not in LIVE_REQUEST_STATUSES:
        raise Conflict(f"request {request.id} is {request.status}", code="bad_state")
    if request.approval_request_id is not None:
        approvals.withdraw(session, principal, request.approval_request_id, by_owner=True)
        if request.status == "withdrawn":  # settled by the engine's call-back
            return request
    request.status, request.decided_at = "withdrawn", approvals.now()
    session.flush()
    record(session, principal, "banking.request_withdrawn", "bank_account_request", request.id)
    return request
