"""Bank reconciliation in the portal (R-BNK-5): the accounts one may read with their latest
month; an account's page (statement upload and journal import with a column mapping, an entry
by hand, auto-match, the matching view with both sides' unmatched lines and the pairs made, the
months reconciled); a month's statement laid out like the paper form (it prints as one), with
its items, submit, sign-off and send back; the overdue accounts under a region.

Nested under the portal blueprint (endpoints ``portal.reconciliation.*``). Thin: every rule is
the services'. A refusal is shown on the page it came from, and the unit of work rolls back.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from propgroup.approvals.forms import parse_id
from propgroup.approvals.service import today
from propgroup.banking.models import BankAccount
from propgroup.banking.service import read_account, shown_number, visible_accounts
from propgroup.errors import DomainError, InvalidInput
from propgroup.identity import authz
from propgroup.org import service as org
from propgroup.org.models import OrgUnit
from propgroup.portal.auth import login_required
from propgroup.reconciliation import imports, matching, overdue, service, sides
from propgroup.reconciliation.models import Reconciliation
from propgroup.reconciliation.paper import form_pdf, sections
from propgroup.reconciliation.periods import label, month_end, previous_month
from propgroup.reconciliation.uploads import entered_amount, uploaded_csv
from propgroup.storage.settings import configured_store
from propgroup.tenancy.middleware import tenant_db
from propgroup.tenancy.settings import tenant_zone

bp = Blueprint("reconciliation", __name__, url_prefix="/reconciliation")

SIDE_LIMIT = 200  # rows of each side on the matching view
STATUS_LABELS = {"draft": _l("Draft"), "submitted": _l("Submitted"), "signed": _l("Signed off")}
KIND_LABELS = {
    "deposit_in_transit": _l("Deposits in transit"),
    "outstanding_payment": _l("Outstanding payments"),
    "bank_credit": _l("Bank credits not yet booked"),
    "bank_charge": _l("Bank charges not yet booked"),
    "manual_book": _l("Adjustment (book)"),
    "manual_bank": _l("Adjustment (bank)"),
}


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {
        "rec_status": lambda status: str(STATUS_LABELS.get(status, status)),
        "kind_label": lambda kind: str(KIND_LABELS[kind]),
        "month_label": label,
    }


def _unit(session: Session, account: BankAccount) -> OrgUnit:
    return org.get_unit(session, account.unit_id)


@bp.get("")
@login_required
def index():
    session, principal = tenant_db(), g.principal
    accounts = session.scalars(visible_accounts(session, principal)).all()
    latest = {
        rec.account_id: rec
        for rec in session.scalars(
            select(Reconciliation)
            .where(Reconciliation.account_id.in_([a.id for a in accounts]))
            .order_by(Reconciliation.month)
        )
    }
    units = {unit.id: unit for unit in session.scalars(select(OrgUnit))}
    regions = [unit for unit in units.values() if unit.kind in ("region", "hq")]
    return render_template(
        "reconciliation/index.html",
        accounts=accounts,
        latest=latest,
        units=units,
        regions=[u for u in regions if authz.can(session, principal, "banking:read", u)],
        numbers={a.id: shown_number(session, principal, a) for a in accounts},
    )


# --- an account ---------------------------------------------------------------------------


def _account_page(account_id: int, *, error: str | None = None, status: int = 200):
    session, principal = tenant_db(), g.principal
    account = read_account(session, principal, account_id)
    unit = _unit(session, account)
    side = {"matched": False}
    lines = session.execute(
        sides.statement_lines(session, principal, account.id, **side).limit(SIDE_LIMIT)
    ).all()
    entries = session.execute(
        sides.book_entries(session, principal, account.id, **side).limit(SIDE_LIMIT)
    ).all()
    pairs = session.execute(
        sides.statement_lines(session, principal, account.id, matched=True).limit(SIDE_LIMIT)
    ).all()
    return (
        render_template(
            "reconciliation/account.html",
            account=account,
            unit=unit,
            number=shown_number(session, principal, account),
            statements=sides.statements(session, principal, account.id),
            lines=lines,
            entries=entries,
            pairs=pairs,
            reconciliations=service.reconciliations_of(session, account.id),
            may_write=authz.can(session, principal, "banking:write", unit),
            window=matching.window_days(session),
            default_month=label(previous_month(today(session).replace(day=1))),
            limit=SIDE_LIMIT,
            error=error,
        ),
        status,
    )


@bp.get("/accounts/<int:account_id>")
@login_required
def account(account_id: int):
    return _account_page(account_id)


def _on_account(account_id: int, act: Callable[[Session], object], done: Callable[[object], str]):
    """An action on an account's page: done and back to it, or refused on it."""
    session = tenant_db()
    read_account(session, g.principal, account_id)
    try:
        result = act(session)
    except DomainError as error:
        session.rollback()  # nothing of the refused action stays
        return _account_page(account_id, error=error.message, status=error.status)
    flash(done(result), "info")
    return redirect(url_for(".account", account_id=account_id), code=303)


