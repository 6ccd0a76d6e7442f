"""The weekly fund report (资金周报, R-REP-2): taking a week's snapshot of every account's book
figures, regenerating it on purpose, and each unit confirming (上报) its week.

Weeks run Monday to Sunday in the group's own zone: a journal entry belongs to the week of its
entry date (a local day), and a week can be taken once its Sunday is over there.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import astuple
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, literal, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from propgroup.approvals import service as approvals
from propgroup.audit.service import record
from propgroup.banking.models import BankAccount, BookEntry
from propgroup.banking.service import book_balance
from propgroup.errors import Conflict, Forbidden, InvalidInput, NotFound
from propgroup.fundreport.models import FundConfirmation, FundLine, FundWeek
from propgroup.fundreport.rollup import flows_of
from propgroup.identity.authz import authorize
from propgroup.identity.models import RoleAssignment
from propgroup.identity.permissions import roles_granting
from propgroup.identity.principals import SYSTEM, Principal
from propgroup.org import service as org
from propgroup.org.models import OrgUnit
from propgroup.tenancy.settings import tenant_zone

# Units confirm their week by Monday noon (local); later ones are listed as late.
CONFIRM_BY = time(12)


# --- weeks --------------------------------------------------------------------------------


def checked_week(value: object) -> date:
    """A week is named by its last day, a Sunday."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, date) or value.isoweekday() != 7:
        raise InvalidInput(
            "a week is named by its Sunday, as YYYY-MM-DD",
            code="bad_week",
            errors={"week_ending": ["a Sunday, YYYY-MM-DD"]},
        )
    return value


def last_ended_week(session: Session) -> date:
    """The Sunday of the latest week that is over in the group's zone."""
    local = approvals.today(session)
    return local - timedelta(days=local.isoweekday())


def confirm_deadline(session: Session, week_ending: date) -> datetime:
    return datetime.combine(week_ending + timedelta(days=1), CONFIRM_BY, tenant_zone(session))


def find_week(session: Session, week_ending: date) -> FundWeek | None:
    return session.scalar(select(FundWeek).where(FundWeek.week_ending == week_ending))


def read_week(session: Session, week_ending: object) -> FundWeek:
    week = find_week(session, checked_week(week_ending))
    if week is None:
        raise NotFound(f"no fund report for the week ending {week_ending}", code="week_not_found")
    return week


def lines_of(session: Session, week: FundWeek) -> list[FundLine]:
    return list(session.scalars(select(FundLine).where(FundLine.week_id == week.id)))


# --- taking a week ------------------------------------------------------------------------


def _open_during(monday: date, sunday: date):
    """Accounts with a number that were open on some day of the week."""
    return and_(
        BankAccount.status != "pending",
        or_(BankAccount.opened_on.is_(None), BankAccount.opened_on <= sunday),
        or_(BankAccount.closed_on.is_(None), BankAccount.closed_on >= monday),
    )


def _summed(condition) -> Any:
    return func.coalesce(func.sum(BookEntry.amount).filter(condition), literal(0))


def account_weeks(session: Session, week_ending: date) -> list[FundLine]:
    """Every account's week, from the bank journal as it stands: opening + receipts − payments
    must give the book balance at the week's end, or the journal moved while it was read."""
    monday = week_ending - timedelta(days=6)
    in_week, amount = BookEntry.entry_date >= monday, BookEntry.amount
    rows = session.execute(
        select(
            BankAccount,
            OrgUnit.path,
            _summed(BookEntry.entry_date < monday),
            _summed(in_week & (amount > 0)),
            -_summed(in_week & (amount < 0)),
        )
        .join(OrgUnit, OrgUnit.id == BankAccount.unit_id)
        .outerjoin(
            BookEntry,
            and_(BookEntry.account_id == BankAccount.id, BookEntry.entry_date <= week_ending),
        )
        .where(_open_during(monday, week_ending))
        .group_by(BankAccount.id, OrgUnit.path)
        .order_by(OrgUnit.path, BankAccount.id)
    ).all()
    lines = []
    for account, path, opening, receipts, payments in rows:
        line = FundLine(
            account_id=account.id,
            unit_id=account.unit_id,
            unit_path=path,
            account_type=account.account_type,
            currency=account.currency,
            opening=opening,
            receipts=receipts,
            payments=payments,
            closing=book_balance(session, account.id, week_ending),
        )
        if not flows_of(line).balanced:
            raise Conflict(
                f"the bank journal of account {account.id} changed while the week was read; "
                "take the week again",
                code="journal_moving",
            )
        lines.append(line)
    return lines


