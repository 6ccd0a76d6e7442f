"""Opening, changing and closing an account (R-BNK-1): a request raised by the unit's finance,
approved through the approvals engine as a ``bank_account`` subject request. Only an approved
request changes an account: opening creates it (pending until the bank gives its number),
a change applies the form's changes, closing closes it once nothing stands in the way.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from propgroup.approvals import service as approvals
from propgroup.approvals.models import ApprovalRequest
from propgroup.audit.service import record
from propgroup.banking import people
from propgroup.banking.closure import file_account
from propgroup.banking.content import checked_form
from propgroup.banking.handover import handover_due
from propgroup.banking.models import (
    LIVE_REQUEST_STATUSES,
    REQUEST_KINDS,
    SEAL_KINDS,
    AccountSeal,
    AccountSignatory,
    BankAccount,
    BankAccountRequest,
)
from propgroup.banking.service import book_balance, read_account
from propgroup.db import BIGINT_MAX
from propgroup.errors import Conflict, Forbidden, InvalidInput, NotFound
from propgroup.identity.authz import authorize, can, visible_units
from propgroup.identity.models import User
from propgroup.identity.principals import SYSTEM, Principal
from propgroup.org import service as org
from propgroup.org.models import OrgUnit

REQUEST_TYPE = "bank_account"
_SETTLED = {"approved": "approved", "rejected": "returned", "withdrawn": "withdrawn"}


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


def seals_of(session: Session, account_id: int) -> list[tuple[AccountSeal, User]]:
    return list(
        session.execute(
            select(AccountSeal, User)
            .join(User, User.id == AccountSeal.keeper_id)
            .where(AccountSeal.account_id == account_id)
            .order_by(AccountSeal.kind)
        )
    )


def signatories_of(session: Session, account_id: int) -> list[tuple[AccountSignatory, User]]:
    return list(
        session.execute(
            select(AccountSignatory, User)
            .join(User, User.id == AccountSignatory.user_id)
            .where(AccountSignatory.account_id == account_id)
            .order_by(User.login)
        )
    )


# --- what stands in the way -----------------------------------------------------------------


def closing_problems(session: Session, account: BankAccount) -> list[str]:
    """Every reason the account cannot close now; empty when it can. The one place that knows:
    capabilities holding an account's money or paper (cheques) add their reason here."""
    problems = []
    if account.status == "closed":
        problems.append(f"account {account.id} is closed already (on {account.closed_on})")
    balance = book_balance(session, account.id)
    if balance != 0:
        problems.append(
            f"the bank journal's balance is {balance:,.2f} {account.currency}, not zero: "
            "transfer it out and book it before closing"
        )
    return problems


def _refuse_closing(session: Session, account: BankAccount) -> None:
    problems = closing_problems(session, account)
    if problems:
        raise Conflict("; ".join(problems), code="cannot_close", errors={"account_id": problems})


def refuse_second_basic(session: Session, unit: OrgUnit, *, request_id: int | None = None) -> None:
    """一个单位只能开立一个基本存款账户: no second basic account, open, pending or asked for."""
    account = session.scalar(
        select(BankAccount.id).where(
            BankAccount.unit_id == unit.id,
            BankAccount.account_type == "basic",
            BankAccount.status != "closed",
        )
    )
    asked = session.scalar(
        select(BankAccountRequest.id).where(
            BankAccountRequest.unit_id == unit.id,
            BankAccountRequest.kind == "open",
            BankAccountRequest.status.in_(LIVE_REQUEST_STATUSES),
            BankAccountRequest.form["account_type"].astext == "basic",
            BankAccountRequest.id != (request_id or 0),
        )
    )
    if account or asked:
        where = f"account {account}" if account else f"request {asked}"
        raise Conflict(
            f"{unit.code} has a basic account already ({where}): a unit holds one basic "
            "account (基本存款账户)",
            code="second_basic_account",
        )


def _refuse_second_request(session: Session, account_id: int, request_id: int | None) -> None:
    live = session.scalar(
        select(BankAccountRequest.id).where(
            BankAccountRequest.account_id == account_id,
            BankAccountRequest.status.in_(LIVE_REQUEST_STATUSES),
            BankAccountRequest.id != (request_id or 0),
        )
    )
    if live:
        raise Conflict(
            f"account {account_id} has request {live} under way: change or withdraw it first",
            code="request_under_way",
        )


def _seals_after(session: Session, account: BankAccount, changes: dict[str, Any]) -> dict[str, str]:
    seals = {seal.kind: keeper.login for seal, keeper in seals_of(session, account.id)}
    return {**seals, **changes.get("seals", {})}


