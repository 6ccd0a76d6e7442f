"""Cash (库存现金, R-CASH-1, R-CASH-2): the cash book of a unit's cash box, count sheets of notes
and coins against it, the month-end review, and the alert when cash on hand is over the limit."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from propgroup.approvals.service import now, today
from propgroup.audit.service import record
from propgroup.banking.service import journal_balance
from propgroup.cashdesk.common import optional_text, policy, signed_by_person, text_of, unit_for
from propgroup.cashdesk.models import (
    COUNT_KINDS,
    DENOMINATIONS,
    CashAlert,
    CashCount,
    CashCountLine,
    CashdeskSettings,
    CashEntry,
)
from propgroup.db import get_by_id
from propgroup.errors import Conflict, Forbidden, InvalidInput, NotFound
from propgroup.identity.authz import authorize, can, visible_units
from propgroup.identity.principals import Principal
from propgroup.jobs.service import enqueue
from propgroup.money import to_money
from propgroup.org import service as org
from propgroup.org.models import OrgUnit

WEEK_END_FROM = 5  # ISO weekday: Friday
# What people try to count as cash and may not (严禁白条抵库): IOUs, borrowing slips, receipts
# not yet entered. Every line that is not notes or coins is refused; these get the plain word.
IOU_KINDS = frozenset({"iou", "白条", "借据", "借条", "unrecorded_voucher", "未入帐单据"})


# --- the cash book ---------------------------------------------------------------------------


def cash_balance(session: Session, unit_id: int, as_of: date | None = None) -> Decimal:
    """The cash book's balance at the end of ``as_of`` (every entry when None)."""
    return journal_balance(
        session, CashEntry.amount, CashEntry.entry_date, CashEntry.unit_id == unit_id, as_of
    )


def add_entry(
    session: Session,
    principal: Principal,
    unit: OrgUnit,
    *,
    amount: Decimal,
    description: str,
    reference: str | None,
    source: str,
    entry_date: date | None = None,
) -> CashEntry:
    """One cash-book line (authorized by the caller), then the limit checked (R-CASH-1)."""
    entry = CashEntry(
        unit_id=unit.id,
        entry_date=entry_date or today(session),
        amount=amount,
        reference=reference,
        description=description,
        source=source,
        created_by=principal.id,
    )
    session.add(entry)
    session.flush()
    record(
        session,
        principal,
        "cashdesk.cash_entry",
        "cash_entry",
        entry.id,
        after={
            "unit_id": unit.id,
            "entry_date": entry.entry_date,
            "amount": amount,
            "source": source,
            "reference": reference,
        },
    )
    check_limit(session, unit)
    return entry


def record_entry(
    session: Session,
    principal: Principal,
    *,
    unit_id: int,
    entry_date: date,
    amount: object,
    description: object,
    reference: object = None,
) -> CashEntry:
    """A receipt (+) or payment (−) the cashier writes into the unit's cash book, dated after
    the last reviewed count (what was signed stays as signed) and not in the future; a payment
    the box did not hold that day, or any day since, is refused."""
    signed_by_person(principal)
    value = to_money(amount, "amount", signed=True)
    what = text_of(description, "description")
    ref = optional_text(reference, "reference", max_length=100)
    if entry_date > today(session):
        raise InvalidInput(
            "a cash entry is written on or after the day",
            code="bad_date",
            errors={"entry_date": ["not in the future"]},
        )
    unit = unit_for(session, principal, unit_id, "banking:cash")
    lock_box(session, unit)
    _refuse_before_review(session, unit, entry_date)
    if value < 0:
        _refuse_overdrawn(session, unit, entry_date, value)
    return add_entry(
        session,
        principal,
        unit,
        amount=value,
        description=what,
        reference=ref,
        source="manual",
        entry_date=entry_date,
    )


def _refuse_before_review(session: Session, unit: OrgUnit, day: date) -> None:
    reviewed = session.scalar(
        select(func.max(CashCount.counted_on)).where(
            CashCount.unit_id == unit.id, CashCount.reviewed_by.is_not(None)
        )
    )
    if reviewed is not None and day <= reviewed:
        raise Conflict(
            f"the cash book up to {reviewed} was counted and reviewed: an entry is dated after",
            code="book_closed",
            errors={"entry_date": [f"after {reviewed}"]},
        )


