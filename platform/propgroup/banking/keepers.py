"""A seal keeper or signatory leaves (R-BNK-3, §10.1.4.3.5-6): deactivated, or no longer holding
a role at the account's unit. Each account they keep a seal of or sign for gets a required change
request (origin ``keeper_departure``, a draft naming what to replace) for finance to complete."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from propgroup.banking.lifecycle import system_draft
from propgroup.banking.models import (
    SEAL_KINDS,
    AccountSeal,
    AccountSignatory,
    BankAccount,
    BankAccountRequest,
)
from propgroup.banking.people import works_at
from propgroup.identity.models import User
from propgroup.org import service as org


def _kept(session: Session, user: User) -> dict[int, tuple[list[str], bool]]:
    """Account id → (seal kinds kept, signs) of the user's accounts not closed."""
    kept: dict[int, tuple[list[str], bool]] = {}
    for account_id, kind in session.execute(
        select(AccountSeal.account_id, AccountSeal.kind)
        .join(BankAccount, BankAccount.id == AccountSeal.account_id)
        .where(AccountSeal.keeper_id == user.id, BankAccount.status != "closed")
        .order_by(AccountSeal.kind)
    ):
        kept.setdefault(account_id, ([], False))[0].append(kind)
    for account_id in session.scalars(
        select(AccountSignatory.account_id)
        .join(BankAccount, BankAccount.id == AccountSignatory.account_id)
        .where(AccountSignatory.user_id == user.id, BankAccount.status != "closed")
    ):
        kept[account_id] = (kept.get(account_id, ([], False))[0], True)
    return kept


def person_left(session: Session, user: User) -> list[BankAccountRequest]:
    """Told by identity when a user is deactivated or loses a role, in the same transaction.
    Returns the change requests raised."""
    raised = []
    for account_id, (seals, signs) in sorted(_kept(session, user).items()):
        account = session.get(BankAccount, account_id, with_for_update=True)
        if works_at(session, user.id, org.get_unit(session, account.unit_id)):
            continue  # lost a role elsewhere; still staff of this account's unit
        what = [SEAL_KINDS[kind] for kind in seals] + (["授权签字人"] if signs else [])
        form = {
            "changes": {},
            "reason": f"{user.display_name} ({user.login}) 离开: 更换{'、'.join(what)} (R-BNK-3)",
            "departure": {"user": user.login, "seals": seals, "signatory": signs},
        }
        request = system_draft(
            session,
            account,
            "change",
            form,
            origin="keeper_departure",
            departed_user_id=user.id,
        )
        if request is not None:
            raised.append(request)
    return raised