@bp.post("/accounts/<int:account_id>/statements")
@login_required
def import_statement(account_id: int):
    def act(session: Session):
        content, filename, mapping = uploaded_csv()
        return imports.import_statement(
            session,
            configured_store(),
            g.principal,
            account_id,
            content=content,
            filename=filename,
            mapping=mapping,
            closing_balance=entered_amount("closing_balance"),
        )

    return _on_account(
        account_id, act, lambda s: _("%(count)d statement lines imported.", count=s.line_count)
    )


@bp.post("/accounts/<int:account_id>/journal/imports")
@login_required
def import_journal(account_id: int):
    def act(session: Session):
        content, filename, mapping = uploaded_csv()
        return imports.import_journal(
            session, g.principal, account_id, content=content, filename=filename, mapping=mapping
        )

    return _on_account(
        account_id, act, lambda j: _("%(count)d journal entries imported.", count=j.line_count)
    )


@bp.post("/accounts/<int:account_id>/journal")
@login_required
def record_entry(account_id: int):
    spec = {
        key: request.form.get(key) or None
        for key in ("entry_date", "amount", "reference", "counterparty", "description")
    }
    spec["opening"] = request.form.get("opening") == "yes"
    return _on_account(
        account_id,
        lambda session: imports.record_entry(session, g.principal, account_id, spec),
        lambda _entry: _("The journal entry is recorded."),
    )


@bp.post("/accounts/<int:account_id>/auto-match")
@login_required
def auto_match(account_id: int):
    raw = (request.form.get("window_days") or "").strip()

    def act(session: Session):
        window = int(raw) if raw.isascii() and raw.isdigit() else None  # "²" is a digit too
        if raw and window is None:
            raise InvalidInput(_("The date window is a number of days."), code="bad_window")
        return matching.auto_match(session, g.principal, account_id, window)

    return _on_account(
        account_id,
        act,
        lambda s: _(
            "%(count)d pairs matched (±%(days)d days).", count=s["matched"], days=s["window_days"]
        ),
    )


@bp.post("/accounts/<int:account_id>/matches")
@login_required
def match(account_id: int):
    def act(session: Session):
        try:
            line_id, entry_id = int(request.form["line_id"]), int(request.form["entry_id"])
        except (KeyError, ValueError) as error:
            raise InvalidInput(
                _("Choose one statement line and one journal entry."), code="bad_match"
            ) from error
        return matching.match(session, g.principal, account_id, line_id, entry_id)

    return _on_account(account_id, act, lambda _m: _("Matched."))


@bp.post("/accounts/<int:account_id>/matches/<int:match_id>/undo")
@login_required
def unmatch(account_id: int, match_id: int):
    return _on_account(
        account_id,
        lambda session: matching.unmatch(session, g.principal, account_id, match_id),
        lambda _none: _("The match is undone."),
    )


@bp.post("/accounts/<int:account_id>/reconciliations")
@login_required
def prepare(account_id: int):
    session = tenant_db()
    read_account(session, g.principal, account_id)
    try:
        rec = service.prepare(
            session,
            g.principal,
            account_id,
            request.form.get("month", ""),
            request.form.get("bank_balance") or None,
        )
    except DomainError as error:
        session.rollback()
        return _account_page(account_id, error=error.message, status=error.status)
    return redirect(url_for(".statement", rec_id=rec.id), code=303)


# --- a month's statement ------------------------------------------------------------------