def _refuse_overdrawn(session: Session, unit: OrgUnit, day: date, value: Decimal) -> None:
    """The box's balance at the end of ``day`` and of every later day with entries stays at 0
    or more once the payment is in (a backdated payment cannot overdraw a later day)."""
    balance = cash_balance(session, unit.id, day)
    lowest = balance
    later = session.execute(
        select(CashEntry.entry_date, func.sum(CashEntry.amount))
        .where(CashEntry.unit_id == unit.id, CashEntry.entry_date > day)
        .group_by(CashEntry.entry_date)
        .order_by(CashEntry.entry_date)
    ).all()
    for _, moved in later:
        balance += moved
        lowest = min(lowest, balance)
    if lowest + value < 0:
        raise Conflict(
            f"the cash box holds at most {lowest} from {day} on: it cannot pay {-value}",
            code="not_enough_cash",
        )


def lock_box(session: Session, unit: OrgUnit) -> None:
    """One writer per cash box at a time: balances and alerts are read after writing."""
    session.scalar(select(OrgUnit.id).where(OrgUnit.id == unit.id).with_for_update())


def entries_of(session: Session, principal: Principal, unit_id: int) -> Select[tuple[CashEntry]]:
    unit_for(session, principal, unit_id, "banking:read")
    return (
        select(CashEntry)
        .where(CashEntry.unit_id == unit_id)
        .order_by(CashEntry.entry_date.desc(), CashEntry.id.desc())
    )


# --- the limit (R-CASH-1) ----------------------------------------------------------------------


def check_limit(
    session: Session, unit: OrgUnit, counted: Decimal | None = None
) -> CashAlert | None:
    """Raise the unit's alert the day cash on hand (the book, or what was counted) goes over the
    limit; clear it once it is back under (the excess banked). Returns the open alert."""
    limit = policy(session).cash_limit
    on_hand = max(cash_balance(session, unit.id), counted or Decimal(0))
    alert = session.scalar(
        select(CashAlert).where(CashAlert.unit_id == unit.id, CashAlert.cleared_on.is_(None))
    )
    if on_hand > limit and alert is None:
        alert = CashAlert(
            unit_id=unit.id, raised_on=today(session), balance=on_hand, cash_limit=limit
        )
        session.add(alert)
        session.flush()
        enqueue(session, "cashdesk.notify_cash_alert", {"alert_id": alert.id})
    elif on_hand > limit:
        alert.balance = on_hand
    elif alert is not None:
        alert.cleared_on = today(session)
        alert = None
    session.flush()
    return alert


def open_alerts(
    session: Session, principal: Principal, unit_id: int | None = None
) -> list[CashAlert]:
    """Open cash-limit alerts of the units the principal may read (a unit's subtree if given)."""
    query = (
        select(CashAlert)
        .join(OrgUnit, OrgUnit.id == CashAlert.unit_id)
        .where(CashAlert.cleared_on.is_(None), visible_units(session, principal, "banking:read"))
    )
    if unit_id is not None:
        path = org.get_unit(session, unit_id).path
        query = query.where(OrgUnit.path.startswith(path, autoescape=True))
    return list(session.scalars(query.order_by(CashAlert.raised_on, CashAlert.id)))


def alerts_with_units(session: Session, principal: Principal) -> list[tuple[CashAlert, OrgUnit]]:
    """Open alerts and their units, for the home page: shown there until the cash is banked."""
    return [
        (alert, session.get(OrgUnit, alert.unit_id)) for alert in open_alerts(session, principal)
    ]


# --- count sheets (R-CASH-2) -------------------------------------------------------------------


def _denomination(value: object) -> Decimal | None:
    try:
        found = Decimal(str(value).strip())
    except ArithmeticError:
        return None
    if not found.is_finite():  # NaN, sNaN, Infinity: comparing a signalling NaN raises
        return None
    return next((d for d in DENOMINATIONS if d == found), None)