def _signatories_after(
    session: Session, account: BankAccount, changes: dict[str, Any]
) -> list[str]:
    if "signatories" in changes:
        return changes["signatories"]
    return [user.login for _, user in signatories_of(session, account.id)]


def _check_departure(form: dict[str, Any], seals: dict[str, str], signers: list[str]) -> None:
    """A change raised by a departure (R-BNK-3) replaces what the one leaving kept."""
    departure = form.get("departure")
    if not departure:
        return
    left = departure["user"]
    problems = {
        f"changes.seals.{kind}": [f"{left} has left: name the seal's new keeper"]
        for kind in departure["seals"]
        if seals.get(kind) == left
    }
    if left in signers:
        problems["changes.signatories"] = [f"{left} has left: the signatories leave them out"]
    if problems:
        raise InvalidInput(
            f"the change replaces what {left} kept (R-BNK-3)",
            code="departure_open",
            errors=problems,
        )


def _check_content(
    session: Session,
    kind: str,
    unit: OrgUnit,
    account: BankAccount | None,
    form: dict[str, Any],
    request_id: int | None = None,
) -> None:
    """The form against the records: people, one basic account, an account that can close."""
    if kind == "open":
        if form["account_type"] == "basic":
            refuse_second_basic(session, unit, request_id=request_id)
        people.checked_people(session, unit, form["seals"], form["signatories"])
        return
    assert account is not None
    if kind == "close":
        _refuse_closing(session, account)
        return
    if account.status == "closed":
        raise Conflict(f"account {account.id} is closed", code="account_closed")
    seals = _seals_after(session, account, form["changes"])
    signers = _signatories_after(session, account, form["changes"])
    _check_departure(form, seals, signers)
    if "seals" in form["changes"] or "signatories" in form["changes"]:
        people.checked_people(session, unit, seals, signers)


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
        if unit.kind == "department":
            raise InvalidInput(
                "accounts are held by a branch, region or HQ, not a department",
                code="bad_unit",
                errors={"unit_id": ["a department"]},
            )
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
        _refuse_second_request(session, account.id, None)
    _check_content(session, kind, unit, account, checked)
    request = BankAccountRequest(
        kind=kind,
        unit_id=unit.id,
        account_id=account.id if account else None,
        form=checked,
        origin="finance",
        status="draft",
        created_by=principal.id,
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
    _person(principal)
    request = read_request(session, principal, request_id, "banking:write", lock=True)
    if request.status not in ("draft", "returned"):
        raise Conflict(
            f"request {request.id} is {request.status}: only a draft or a returned request "
            "changes or goes (again) into approval",
            code="bad_state",
        )
    return request


def _account_of(session: Session, request: BankAccountRequest) -> BankAccount | None:
    if request.account_id is None:
        return None
    return session.get(BankAccount, request.account_id, with_for_update=True)


def _form_kept(request: BankAccountRequest, form: dict[str, Any]) -> dict[str, Any]:
    """What the system wrote on the form (the departure to replace) stays on it."""
    if request.form.get("departure"):
        form = {**form, "departure": request.form["departure"]}
    return checked_form(request.kind, form)


def revise(
    session: Session, principal: Principal, request_id: int, form: object
) -> BankAccountRequest:
    request = _revisable(session, principal, request_id)
    checked = _form_kept(request, form if isinstance(form, dict) else {})
    unit = org.get_unit(session, request.unit_id)
    _check_content(session, request.kind, unit, _account_of(session, request), checked, request.id)
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
    checked = checked_form(request.kind, request.form)
    unit = org.get_unit(session, request.unit_id)
    _check_content(session, request.kind, unit, _account_of(session, request), checked, request.id)
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
    """Taken back by finance: a draft or returned request ends; one in approval is withdrawn
    from the engine, which tells ``account_request_settled``."""
    _person(principal)
    request = read_request(session, principal, request_id, "banking:write", lock=True)
    if request.status == "submitted":
        approvals.withdraw(session, principal, request.approval_request_id, by_owner=True)
        return request
    if request.status not in ("draft", "returned"):
        raise Conflict(f"request {request.id} is {request.status}", code="bad_state")
    request.status, request.decided_at = "withdrawn", approvals.now()
    session.flush()
    record(session, principal, "banking.request_withdrawn", "bank_account_request", request.id)
    return request


# --- the engine's word ------------------------------------------------------------------------


def account_request_settled(session: Session, approval: ApprovalRequest) -> None:
    """Called by the engine, in its transaction, when a ``bank_account`` request is approved,
    returned or withdrawn. Approval applies the form; a refusal here (a balance left on an
    account to close) refuses the approver's decision, and nothing is written."""
    request = session.scalar(
        select(BankAccountRequest)
        .where(BankAccountRequest.approval_request_id == approval.id)
        .with_for_update()
    )
    if request is None or request.status != "submitted":
        return
    request.status, request.decided_at = _SETTLED[approval.status], approval.decided_at
    applied: dict[str, Any] = {}
    if request.status == "approved":
        applied = _APPLY[request.kind](session, request)
    session.flush()
    record(
        session,
        SYSTEM,
        f"banking.request_{request.status}",
        "bank_account_request",
        request.id,
        after={"approval_request": approval.id, "account": request.account_id, **applied},
    )


def _today(session: Session) -> date:
    return approvals.today(session)


def seat_people(
    session: Session, account: BankAccount, seals: dict[str, str], signers: list[str] | None
) -> None:
    """The account's seals (and signatories, when given) become these people's from today."""
    unit = org.get_unit(session, account.unit_id)
    keepers, signatories = people.checked_people(
        session,
        unit,
        seals,
        signers if signers is not None else _signatories_after(session, account, {}),
    )
    today = _today(session)
    current = {seal.kind: seal for seal, _ in seals_of(session, account.id)}
    changed = [
        kind
        for kind in SEAL_KINDS
        if kind not in current or current[kind].keeper_id != keepers[kind].id
    ]
    # Delete before insert: keepers may swap seals, and one keeper holds one seal (DB-unique).
    session.execute(
        delete(AccountSeal).where(
            AccountSeal.account_id == account.id, AccountSeal.kind.in_(changed)
        )
    )
    session.flush()
    session.add_all(
        AccountSeal(account_id=account.id, kind=kind, keeper_id=keepers[kind].id, since=today)
        for kind in changed
    )
    if signers is not None:
        kept = {s.user_id: s for s, _ in signatories_of(session, account.id)}
        wanted = {user.id for user in signatories}
        for user_id in set(kept) - wanted:
            session.delete(kept[user_id])
        session.add_all(
            AccountSignatory(account_id=account.id, user_id=user_id, since=today)
            for user_id in wanted - set(kept)
        )
    session.flush()


def _apply_open(session: Session, request: BankAccountRequest) -> dict[str, Any]:
    form = request.form
    unit = org.get_unit(session, request.unit_id)
    if form["account_type"] == "basic":
        refuse_second_basic(session, unit, request_id=request.id)
    account = BankAccount(
        unit_id=unit.id,
        bank=form["bank"],
        bank_branch=form["bank_branch"],
        account_name=form["account_name"],
        account_type=form["account_type"],
        currency=form["currency"],
        purpose=form["purpose"],
        single_purpose=form["single_purpose"],
        status="pending",
    )
    session.add(account)
    session.flush()
    seat_people(session, account, form["seals"], form["signatories"])
    request.account_id = account.id
    return {"opened_pending": account.id}


_DETAILS = ("purpose", "bank_branch", "account_name", "purpose_finished_on")


def _apply_change(session: Session, request: BankAccountRequest) -> dict[str, Any]:
    account = session.get(BankAccount, request.account_id, with_for_update=True)
    if account.status == "closed":
        raise Conflict(f"account {account.id} is closed", code="account_closed")
    changes = request.form["changes"]
    before = {name: getattr(account, name) for name in _DETAILS if name in changes}
    for name in before:
        value = changes[name]
        setattr(
            account, name, date.fromisoformat(value) if name == "purpose_finished_on" else value
        )
    seals = _seals_after(session, account, changes)
    signers = _signatories_after(session, account, changes)
    _check_departure(request.form, seals, signers)
    if "seals" in changes or "signatories" in changes:
        seat_people(session, account, seals, changes.get("signatories"))
    handover = None
    if request.form.get("departure"):
        handover = handover_due(session, request, account)
    return {"before": before, "changes": changes, "handover": handover}


def _apply_close(session: Session, request: BankAccountRequest) -> dict[str, Any]:
    account = session.get(BankAccount, request.account_id, with_for_update=True)
    _refuse_closing(session, account)
    account.status, account.closed_on = "closed", _today(session)
    session.flush()
    item = file_account(session, account)
    return {"closed_on": account.closed_on, "archive_item": item.id}


_APPLY = {"open": _apply_open, "change": _apply_change, "close": _apply_close}