def _lock_week(session: Session, week_ending: date) -> None:
    """One taker of a week at a time (the job and a person regenerating, or two workers)."""
    key = func.hashtextextended(
        literal("fundreport:") + func.current_schema() + literal(week_ending.isoformat()), 0
    )
    session.execute(select(func.pg_advisory_xact_lock(key)))


def _ended(session: Session, week_ending: object) -> date:
    week_ending = checked_week(week_ending)
    if week_ending > last_ended_week(session):
        raise InvalidInput(f"the week ending {week_ending} is not over yet", code="week_not_over")
    return week_ending


def _taken(session: Session, principal: Principal, week: FundWeek) -> list[FundLine]:
    lines = account_weeks(session, week.week_ending)
    week.generated_at, week.generated_by = approvals.now(), principal.name
    for line in lines:
        line.week_id = week.id
    session.add_all(lines)
    session.flush()
    return lines


def _summary(week: FundWeek, lines: list[FundLine]) -> dict[str, Any]:
    closing: defaultdict[str, Any] = defaultdict(int)
    for line in lines:
        closing[line.currency] += line.closing
    return {
        "week_ending": week.week_ending,
        "revision": week.revision,
        "accounts": len(lines),
        "closing": dict(closing),
    }


def ensure_week(session: Session, week_ending: date) -> tuple[FundWeek, bool]:
    """The week's report, taken now by the system if it has none (the week-end job): running
    again for the same week changes nothing. Returns (week, whether it was taken now)."""
    week_ending = _ended(session, week_ending)
    _lock_week(session, week_ending)
    week = find_week(session, week_ending)
    if week is not None:
        return week, False
    return _generated(session, SYSTEM, week_ending), True


def _generated(session: Session, principal: Principal, week_ending: date) -> FundWeek:
    week = FundWeek(
        week_ending=week_ending, revision=1, generated_at=approvals.now(), generated_by=""
    )
    session.add(week)
    session.flush()
    lines = _taken(session, principal, week)
    record(
        session,
        principal,
        "fundreport.generated",
        "fund_week",
        week.id,
        after=_summary(week, lines),
    )
    return week


def _root_admin(session: Session, principal: Principal) -> None:
    """Taking a week by hand is the group's finance administration (banking:admin at HQ)."""
    authorize(session, principal, "banking:admin", org.get_root(session))


def generate(session: Session, principal: Principal, week_ending: object) -> FundWeek:
    """A past week taken by hand (one the job never took); a week taken already is refused:
    replacing what was sent is a regeneration."""
    _root_admin(session, principal)
    week_ending = _ended(session, week_ending)
    _lock_week(session, week_ending)
    if find_week(session, week_ending) is not None:
        raise Conflict(
            f"the week ending {week_ending} was taken already; regenerate it to replace it",
            code="week_taken",
        )
    return _generated(session, principal, week_ending)


def _own_figures(lines: list[FundLine]) -> dict[int, set[tuple]]:
    by_unit: defaultdict[int, set[tuple]] = defaultdict(set)
    for line in lines:
        by_unit[line.unit_id].add((line.account_id, line.currency, *astuple(flows_of(line))))
    return by_unit