def _counted_lines(lines: object) -> dict[Decimal, int]:
    """Quantities per denomination; an IOU or any other line that is not notes or coins refused."""
    if not isinstance(lines, list) or not lines:
        raise InvalidInput(
            "a count sheet lists notes and coins",
            code="no_lines",
            errors={"lines": ["one line per denomination"]},
        )
    counted: dict[Decimal, int] = {}
    problems: dict[str, list[str]] = {}
    for index, line in enumerate(lines, start=1):
        line = line if isinstance(line, dict) else {}
        kind = str(line.get("kind") or "cash").strip().lower()
        if kind in IOU_KINDS:
            raise InvalidInput(
                f"line {index}: an IOU (白条) is not cash and may not be counted as cash "
                "(严禁白条抵库, R-CASH-2); settle it as an advance or expense claim first",
                code="iou_refused",
                errors={f"lines.{index}": ["IOUs are not cash"]},
            )
        denomination = _denomination(line.get("denomination"))
        quantity = line.get("quantity")
        if kind != "cash" or denomination is None:
            problems[f"lines.{index}"] = [
                "notes and coins only: " + ", ".join(str(d) for d in DENOMINATIONS)
            ]
        elif (
            not isinstance(quantity, int) or isinstance(quantity, bool) or not 0 <= quantity < 10**7
        ):
            problems[f"lines.{index}"] = ["a whole number of notes or coins, 0 or more"]
        elif denomination in counted:
            problems[f"lines.{index}"] = [f"{denomination} is counted twice"]
        else:
            counted[denomination] = quantity
    if problems:
        raise InvalidInput("the count sheet has wrong lines", code="bad_lines", errors=problems)
    return counted


def submit_count(
    session: Session,
    principal: Principal,
    *,
    unit_id: int,
    kind: object,
    counted_on: date,
    lines: object,
    explanation: object = None,
) -> CashCount:
    """The cashier's count sheet: counted total against the cash book that day; a difference
    carries its explanation (帐实不符应查明原因)."""
    signed_by_person(principal)
    if not isinstance(kind, str) or kind not in COUNT_KINDS:
        raise InvalidInput(
            "a count is week_end or month_end", code="bad_kind", errors={"kind": list(COUNT_KINDS)}
        )
    counted = _counted_lines(lines)
    if counted_on > today(session):
        raise InvalidInput(
            "cash is counted on or after the day",
            code="bad_date",
            errors={"counted_on": ["not in the future"]},
        )
    _check_count_day(kind, counted_on)
    unit = unit_for(session, principal, unit_id, "banking:cash")
    lock_box(session, unit)
    total = sum((d * q for d, q in counted.items()), Decimal("0.00"))
    book = cash_balance(session, unit.id, counted_on)
    why = optional_text(explanation, "explanation", max_length=1000)
    if total != book and why is None:
        raise InvalidInput(
            f"counted {total} but the cash book says {book}: explain the difference of "
            f"{total - book}",
            code="difference_unexplained",
            errors={"explanation": ["required when count and book differ"]},
        )
    if session.scalar(
        select(CashCount.id).where(
            CashCount.unit_id == unit.id, CashCount.counted_on == counted_on, CashCount.kind == kind
        )
    ):
        raise Conflict(f"the {kind} count of {counted_on} is done already", code="counted_already")
    sheet = CashCount(
        unit_id=unit.id,
        kind=kind,
        counted_on=counted_on,
        counted_total=total,
        book_balance=book,
        explanation=why,
        counted_by=principal.id,
    )
    session.add(sheet)
    session.flush()
    session.add_all(
        CashCountLine(count_id=sheet.id, denomination=d, quantity=q) for d, q in counted.items()
    )
    session.flush()
    record(session, principal, "cashdesk.cash_counted", "cash_count", sheet.id, after=_sheet(sheet))
    check_limit(session, unit, counted=total)
    return sheet


def _check_count_day(kind: str, day: date) -> None:
    """R-CASH-2: the month-end sheet is dated the month's last day; the week-end sheet the
    week's end: Friday (the last working day, when most cash desks close the week), Saturday or
    Sunday (desks that open on the weekend)."""
    if kind == "month_end" and (day + timedelta(days=1)).month == day.month:
        raise InvalidInput(
            f"a month-end count is dated the last day of the month, not {day}",
            code="bad_count_day",
            errors={"counted_on": ["the month's last day"]},
        )
    if kind == "week_end" and day.isoweekday() < WEEK_END_FROM:
        raise InvalidInput(
            f"a week-end count is dated a Friday, Saturday or Sunday, not {day:%A} {day}",
            code="bad_count_day",
            errors={"counted_on": ["Friday, Saturday or Sunday"]},
        )


