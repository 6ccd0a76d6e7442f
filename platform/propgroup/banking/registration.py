"""Registering account numbers: the number the bank gave an approved opening (pending → open),
and, for a group admin, an account that existed before the system, with its opening balance.
These are the only ways an account becomes open besides an approved request."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from marshmallow import fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from propgroup.approvals.service import today
from propgroup.archives.schedule import checked_by
from propgroup.audit.service import record
from propgroup.banking import numbers
from propgroup.banking.checks import advisory_lock, refuse_department, refuse_second_basic
from propgroup.banking.closure import ACCOUNT_ENTITY
from propgroup.banking.content import OpenFormSchema
from propgroup.banking.models import BankAccount, BookEntry
from propgroup.banking.schemas import ID
from propgroup.banking.service import may_read, read_account
from propgroup.banking.settle import seat_people
from propgroup.errors import Conflict, InvalidInput
from propgroup.identity.authz import authorize
from propgroup.identity.principals import Principal
from propgroup.money import to_money
from propgroup.org import service as org
from propgroup.storage import service as storage


def _number_taken(session: Session, principal: Principal, bank: str, number: str) -> None:
    """One account number once at one bank, found by its digest: nothing is decrypted. Held
    until commit (an advisory lock on bank and digest), so two registrations of one number
    cannot both pass the check; the second sees the first's row."""
    key = numbers.digest(session, number)
    advisory_lock(session, "bank_number", bank, key.hex())
    taken = session.scalar(
        select(BankAccount).where(BankAccount.bank == bank, BankAccount.number_digest == key)
    )
    if taken:
        # Another unit's account is not named to someone who may not read it.
        which = f" (account {taken.id})" if may_read(session, principal, taken) else ""
        raise Conflict(
            f"{bank} already has an account with the number ending {number[-4:]}{which}: one "
            "number is registered once at one bank",
            code="duplicate_account",
        )


def _set_number(session: Session, account: BankAccount, number: str) -> None:
    account.number_cipher = numbers.encrypt(session, number)
    account.number_digest = numbers.digest(session, number)
    account.number_last4 = number[-4:]


def _documents(
    session: Session, principal: Principal, account: BankAccount, ids: Sequence[int]
) -> list[int]:
    """Documents uploaded for this account (entity ``bank_account``) at its unit, readable by
    the caller."""
    problems = {}
    for index, document_id in enumerate(ids):
        document = storage.read_document(session, principal, document_id)
        if (document.entity_type, document.entity_id, document.unit_id) != (
            ACCOUNT_ENTITY,
            account.id,
            account.unit_id,
        ):
            problems[f"document_ids.{index}"] = [
                f"document {document_id} was not uploaded for account {account.id}"
            ]
    if problems:
        raise InvalidInput("documents were refused", code="bad_documents", errors=problems)
    return list(ids)


def register_opening(
    session: Session,
    principal: Principal,
    account_id: int,
    *,
    number: object,
    opened_on: date,
    document_ids: Sequence[int] = (),
) -> BankAccount:
    """The bank has opened the approved account: its number is recorded and it is open."""
    account = read_account(session, principal, account_id, "banking:write")
    session.refresh(account, with_for_update=True)
    checked = numbers.checked_number(number)
    if not isinstance(opened_on, date):
        raise InvalidInput(
            "give the day the bank opened the account", errors={"opened_on": ["required"]}
        )
    if account.status != "pending":
        raise Conflict(
            f"account {account.id} is {account.status}: a number is registered once, for an "
            "opening that was approved",
            code="not_pending",
        )
    _number_taken(session, principal, account.bank, checked)
    documents = _documents(session, principal, account, document_ids)
    _set_number(session, account, checked)
    account.status, account.opened_on = "open", opened_on
    session.flush()
    record(
        session,
        principal,
        "banking.account_opened",
        "bank_account",
        account.id,
        after={
            "number": numbers.masked(account.number_last4),
            "opened_on": opened_on,
            "documents": documents,
        },
    )
    return account


class ExistingAccountSchema(OpenFormSchema):
    """An account the unit held before the system: the opening form's content, its number and
    the bank journal's balance on the day it is carried over."""

    class Meta:
        exclude = ("reason",)

    unit_id = fields.Integer(required=True, strict=True, validate=ID)
    number = fields.Raw(required=True)
    opened_on = fields.Date(required=True)
    opening_balance = fields.Raw(required=True)
    balance_on = fields.Date(required=True)
    # Kept only in the audit event, written at commit: a NUL would fail there, after the answer.
    note = fields.String(
        required=True,
        validate=[
            validate.Length(min=1, max=2000),
            validate.Regexp(r"^[^\x00]*$", error="no NUL (0x00) characters"),
        ],
    )


def register_existing(session: Session, principal: Principal, spec: dict[str, Any]) -> BankAccount:
    """banking:admin registers an account opened before the system, open from the start, with
    its opening balance as the first bank journal entry (source ``opening``). Audited."""
    checked = checked_by(ExistingAccountSchema(), spec, "the account was refused", "bad_account")
    unit = org.get_unit(session, checked["unit_id"])
    authorize(session, principal, "banking:admin", unit)
    refuse_department(unit)
    if checked["opened_on"] > today(session):
        raise InvalidInput(
            "an existing account was opened on a day that has come",
            code="bad_date",
            errors={"opened_on": [f"at most {today(session)}"]},
        )
    number = numbers.checked_number(checked["number"])
    balance: Decimal = to_money(checked["opening_balance"], "opening_balance", allow_zero=True)
    if checked["account_type"] == "basic":
        refuse_second_basic(session, unit)
    _number_taken(session, principal, checked["bank"], number)
    account = BankAccount(
        unit_id=unit.id,
        **{
            name: checked[name]
            for name in (
                "bank",
                "bank_branch",
                "account_name",
                "account_type",
                "currency",
                "purpose",
                "single_purpose",
            )
        },
        status="open",
        opened_on=checked["opened_on"],
    )
    _set_number(session, account, number)
    session.add(account)
    session.flush()
    seat_people(session, account, checked["seals"], checked["signatories"])
    if balance != 0:
        session.add(
            BookEntry(
                account_id=account.id,
                entry_date=checked["balance_on"],
                amount=balance,
                description="期初余额 / opening balance",
                source="opening",
                created_by=principal.id if principal.kind == "user" else None,
            )
        )
        session.flush()
    record(
        session,
        principal,
        "banking.account_registered",
        "bank_account",
        account.id,
        after={
            "unit": unit.code,
            "bank": account.bank,
            "number": numbers.masked(account.number_last4),
            "opening_balance": balance,
            "balance_on": checked["balance_on"],
            "seals": checked["seals"],
            "signatories": checked["signatories"],
            "note": checked["note"],
        },
    )
    return account
