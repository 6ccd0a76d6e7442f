"""The handover a keeper's departure makes due (R-BNK-3, §10.1.4.3.5: 保管人发生工作变动、离开公司
时，应及时办理交接手续). The change request raised at the departure records what is due (the
seals, the signature); the handover list itself (archives/handovers.py) is drawn up when the change
is approved, because only then is the one taking over known. It is signed as any handover list."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from propgroup.approvals.models import RequestStep
from propgroup.archives.models import Handover, HandoverLine
from propgroup.audit.service import record
from propgroup.banking.models import SEAL_KINDS, AccountSeal, BankAccount, BankAccountRequest
from propgroup.identity.principals import SYSTEM


def _supervisor(session: Session, request: BankAccountRequest, excluded: set[int]) -> int | None:
    """监交人: the latest approver of the change who is neither of the two handing over."""
    deciders = session.scalars(
        select(RequestStep.decided_by)
        .where(
            RequestStep.request_id == request.approval_request_id,
            RequestStep.status == "approved",
        )
        .order_by(RequestStep.revision.desc(), RequestStep.seq.desc())
    )
    return next((user_id for user_id in deciders if user_id not in excluded), None)


def handover_due(session: Session, request: BankAccountRequest, account: BankAccount) -> int | None:
    """An open handover list from the one who left to the new keeper of their seals (the new
    signatories sign with the bank; there is nothing physical to hand over for a signature)."""
    departure: dict[str, Any] = request.form["departure"]
    if not departure["seals"]:
        return None
    seals = {
        seal.kind: seal.keeper_id
        for seal in session.scalars(select(AccountSeal).where(AccountSeal.account_id == account.id))
    }
    receiving = seals[departure["seals"][0]]
    leaving = request.departed_user_id
    supervisor = _supervisor(session, request, {leaving, receiving})
    if supervisor is None:
        return None
    handover = Handover(
        unit_id=account.unit_id,
        leaving_id=leaving,
        receiving_id=receiving,
        supervisor_id=supervisor,
        reason=f"银行账户 ****{account.number_last4 or '----'} 预留印鉴保管人变更 "
        f"(request #{request.id}, R-BNK-3)",
        created_by=request.submitted_by,
    )
    session.add(handover)
    session.flush()
    session.add_all(
        HandoverLine(
            handover_id=handover.id,
            kind="seal",
            description=f"{SEAL_KINDS[kind]} · {account.bank} ****{account.number_last4 or '----'}",
        )
        for kind in departure["seals"]
    )
    session.flush()
    record(
        session,
        SYSTEM,
        "archives.handover_opened",
        "archive_handover",
        handover.id,
        after={"bank_account_request": request.id, "seals": departure["seals"]},
    )
    return handover.id