def _sheet(sheet: CashCount) -> dict[str, Any]:
    return {
        "unit_id": sheet.unit_id,
        "kind": sheet.kind,
        "counted_on": sheet.counted_on,
        "counted_total": sheet.counted_total,
        "book_balance": sheet.book_balance,
        "explanation": sheet.explanation,
    }


def read_count(
    session: Session, principal: Principal, count_id: int, action: str = "banking:read"
) -> CashCount:
    sheet = get_by_id(session, CashCount, count_id)
    if sheet is None or not can(
        session, principal, "banking:read", org.get_unit(session, sheet.unit_id)
    ):
        # Another unit's sheet is not found, as banking answers: no existence oracle.
        raise NotFound(f"cash count {count_id} not found", code="count_not_found")
    unit_for(session, principal, sheet.unit_id, action)
    return sheet


def lines_of(session: Session, sheet: CashCount) -> list[CashCountLine]:
    return list(
        session.scalars(
            select(CashCountLine)
            .where(CashCountLine.count_id == sheet.id)
            .order_by(CashCountLine.denomination.desc())
        )
    )


def review_count(session: Session, principal: Principal, count_id: int) -> CashCount:
    """The finance manager signs the month-end sheet (月末盘点表报财务部经理审核), never the
    cashier who counted."""
    signed_by_person(principal)
    sheet = read_count(session, principal, count_id, "banking:signoff")
    if sheet.counted_by == principal.id:
        raise Forbidden("nobody reviews their own count sheet", code="own_sheet")
    if sheet.kind != "month_end":
        raise Conflict("only the month-end sheet is reviewed", code="not_month_end")
    if sheet.reviewed_by is not None:
        raise Conflict(f"cash count {sheet.id} was reviewed already", code="reviewed_already")
    sheet.reviewed_by, sheet.reviewed_at = principal.id, now()
    session.flush()
    record(session, principal, "cashdesk.count_reviewed", "cash_count", sheet.id)
    return sheet


def visible_counts(
    session: Session, principal: Principal, *, unit_id: int | None = None, unreviewed: bool = False
) -> Select[tuple[CashCount]]:
    query = (
        select(CashCount)
        .join(OrgUnit, OrgUnit.id == CashCount.unit_id)
        .where(visible_units(session, principal, "banking:read"))
    )
    if unit_id is not None:
        query = query.where(CashCount.unit_id == unit_id)
    if unreviewed:
        query = query.where(CashCount.kind == "month_end", CashCount.reviewed_by.is_(None))
    return query.order_by(CashCount.counted_on.desc(), CashCount.id.desc())


# --- settings --------------------------------------------------------------------------------


def change_settings(
    session: Session, principal: Principal, *, cash_limit: object, reminder_days: object
) -> CashdeskSettings:
    """The group's cash limit and petty-cash reminder lead (banking:admin at the HQ)."""
    authorize(session, principal, "banking:admin", org.get_root(session))
    limit = to_money(cash_limit, "cash_limit")
    if (
        not isinstance(reminder_days, int)
        or isinstance(reminder_days, bool)
        or not 0 <= reminder_days <= 60
    ):
        raise InvalidInput(
            "reminder_days is 0 to 60", code="bad_days", errors={"reminder_days": ["0 to 60"]}
        )
    row = session.get(CashdeskSettings, 1, with_for_update=True)
    before = (
        None if row is None else {"cash_limit": row.cash_limit, "reminder_days": row.reminder_days}
    )
    if row is None:
        row = CashdeskSettings(id=1, cash_limit=limit, reminder_days=reminder_days)
        session.add(row)
    row.cash_limit, row.reminder_days = limit, reminder_days
    session.flush()
    record(
        session,
        principal,
        "cashdesk.settings_changed",
        "cashdesk_settings",
        1,
        before=before,
        after={"cash_limit": limit, "reminder_days": reminder_days},
    )
    return row
