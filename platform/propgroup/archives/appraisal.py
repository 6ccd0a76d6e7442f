"""Appraisal (鉴定, R-ARC-1): the yearly sweep lists items past retention, which makes them due;
each is appraised by two people, one proposing to keep it longer (with a new date) or to destroy
it, and another agreeing or not. A held item is never appraised for destruction (R-ARC-2)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from propgroup.approvals import service as approvals
from propgroup.archives import appraisal_lists, locks
from propgroup.archives.models import Appraisal, ArchiveItem
from propgroup.archives.schedule import due_date, rule_for
from propgroup.archives.service import is_held, item_for, required_text, signed_by_person
from propgroup.audit.service import record
from propgroup.db import BIGINT_MAX
from propgroup.errors import Conflict, Forbidden, InvalidInput, NotFound
from propgroup.identity.principals import SYSTEM, Principal

# --- the yearly sweep -----------------------------------------------------------------------


def sweep_due(session: Session, today: date) -> int:
    """List every kept item whose due date has come (not listed already): it is due for
    appraisal. Returns how many the year's list holds."""
    listing = appraisal_lists.sweep(session, today)
    record(
        session,
        SYSTEM,
        "archives.retention_swept",
        "archive_appraisal_list",
        listing.id,
        after={"day": today, "due": listing.found},
    )
    return listing.found


# --- appraisal ------------------------------------------------------------------------------


def _past_retention(item: ArchiveItem, today: date) -> None:
    if not may_be_appraised(item, today):
        raise Conflict(
            f"archive item {item.id} is not past retention (due {item.due_on or 'never'}, "
            f"{item.status})",
            code="not_due",
            errors={"due_on": str(item.due_on) if item.due_on else None, "status": item.status},
        )


def refuse_held(session: Session, item: ArchiveItem) -> None:
    if is_held(session, item.id):
        raise Conflict(
            f"archive item {item.id} is under legal hold and is never destroyed (R-ARC-2)",
            code="held",
        )


def propose(
    session: Session,
    principal: Principal,
    item_id: int,
    *,
    decision: str,
    reason: str,
    keep_until: date | None = None,
) -> Appraisal:
    """The first appraiser's opinion on an item past retention."""
    signed_by_person(principal)
    if decision not in ("keep", "destroy"):
        raise InvalidInput("decision is keep or destroy", errors={"decision": ["keep|destroy"]})
    text = required_text(reason, "reason")
    item = item_for(session, principal, item_id, "archives:appraise", lock=True)
    today = approvals.today(session)
    _past_retention(item, today)
    if decision == "keep" and (keep_until is None or keep_until <= today):
        raise InvalidInput(
            "keeping longer needs a new date after today",
            code="bad_keep_until",
            errors={"keep_until": ["a day after today"]},
        )
    if decision == "destroy":
        if keep_until is not None:
            raise InvalidInput("only keeping takes a date", errors={"keep_until": ["not here"]})
        refuse_held(session, item)
    if session.scalar(
        select(Appraisal.id).where(Appraisal.item_id == item.id, Appraisal.confirmed_at.is_(None))
    ):
        raise Conflict(f"archive item {item.id} has an open appraisal", code="appraisal_open")
    appraisal = Appraisal(
        item_id=item.id,
        decision=decision,
        keep_until=keep_until,
        reason=text,
        proposed_by=principal.id,
    )
    session.add(appraisal)
    session.flush()
    record(
        session,
        principal,
        "archives.appraisal_proposed",
        "archive_item",
        item.id,
        after={"appraisal": appraisal.id, "decision": decision, "keep_until": keep_until},
    )
    return appraisal


def confirm(
    session: Session, principal: Principal, appraisal_id: int, *, agree: bool, comment: str
) -> Appraisal:
    """The second appraiser: agreeing puts the decision into effect, disagreeing closes it."""
    signed_by_person(principal)
    text = required_text(comment, "comment")
    appraisal_lists.hold_off_sweep(session)
    appraisal = (
        session.get(Appraisal, appraisal_id, with_for_update=True)
        if 0 < appraisal_id <= BIGINT_MAX
        else None
    )
    if appraisal is None:
        raise NotFound(f"appraisal {appraisal_id} does not exist", code="appraisal_not_found")
    item = item_for(session, principal, appraisal.item_id, "archives:appraise", lock=True)
    if appraisal.confirmed_at is not None:
        raise Conflict(f"appraisal {appraisal_id} is closed", code="appraisal_closed")
    if appraisal.proposed_by == principal.id:
        raise Forbidden("an appraisal needs a second person (R-ARC-1)", code="second_person")
    today = approvals.today(session)
    _past_retention(item, today)
    if agree and appraisal.decision == "destroy":
        refuse_held(session, item)
        item.stage = "to_destroy"
    elif agree:
        item.kept_until = appraisal.keep_until
        item.due_on = due_date(
            rule_for(session, item.class_code, to_compute=True),
            item.fiscal_year,
            item.disposed_on,
            item.kept_until,
        )
        locks.sync_later(session, item_ids=[item.id])  # the lock lengthens with it
    appraisal.confirmed_by, appraisal.confirmed_at = principal.id, approvals.now()
    appraisal.agreed = agree
    if agree:  # no longer due: its line on the appraisal list names this appraisal
        appraisal_lists.settle(session, [item.id], appraisal_id=appraisal.id)
    session.flush()
    record(
        session,
        principal,
        "archives.appraisal_confirmed" if agree else "archives.appraisal_declined",
        "archive_item",
        item.id,
        after={
            "appraisal": appraisal.id,
            "decision": appraisal.decision,
            "comment": text,
            "due_on": item.due_on,
            "status": item.status,
        },
    )
    return appraisal


def appraisals_of(session: Session, item: ArchiveItem) -> list[Appraisal]:
    """The item's appraisals, newest first; an open one (not yet confirmed) comes first."""
    return list(
        session.scalars(
            select(Appraisal).where(Appraisal.item_id == item.id).order_by(Appraisal.id.desc())
        )
    )


def may_be_appraised(item: ArchiveItem, today: date) -> bool:
    """Past retention and in custody: what an appraiser is asked about."""
    return item.status in ("kept", "due") and item.due_on is not None and item.due_on <= today
