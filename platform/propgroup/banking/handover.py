"""The handover a keeper's departure makes due (R-BNK-3, §10.1.4.3.5: 保管人发生工作变动、离开公司
时，应及时办理交接手续). The departure is recorded the moment they leave (keepers.py: what is due,
the seals); the handover list itself (archives/handovers.py) is drawn up when the change naming
the new keeper is approved, because only then is the one taking over known. It is signed by
three as any handover list, the third (监交人) an approver of the change: none, no approval.

A signatory's departure hands nothing over: a signature is registered with the bank and ends
with the change, and the online-banking token (U盾) is not issued to signatories here but to
the cashier's desk, whose handover is the cash desk's (R-CASH)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from propgroup.approvals import service as approvals
from propgroup.approvals.models import RequestStep
from propgroup.archives.models import Handover, HandoverLine
from propgroup.audit.service import record
from propgroup.banking.checks import outstanding_departures
from propgroup.banking.models import (
    SEAL_KINDS,
    AccountDeparture,
    AccountSeal,
    BankAccount,
    BankAccountRequest,
)
from propgroup.errors import Conflict
from propgroup.identity.principals import SYSTEM


def _supervisor(session: Session, request: BankAccountRequest, excluded: set[int]) -> int:
    """监交人: the latest approver of the change who is neither of the two handing over."""
    deciders = session.scalars(
        select(RequestStep.decided_by)
        .where(
            RequestStep.request_id == request.approval_request_id,
            RequestStep.status == "approved",
        )
        .order_by(RequestStep.revision.desc(), RequestStep.seq.desc())
    )
    supervisor = next((user_id for user_id in deciders if user_id not in excluded), None)
    if supervisor is None:
        raise Conflict(
            f"request {request.id}: no approver of the change can supervise the seals' handover "
            "(监交人), as every approver hands over or takes over a seal: have another approve",
            code="no_handover_supervisor",
        )
    return supervisor


def _handover(
    session: Session,
    request: BankAccountRequest,
    account: BankAccount,
    departure: AccountDeparture,
    receiving: int,
    kinds: list[str],
) -> int:
    mask = f"****{account.number_last4 or '----'}"
    handover = Handover(
        unit_id=account.unit_id,
        leaving_id=departure.user_id,
        receiving_id=receiving,
        supervisor_id=_supervisor(session, request, {departure.user_id, receiving}),
        reason=f"银行账户 {mask} 预留印鉴保管人变更 (request #{request.id}, R-BNK-3)",
        created_by=request.submitted_by,
    )
    session.add(handover)
    session.flush()
    session.add_all(
        HandoverLine(
            handover_id=handover.id,
            kind="seal",
            description=f"{SEAL_KINDS[kind]} · {account.bank} {mask}",
        )
        for kind in kinds
    )
    session.flush()
    record(
        session,
        SYSTEM,
        "archives.handover_opened",
        "archive_handover",
        handover.id,
        after={"bank_account_request": request.id, "departure": departure.id, "seals": kinds},
    )
    return handover.id


def resolve_departures(
    session: Session, request: BankAccountRequest, account: BankAccount
) -> list[int]:
    """After an approved change (checked: nobody gone keeps or signs anything now) or closing:
    every outstanding departure is resolved, audited, and a change opens the handover list of
    each seal to its new keeper. Returns the handover ids."""
    keepers = {
        seal.kind: seal.keeper_id
        for seal in session.scalars(select(AccountSeal).where(AccountSeal.account_id == account.id))
    }
    handovers = []
    for departure, user in outstanding_departures(session, account.id, lock=True):
        if request.kind == "change":
            by_receiver: dict[int, list[str]] = {}
            for kind in departure.seals:
                by_receiver.setdefault(keepers[kind], []).append(kind)
            handovers += [
                _handover(session, request, account, departure, receiving, kinds)
                for receiving, kinds in sorted(by_receiver.items())
            ]
        departure.resolved_at, departure.resolved_by = approvals.now(), request.id
        session.flush()
        record(
            session,
            SYSTEM,
            "banking.departure_resolved",
            "bank_account",
            account.id,
            after={"departure": departure.id, "user": user.login, "request": request.id},
        )
    return handovers
