"""A seal keeper or signatory leaves (R-BNK-3, §10.1.4.3.5-6): deactivated, or no longer holding
a role at the account's unit. Each account they keep a seal of or sign for gets a required change
request (origin ``keeper_departure``, a draft naming what to replace) for finance to complete,
and a departure record that outlives the draft: no change of the account is approved while it
is outstanding (checks.check_departures)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from propgroup.audit.service import record
from propgroup.banking.lifecycle import system_draft
from propgroup.banking.models import (
    SEAL_KINDS,
    AccountDeparture,
    AccountSeal,
    AccountSignatory,
    BankAccount,
    BankAccountRequest,
)
from propgroup.banking.people import works_at
from propgroup.identity.models import User
from propgroup.identity.principals import SYSTEM
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


def _due(
    session: Session, account: BankAccount, user: User, seals: list[str], signs: bool
) -> AccountDeparture:
    """The departure recorded on the account at once, outstanding until a change resolves it
    (one per person and account: a second notice of the same person widens it)."""
    departure = session.scalar(
        select(AccountDeparture)
        .where(
            AccountDeparture.account_id == account.id,
            AccountDeparture.user_id == user.id,
            AccountDeparture.resolved_at.is_(None),
        )
        .with_for_update()
    )
    if departure is None:
        departure = AccountDeparture(account_id=account.id, user_id=user.id, seals=[])
        session.add(departure)
    departure.seals = sorted({*departure.seals, *seals})
    departure.signatory = bool(departure.signatory) or signs
    session.flush()
    record(
        session,
        SYSTEM,
        "banking.departure_due",
        "bank_account",
        account.id,
        after={"departure": departure.id, "user": user.login, "seals": seals, "signatory": signs},
    )
    return departure


def person_left(session: Session, user: User) -> list[BankAccountRequest]:
    """Told by identity when a user is deactivated or loses a role, in the same transaction.
    Each account gets its departure recorded (the handover due) and, unless a request of the
    account is under way already (which must then resolve it to be approved), a change draft.
    Returns the change requests raised."""
    raised = []
    for account_id, (seals, signs) in sorted(_kept(session, user).items()):
        account = session.get(BankAccount, account_id, with_for_update=True)
        if works_at(session, user.id, org.get_unit(session, account.unit_id)):
            continue  # lost a role elsewhere; still staff of this account's unit
        _due(session, account, user, seals, signs)
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
