"""What stands in the way of an account request (R-BNK-1, R-BNK-2, R-BNK-3): an account that
cannot close, a second basic account, a second request under way, keepers and signatories who
are not three different people of the unit. Checked when a request is raised, revised, submitted
and again when it is approved, against the records as they are then."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, func, select
from sqlalchemy.orm import Session

from propgroup.banking import people
from propgroup.banking.models import (
    LIVE_REQUEST_STATUSES,
    AccountDeparture,
    AccountSeal,
    AccountSignatory,
    BankAccount,
    BankAccountRequest,
)
from propgroup.banking.service import book_balance
from propgroup.cashdesk.cheques import outstanding_cheques
from propgroup.cashdesk.models import Cheque, ChequeBook
from propgroup.errors import Conflict, InvalidInput
from propgroup.identity.models import User
from propgroup.org.models import OrgUnit


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
    cheques = outstanding_cheques(session, account.id)
    if cheques:
        numbers = ", ".join(cheque.number for cheque in cheques[:10])
        problems.append(
            f"{len(cheques)} cheque(s) are outstanding ({numbers}): account for or void them "
            "before closing"
        )
    unused = unused_cheques(session, account.id)
    if unused:
        books = ", ".join(f"{book.first_number}-{book.last_number}" for book, _ in unused[:10])
        problems.append(
            f"{sum(left for _, left in unused)} blank cheque(s) of book(s) {books} are unused: "
            "return them to the bank (重要空白票据) or void them before closing"
        )
    return problems


def unused_cheques(session: Session, account_id: int) -> list[tuple[ChequeBook, int]]:
    """The account's cheque books with numbers never written, and how many."""
    written = select(func.count(Cheque.id)).where(Cheque.book_id == ChequeBook.id).scalar_subquery()
    size = (
        func.cast(ChequeBook.last_number, BigInteger)
        - func.cast(ChequeBook.first_number, BigInteger)
        + 1
    )
    return [
        (book, left)
        for book, left in session.execute(
            select(ChequeBook, size - written)
            .where(ChequeBook.account_id == account_id)
            .order_by(ChequeBook.first_number)
        )
        if left > 0
    ]


def refuse_closing(session: Session, account: BankAccount) -> None:
    problems = closing_problems(session, account)
    if problems:
        raise Conflict("; ".join(problems), code="cannot_close", errors={"account_id": problems})


def advisory_lock(session: Session, *key: object) -> None:
    """Held until the transaction ends: a check-then-insert under it is not raced by another
    transaction doing the same with the same key."""
    session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(":".join(map(str, key)), 0)))
    )


def refuse_department(unit: OrgUnit) -> None:
    if unit.kind == "department":
        raise InvalidInput(
            "accounts are held by a branch, region or HQ, not a department",
            code="bad_unit",
            errors={"unit_id": ["a department"]},
        )


def refuse_second_basic(session: Session, unit: OrgUnit, *, request_id: int | None = None) -> None:
    """一个单位只能开立一个基本存款账户: no second basic account, open, pending or asked for.
    Under a lock per unit, so two approvals or registrations at once do not both pass."""
    advisory_lock(session, "bank_basic", unit.id)
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


def refuse_second_request(session: Session, account_id: int, request_id: int | None) -> None:
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


def seals_after(session: Session, account: BankAccount, changes: dict[str, Any]) -> dict[str, str]:
    seals = {seal.kind: keeper.login for seal, keeper in seals_of(session, account.id)}
    return {**seals, **changes.get("seals", {})}


def signatories_after(session: Session, account: BankAccount, changes: dict[str, Any]) -> list[str]:
    if "signatories" in changes:
        return changes["signatories"]
    return [user.login for _, user in signatories_of(session, account.id)]


def outstanding_departures(
    session: Session, account_id: int, *, lock: bool = False
) -> list[tuple[AccountDeparture, User]]:
    """The account's departures not yet resolved (R-BNK-3), oldest first."""
    query = (
        select(AccountDeparture, User)
        .join(User, User.id == AccountDeparture.user_id)
        .where(AccountDeparture.account_id == account_id, AccountDeparture.resolved_at.is_(None))
        .order_by(AccountDeparture.id)
    )
    return list(session.execute(query.with_for_update(of=AccountDeparture) if lock else query))


def check_departures(
    session: Session, account: BankAccount, seals: dict[str, str], signers: list[str]
) -> None:
    """Any change of an account with someone gone replaces what they kept (R-BNK-3), whatever
    else it changes and whoever raised it: the departure is the system's record, not the form's."""
    problems: dict[str, list[str]] = {}
    for _, user in outstanding_departures(session, account.id):
        for kind, keeper in seals.items():
            if keeper == user.login:
                problems[f"changes.seals.{kind}"] = [
                    f"{user.login} has left: name the seal's new keeper"
                ]
        if user.login in signers:
            problems["changes.signatories"] = [
                f"{user.login} has left: the signatories leave them out"
            ]
    if problems:
        raise InvalidInput(
            "the change replaces what the people who left kept (R-BNK-3)",
            code="departure_open",
            errors=problems,
        )


def check_content(
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
        refuse_closing(session, account)
        return
    if account.status == "closed":
        raise Conflict(f"account {account.id} is closed", code="account_closed")
    seals = seals_after(session, account, form["changes"])
    signers = signatories_after(session, account, form["changes"])
    check_departures(session, account, seals, signers)
    # Always: whoever keeps or signs after any change is eligible then (R-BNK-2, R-BNK-3).
    people.checked_people(session, unit, seals, signers)