def _statement_page(rec_id: int, *, error: str | None = None, status: int = 200):
    session, principal = tenant_db(), g.principal
    rec, account = service.read_reconciliation(session, principal, rec_id)
    unit = _unit(session, account)
    items = service.items_of(session, rec)
    book, bank = sections(rec, items)
    return (
        render_template(
            "reconciliation/statement.html",
            rec=rec,
            account=account,
            unit=unit,
            number=shown_number(session, principal, account),
            rows=list(zip(book, bank, strict=True)),
            items=items,
            difference=service.figures_of(rec).difference,
            people=service.people_of(session, rec),
            as_at=month_end(rec.month),
            may_write=authz.can(session, principal, "banking:write", unit),
            may_review=authz.can(session, principal, "banking:signoff", unit),
            may_sign=authz.can(session, principal, "banking:signoff", unit)
            and principal.id not in (rec.prepared_by, rec.submitted_by),
            old_items=service.old_items(rec, items),
            old_item_days=service.OLD_ITEM_DAYS,
            error=error,
        ),
        status,
    )


@bp.get("/<int:rec_id>")
@login_required
def statement(rec_id: int):
    return _statement_page(rec_id)


@bp.get("/<int:rec_id>/pdf")
@login_required
def statement_pdf(rec_id: int):
    session = tenant_db()
    rec, account = service.read_reconciliation(session, g.principal, rec_id)
    content = form_pdf(
        rec,
        account,
        _unit(session, account),
        service.items_of(session, rec),
        service.people_of(session, rec),
        tenant_zone(session),
    )
    return Response(
        content,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="reconciliation-{rec.id}.pdf"'},
    )


def _on_statement(rec_id: int, act: Callable[[Session], object], done: str):
    session = tenant_db()
    service.read_reconciliation(session, g.principal, rec_id)
    try:
        act(session)
    except DomainError as error:
        session.rollback()
        return _statement_page(rec_id, error=error.message, status=error.status)
    flash(done, "info")
    return redirect(url_for(".statement", rec_id=rec_id), code=303)


@bp.post("/<int:rec_id>/refresh")
@login_required
def refresh(rec_id: int):
    balance = request.form.get("bank_balance") or None
    return _on_statement(
        rec_id,
        lambda session: service.refresh(session, g.principal, rec_id, balance),
        _("The statement is computed again."),
    )


@bp.post("/<int:rec_id>/items")
@login_required
def add_item(rec_id: int):
    form = request.form
    return _on_statement(
        rec_id,
        lambda session: service.add_item(
            session,
            g.principal,
            rec_id,
            side=form.get("side"),
            amount=form.get("amount", ""),
            reason=form.get("reason", ""),
        ),
        _("The item is added."),
    )


@bp.post("/<int:rec_id>/items/<int:item_id>/remove")
@login_required
def remove_item(rec_id: int, item_id: int):
    return _on_statement(
        rec_id,
        lambda session: service.remove_item(session, g.principal, rec_id, item_id),
        _("The item is removed."),
    )


@bp.post("/<int:rec_id>/submit")
@login_required
def submit(rec_id: int):
    return _on_statement(
        rec_id,
        lambda session: service.submit(session, g.principal, rec_id),
        _("Submitted for the finance manager's sign-off."),
    )


@bp.post("/<int:rec_id>/signoff")
@login_required
def sign_off(rec_id: int):
    return _on_statement(
        rec_id,
        lambda session: service.sign_off(session, configured_store(), g.principal, rec_id),
        _("Signed off; the statement and the bank statements are filed as archives."),
    )


@bp.post("/<int:rec_id>/send-back")
@login_required
def send_back(rec_id: int):
    reason = request.form.get("reason", "")
    return _on_statement(
        rec_id,
        lambda session: service.send_back(session, g.principal, rec_id, reason),
        _("Sent back to the preparer."),
    )


# --- overdue ------------------------------------------------------------------------------


@bp.get("/overdue")
@login_required
def overdue_dashboard():
    session, principal = tenant_db(), g.principal
    raw = request.args.get("unit_id", "")
    unit = (
        org.read_unit(session, principal, parse_id(raw)) if parse_id(raw) else org.get_root(session)
    )
    rows = overdue.overdue_under(session, principal, unit, today(session))
    by_unit: dict[int, list[overdue.Overdue]] = {}
    for row in rows:
        by_unit.setdefault(row.unit.id, []).append(row)
    return render_template(
        "reconciliation/overdue.html",
        unit=unit,
        by_unit=by_unit,
        due=overdue.due_month(today(session)),
        count=len(rows),
    )
