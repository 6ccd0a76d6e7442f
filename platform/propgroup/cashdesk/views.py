"""The cash desk in the portal: the cheque register of an account (books, cheques issued,
accounted for, voided; blank cheques asked for and approved) and a unit's cash page (cash book,
count sheet with denomination rows, month-end review, limit alert, petty cash).

Nested under the portal blueprint (endpoints ``portal.cashdesk.*``). Thin: every rule is the
services'. A refusal is shown on the page with its status, and the unit of work rolls back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from propgroup.approvals.forms import parse_day
from propgroup.approvals.service import today
from propgroup.banking.service import read_account, shown_number, visible_accounts
from propgroup.cashdesk import cash, cheques, petty
from propgroup.cashdesk.common import policy, unit_for
from propgroup.cashdesk.models import CHEQUE_TYPES, COUNT_KINDS, DENOMINATIONS
from propgroup.errors import DomainError, InvalidInput
from propgroup.identity import authz
from propgroup.identity.models import User
from propgroup.org.models import OrgUnit
from propgroup.portal.auth import login_required
from propgroup.tenancy.middleware import tenant_db

bp = Blueprint("cashdesk", __name__, url_prefix="/cashdesk")

STATE_LABELS = {"issued": _l("Issued"), "accounted": _l("Accounted for"), "voided": _l("Void")}
TYPE_LABELS = {"cash": _l("Cash cheque"), "transfer": _l("Transfer cheque")}
KIND_LABELS = {"week_end": _l("Week-end count"), "month_end": _l("Month-end count")}
LIST_LIMIT = 100


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "cheque_state": lambda state: str(STATE_LABELS.get(state, state)),
        "cheque_type": lambda kind: str(TYPE_LABELS.get(kind, kind)),
        "count_kind": lambda kind: str(KIND_LABELS.get(kind, kind)),
    }


def _people(session: Session, ids: set[int | None]) -> dict[int, User]:
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids - {None})))}


@bp.get("")
@login_required
def index():
    session, principal = tenant_db(), g.principal
    authz.authorize_somewhere(session, principal, "banking:read")
    accounts = session.scalars(visible_accounts(session, principal).limit(LIST_LIMIT)).all()
    units = session.scalars(
        select(OrgUnit)
        .where(authz.visible_units(session, principal, "banking:read"), OrgUnit.kind == "branch")
        .order_by(OrgUnit.path)
    ).all()
    return render_template(
        "cashdesk/index.html",
        accounts=[(a, shown_number(session, principal, a)) for a in accounts],
        units=units,
        unit_names={u.id: u.name for u in session.scalars(select(OrgUnit))},
        alerts=cash.open_alerts(session, principal),
    )


# --- the cheque register ---------------------------------------------------------------------


def _render_account(account_id: int, *, error: str | None = None, status: int = 200):
    session, principal = tenant_db(), g.principal
    account = read_account(session, principal, account_id)
    unit = session.get(OrgUnit, account.unit_id)
    books = cheques.books_of(session, principal, account.id)
    written = session.scalars(
        cheques.visible_cheques(session, principal, account_id=account.id).limit(LIST_LIMIT)
    ).all()
    blanks = session.scalars(
        cheques.visible_blank_approvals(session, principal, account_id=account.id).limit(20)
    ).all()
    ids = {c.holder_id for c in written} | {b.holder_id for b in blanks}
    ids |= {b.registered_by for b in books}
    return (
        render_template(
            "cashdesk/account.html",
            account=account,
            number=shown_number(session, principal, account),
            unit=unit,
            books=[(b, len(cheques.used_numbers(session, b))) for b in books],
            cheques=[(c, cheques.is_overdue(session, c)) for c in written],
            blanks=blanks,
            used_blanks={c.blank_approval_id for c in written},
            people=_people(session, ids),
            may_write=authz.can(session, principal, "banking:cash", unit),
            may_sign=authz.can(session, principal, "banking:signoff", unit),
            types=CHEQUE_TYPES,
            today=today(session),
            error=error,
        ),
        status,
    )


@bp.get("/accounts/<int:account_id>")
@login_required
def account(account_id: int):
    return _render_account(account_id)


def _on_page(render: Callable[..., Any], target: str, key: dict[str, int], act, done: str):
    """An action of a page: done and back to it (303), or refused on it with the message."""
    session = tenant_db()
    try:
        act(session)
    except DomainError as error:
        session.rollback()  # nothing of the refused action stays
        return render(*key.values(), error=error.message, status=error.status)
    flash(done, "info")
    return redirect(url_for(target, **key), code=303)


def _on_account(account_id: int, act, done: str):
    read_account(tenant_db(), g.principal, account_id)
    return _on_page(_render_account, ".account", {"account_id": account_id}, act, done)


def _day(field: str, fallback_today: bool = False):
    """The form's date; only an empty field means today (where that is offered): a date typed
    wrong is refused on the form, never taken for today."""
    raw = request.form.get(field, "").strip()
    if not raw and fallback_today:
        return today(tenant_db())
    day = parse_day(raw)
    if day is None:
        raise InvalidInput(
            _("Give the date %(field)s as YYYY-MM-DD.", field=field),
            code="bad_date",
            errors={field: ["YYYY-MM-DD"]},
        )
    return day


@bp.post("/accounts/<int:account_id>/books")
@login_required
def register_book(account_id: int):
    form = request.form
    return _on_account(
        account_id,
        lambda s: cheques.register_book(
            s,
            g.principal,
            account_id=account_id,
            received_on=_day("received_on"),
            bank=form.get("bank", ""),
            cheque_type=form.get("cheque_type", ""),
            first_number=form.get("first_number", "").strip(),
            last_number=form.get("last_number", "").strip(),
        ),
        _("The cheque book is registered."),
    )


def _int_or_raw(raw: str) -> object:
    """A whole number typed in, else what was typed (the service refuses it by name)."""
    raw = raw.strip()
    return int(raw) if raw.isascii() and raw.isdigit() else (raw or None)


@bp.post("/accounts/<int:account_id>/cheques")
@login_required
def issue(account_id: int):
    form = request.form
    return _on_account(
        account_id,
        lambda s: cheques.issue_cheque(
            s,
            g.principal,
            account_id=account_id,
            cheque_type=form.get("cheque_type", ""),
            purpose=form.get("purpose", ""),
            request_id=_int_or_raw(form.get("request_id", "")),
            blank_approval_id=_int_or_raw(form.get("blank_approval_id", "")),
            holder=form.get("holder", "").strip() or None,
            amount=form.get("amount", "").strip() or None,
            payee=form.get("payee", "").strip() or None,
        ),
        _("The cheque is issued."),
    )


@bp.post("/accounts/<int:account_id>/cheques/<int:cheque_id>/account")
@login_required
def account_for(account_id: int, cheque_id: int):
    form = request.form
    return _on_account(
        account_id,
        lambda s: cheques.account_for(
            s,
            g.principal,
            cheque_id,
            amount=form.get("amount", "").strip() or None,
            payee=form.get("payee", "").strip() or None,
            paid_on=_day("paid_on", fallback_today=True),
        ),
        _("The cheque is accounted for and entered in the bank journal."),
    )


@bp.post("/accounts/<int:account_id>/cheques/<int:cheque_id>/void")
@login_required
def void(account_id: int, cheque_id: int):
    reason = request.form.get("reason", "")
    return _on_account(
        account_id,
        lambda s: cheques.void_cheque(s, g.principal, cheque_id, reason=reason),
        _("The cheque is stamped void and kept."),
    )


@bp.post("/accounts/<int:account_id>/blank-cheques")
@login_required
def ask_blank(account_id: int):
    form = request.form
    return _on_account(
        account_id,
        lambda s: cheques.ask_blank_cheque(
            s,
            g.principal,
            account_id=account_id,
            holder=form.get("holder", "").strip(),
            limit_amount=form.get("limit_amount", ""),
            purpose=form.get("purpose", ""),
        ),
        _("The blank cheque waits for the finance manager's approval."),
    )


@bp.post("/accounts/<int:account_id>/blank-cheques/<int:approval_id>/decision")
@login_required
def decide_blank(account_id: int, approval_id: int):
    answer = request.form.get("approve")
    approve = answer == "yes"
    return _on_account(
        account_id,
        lambda s: cheques.decide_blank_cheque(
            s,
            g.principal,
            approval_id,
            approve=_yes_or_no(answer),
            comment=request.form.get("comment"),
        ),
        _("The blank cheque is approved.") if approve else _("The blank cheque is refused."),
    )


def _yes_or_no(answer: str | None) -> bool:
    if answer not in ("yes", "no"):
        raise InvalidInput(
            _("Approve (yes) or refuse (no)."), code="bad_decision", errors={"approve": ["yes, no"]}
        )
    return answer == "yes"


# --- a unit's cash -------------------------------------------------------------------------


def _render_unit(unit_id: int, *, error: str | None = None, status: int = 200):
    session, principal = tenant_db(), g.principal
    unit = unit_for(session, principal, unit_id, "banking:read")
    entries = session.scalars(cash.entries_of(session, principal, unit.id).limit(LIST_LIMIT)).all()
    counts = session.scalars(
        cash.visible_counts(session, principal, unit_id=unit.id).limit(24)
    ).all()
    advances = session.scalars(petty.visible_advances(session, principal, unit_id=unit.id)).all()
    ids = {c.counted_by for c in counts} | {c.reviewed_by for c in counts}
    ids |= {a.holder_id for a in advances}
    return (
        render_template(
            "cashdesk/unit.html",
            unit=unit,
            balance=cash.cash_balance(session, unit.id),
            limit=policy(session).cash_limit,
            alerts=cash.open_alerts(session, principal, unit.id),
            entries=entries,
            counts=[(c, cash.lines_of(session, c)) for c in counts],
            advances=advances,
            people=_people(session, ids),
            may_write=authz.can(session, principal, "banking:cash", unit),
            may_sign=authz.can(session, principal, "banking:signoff", unit),
            denominations=DENOMINATIONS,
            kinds=COUNT_KINDS,
            today=today(session),
            form=request.form if request.method == "POST" else {},
            error=error,
        ),
        status,
    )


@bp.get("/units/<int:unit_id>")
@login_required
def unit(unit_id: int):
    return _render_unit(unit_id)


def _on_unit(unit_id: int, act, done: str):
    unit_for(tenant_db(), g.principal, unit_id, "banking:read")
    return _on_page(_render_unit, ".unit", {"unit_id": unit_id}, act, done)


@bp.post("/units/<int:unit_id>/entries")
@login_required
def record_entry(unit_id: int):
    form = request.form
    return _on_unit(
        unit_id,
        lambda s: cash.record_entry(
            s,
            g.principal,
            unit_id=unit_id,
            entry_date=_day("entry_date", fallback_today=True),
            amount=form.get("amount", ""),
            description=form.get("description", ""),
            reference=form.get("reference"),
        ),
        _("The cash book entry is recorded."),
    )


def _count_lines() -> list[dict[str, Any]]:
    """A row per denomination that has a count, and the extra line if one was filled in (an
    IOU, 白条, is offered there so that trying it gets the refusal, not a silent drop)."""
    form = request.form
    lines: list[dict[str, Any]] = []
    for value in DENOMINATIONS:
        raw = form.get(f"q_{value}", "").strip()
        if raw:
            lines.append({"denomination": str(value), "quantity": _int_or_raw(raw)})
    if form.get("extra_kind", "").strip():
        lines.append(
            {
                "kind": form["extra_kind"].strip(),
                "description": form.get("extra_description", ""),
                "amount": form.get("extra_amount", ""),
            }
        )
    return lines


@bp.post("/units/<int:unit_id>/counts")
@login_required
def submit_count(unit_id: int):
    form = request.form
    return _on_unit(
        unit_id,
        lambda s: cash.submit_count(
            s,
            g.principal,
            unit_id=unit_id,
            kind=form.get("kind", ""),
            counted_on=_day("counted_on", fallback_today=True),
            lines=_count_lines(),
            explanation=form.get("explanation"),
        ),
        _("The count sheet is recorded."),
    )


@bp.post("/units/<int:unit_id>/counts/<int:count_id>/review")
@login_required
def review_count(unit_id: int, count_id: int):
    return _on_unit(
        unit_id,
        lambda s: cash.review_count(s, g.principal, count_id),
        _("The month-end count sheet is reviewed."),
    )


@bp.post("/units/<int:unit_id>/petty-cash")
@login_required
def advance(unit_id: int):
    form = request.form
    return _on_unit(
        unit_id,
        lambda s: petty.advance(
            s,
            g.principal,
            unit_id=unit_id,
            request_id=_int_or_raw(form.get("request_id", "")),
        ),
        _("The petty cash is lent."),
    )


@bp.post("/units/<int:unit_id>/petty-cash/<int:advance_id>/return")
@login_required
def return_advance(unit_id: int, advance_id: int):
    return _on_unit(
        unit_id,
        lambda s: petty.return_advance(s, g.principal, advance_id),
        _("The petty cash is back in the cash box."),
    )