def regenerate(
    session: Session, principal: Principal, week_ending: object, reason: object
) -> FundWeek:
    """The week taken again from the journal as it stands now, on purpose and with a reason
    (audited with the figures before and after). Units whose figures changed must confirm
    again: what they confirmed is no longer what the report says."""
    _root_admin(session, principal)
    if not isinstance(reason, str) or not reason.strip():
        raise InvalidInput(
            "say why the week is taken again",
            code="reason_required",
            errors={"reason": ["required"]},
        )
    week = read_week(session, week_ending)
    _lock_week(session, week.week_ending)
    session.refresh(week, with_for_update=True)
    old = lines_of(session, week)
    before, old_figures = _summary(week, old), _own_figures(old)
    session.execute(delete(FundLine).where(FundLine.week_id == week.id))
    week.revision += 1
    lines = _taken(session, principal, week)
    new_figures = _own_figures(lines)
    changed = {
        u
        for u in old_figures.keys() | new_figures.keys()
        if old_figures.get(u) != new_figures.get(u)
    }
    withdrawn = session.scalars(
        delete(FundConfirmation)
        .where(FundConfirmation.week_id == week.id, FundConfirmation.unit_id.in_(changed))
        .returning(FundConfirmation.unit_id)
    ).all()
    record(
        session,
        principal,
        "fundreport.regenerated",
        "fund_week",
        week.id,
        before=before,
        after={
            **_summary(week, lines),
            "reason": reason.strip(),
            "confirmations_withdrawn": sorted(withdrawn),
        },
    )
    return week


# --- who has submitted ----------------------------------------------------------------------


def confirmations_of(session: Session, week: FundWeek) -> dict[int, FundConfirmation]:
    return {
        c.unit_id: c
        for c in session.scalars(
            select(FundConfirmation).where(FundConfirmation.week_id == week.id)
        )
    }


def confirm(
    session: Session, principal: Principal, week_ending: object, unit_id: int
) -> FundConfirmation:
    """The unit's finance confirms its accounts' week as reported (banking:write at the unit),
    for the revision it saw. Finance above the unit (the region) may confirm for it when the
    unit cannot, and that is recorded as done on its behalf rather than refused: the group
    still gets the week, and who answered for it is plain."""
    if principal.kind != "user":
        raise Forbidden("a week is confirmed by a person, not an API client", code="people_only")
    week = read_week(session, week_ending)
    unit = org.get_unit(session, unit_id)
    authorize(session, principal, "banking:write", unit)
    # FOR SHARE: a regeneration (FOR UPDATE) waits for this confirmation, then withdraws it if
    # the unit's figures change; or this waits for the regeneration and confirms the new lines.
    session.refresh(week, with_for_update={"read": True})
    own = session.scalar(
        select(func.count()).where(FundLine.week_id == week.id, FundLine.unit_id == unit.id)
    )
    if not own:
        raise InvalidInput(
            f"{unit.code} holds no account in the week ending {week.week_ending}",
            code="nothing_to_confirm",
        )
    at = approvals.now()
    on_behalf = not _holds_at(session, principal, "banking:write", unit)
    confirmation_id = session.scalar(
        insert(FundConfirmation)
        .values(
            week_id=week.id,
            unit_id=unit.id,
            confirmed_by=principal.id,
            confirmed_at=at,
            revision=week.revision,
            on_behalf=on_behalf,
        )
        .on_conflict_do_nothing(index_elements=["week_id", "unit_id"])
        .returning(FundConfirmation.id)
    )
    if confirmation_id is None:  # confirmed before, or by a double submit a moment ago
        raise Conflict(
            f"{unit.code} confirmed the week ending {week.week_ending} already",
            code="already_confirmed",
        )
    confirmation = session.get(FundConfirmation, confirmation_id)
    record(
        session,
        principal,
        "fundreport.confirmed",
        "fund_week",
        week.id,
        after={
            "unit": unit.code,
            "revision": week.revision,
            "on_behalf": on_behalf,
            "late": is_late(session, week, confirmation),
        },
    )
    return confirmation


def _holds_at(session: Session, principal: Principal, action: str, unit: OrgUnit) -> bool:
    """A role granting ``action`` assigned at ``unit`` itself (not only reaching it from above)."""
    return (
        session.scalar(
            select(RoleAssignment.id)
            .where(
                RoleAssignment.user_id == principal.id,
                RoleAssignment.unit_id == unit.id,
                RoleAssignment.role.in_(roles_granting(action)),
            )
            .limit(1)
        )
        is not None
    )


def is_late(session: Session, week: FundWeek, confirmation: FundConfirmation | None) -> bool:
    """Confirmed after the deadline, or not confirmed and the deadline has passed."""
    at = confirmation.confirmed_at if confirmation is not None else approvals.now()
    return at > confirm_deadline(session, week.week_ending)
