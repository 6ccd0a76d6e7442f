"""The approvals engine's word on a bank account request: approved, the form is applied (an
opening creates the pending account with its seals and signatories, a change replaces them, a
closing closes the account and files its file, R-BNK-6); returned or withdrawn, nothing changes.
A refusal here refuses the approver's decision, and nothing is written."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from propgroup.approvals import service as approvals
from propgroup.approvals.models import ApprovalRequest
from propgroup.audit.service import record
from propgroup.banking import people
from propgroup.banking.checks import (
    check_departures,
    refuse_closing,
    refuse_second_basic,
    seals_after,
    seals_of,
    signatories_after,
    signatories_of,
)
from propgroup.banking.closure import file_account
from propgroup.banking.handover import resolve_departures
from propgroup.banking.models import (
    SEAL_KINDS,
    AccountSeal,
    AccountSignatory,
    BankAccount,
    BankAccountRequest,
)
from propgroup.errors import Conflict
from propgroup.identity.principals import SYSTEM
from propgroup.org import service as org

_SETTLED = {"approved": "approved", "rejected": "returned", "withdrawn": "withdrawn"}


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
        signers if signers is not None else signatories_after(session, account, {}),
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
    seals = seals_after(session, account, changes)
    signers = signatories_after(session, account, changes)
    check_departures(session, account, seals, signers)
    # Seated (and so checked) on every change: a keeper who left since the request was raised
    # stops any change of the account, not only one of its seals (R-BNK-3).
    seat_people(session, account, seals, changes.get("signatories"))
    handovers = resolve_departures(session, request, account)
    return {"before": before, "changes": changes, "handovers": handovers}


def _apply_close(session: Session, request: BankAccountRequest) -> dict[str, Any]:
    account = session.get(BankAccount, request.account_id, with_for_update=True)
    refuse_closing(session, account)
    account.status, account.closed_on = "closed", _today(session)
    session.flush()
    resolve_departures(session, request, account)  # the account's seals go with it
    item = file_account(session, account)
    return {"closed_on": account.closed_on, "archive_item": item.id}


_APPLY = {"open": _apply_open, "change": _apply_change, "close": _apply_close}
