"""Archives in the portal: the catalogue searched by class, unit, year and title; an item's page
with its cover, due date, files, legal holds (R-ARC-2) and lending register (R-ARC-3, copies
issued and returned); the retention schedule, changed there by whoever may administer archives;
handover lists (``handover_views``).

Nested under the portal blueprint (endpoints ``portal.archives.*``). Thin: every rule is the
services'. A refusal is shown on the item's page with its status, and the unit of work rolls back.
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
from propgroup.archives import appraisal, destruction, holds, loans, schedule, service
from propgroup.archives.handover_views import bp as handovers_bp
from propgroup.archives.models import ITEM_STATUSES, ArchiveFile
from propgroup.archives.schemas import ItemQuerySchema
from propgroup.errors import DomainError, NotFound
from propgroup.identity import authz
from propgroup.identity.models import User
from propgroup.org import service as org
from propgroup.portal.auth import login_required
from propgroup.storage.api import document_response
from propgroup.storage.settings import configured_store
from propgroup.tenancy.middleware import tenant_db

bp = Blueprint("archives", __name__, url_prefix="/archives")
bp.register_blueprint(handovers_bp)

LIST_LIMIT = 100
STATUS_LABELS = {
    "kept": _l("In custody"),
    "due": _l("Due for appraisal"),
    "to_destroy": _l("Appraised for destruction"),
    "listed": _l("On a destruction list"),
    "destroyed": _l("Destroyed"),
}
REFUSALS = {
    "not_due": _l(
        "This item is not past retention (or no longer in custody): nothing to appraise."
    ),
    "held": _l("The item is under legal hold and is never destroyed (R-ARC-2)."),
    "appraisal_open": _l("The item has an appraisal waiting for a second person already."),
    "bad_keep_until": _l("Keeping longer needs a new date after today."),
    "not_destroyable": _l("Some items cannot be destroyed: see the list below."),
    "same_supervisor": _l("Two different supervisors attend a destruction (R-ARC-1)."),
    "bad_supervisor": _l("A supervisor must be someone who may supervise archives at this unit."),
    "not_approved": _l("Only an approved list is carried out."),
    "second_person": _l(
        "A second person signs this, not the one who started it (R-ARC-1, R-ARC-2)."
    ),
    "reason_required": _l("Give the reason (1-2000 characters)."),
    "hold_released": _l("This hold was released already. Nothing was changed."),
    "forbidden": _l("You may not do that for this unit."),
    "bad_loan": _l("Name who takes the copy, the purpose and a return day from today on."),
    "returned": _l("This copy was returned already. Nothing was changed."),
    "bad_period": _l("Give a number of years (1-100) or tick permanent, not both."),
}


LIST_LABELS = {
    "in_approval": _l("In approval"),
    "approved": _l("Approved"),
    "rejected": _l("Returned"),
    "withdrawn": _l("Withdrawn"),
    "destroyed": _l("Destroyed"),
}


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "archive_status": lambda status: str(STATUS_LABELS.get(status, status)),
        "list_status": lambda status: str(LIST_LABELS.get(status, status)),
    }


def _filters() -> dict[str, Any]:
    """The search form's values; a value that does not parse is dropped with a note."""
    raw = {key: value for key, value in request.args.items() if value.strip()}
    errors = ItemQuerySchema().validate(raw)
    for key in errors:
        raw.pop(key)
        flash(_("The filter %(name)s was not understood and is ignored.", name=key), "error")
    return ItemQuerySchema().load(raw)


@bp.get("")
@login_required
def index():
    session, principal = tenant_db(), g.principal
    service.readable_somewhere(session, principal)
    query = _filters()
    rows = session.execute(service.search(session, principal, **query).limit(LIST_LIMIT)).all()
    units = service.keeping_units(session, principal, "archives:read")
    return render_template(
        "archives/index.html",
        rows=rows,
        query=query,
        classes={rule.class_code: rule for rule in schedule.schedule(session)},
        units=units,
        unit_names={unit.id: unit.name for unit in units},
        statuses=ITEM_STATUSES,
        limit=LIST_LIMIT,
    )


def _render_item(item_id: int, *, error: str | None = None, status: int = 200):
    session, principal = tenant_db(), g.principal
    item = service.item_for(session, principal, item_id, "archives:read")
    unit = org.get_unit(session, item.unit_id)
    covering = holds.holds_on(session, item)
    appraisals = appraisal.appraisals_of(session, item)
    signers = (
        {hold.placed_by for hold in covering}
        | {h.released_by for h in covering}
        | {a.proposed_by for a in appraisals}
        | {a.confirmed_by for a in appraisals}
    )
    register = session.scalars(loans.visible_loans(session, principal, item_id=item.id)).all()
    signers |= {loan.issued_by for loan in register} | {loan.received_by for loan in register}
    people = {
        user.id: user for user in session.scalars(select(User).where(User.id.in_(signers - {None})))
    }
    return (
        render_template(
            "archives/item.html",
            item=item,
            unit=unit,
            rule=schedule.rule_for(session, item.class_code),
            held=service.is_held(session, item.id),
            files=service.files_of(session, item),
            holds=covering,
            people=people,
            may_hold=authz.can(session, principal, "archives:hold", unit),
            appraisals=appraisals,
            open_appraisal=next((a for a in appraisals if a.confirmed_at is None), None),
            may_appraise=authz.can(session, principal, "archives:appraise", unit)
            and appraisal.may_be_appraised(item, today(session)),
            loans=register,
            may_lend=authz.can(session, principal, "archives:write", unit),
            today=today(session),
            error=error,
        ),
        status,
    )


@bp.get("/items/<int:item_id>")
@login_required
def item(item_id: int):
    return _render_item(item_id)


def _refused(item_id: int, error: DomainError):
    tenant_db().rollback()  # nothing of the refused action stays
    message = REFUSALS.get(error.code)
    return _render_item(
        item_id, error=str(message) if message else error.message, status=error.status
    )


def _on_item(item_id: int, act: Callable[[Session], object], done: str):
    """An action on an item's page: done and back to the page, or refused on it."""
    session = tenant_db()
    service.item_for(session, g.principal, item_id, "archives:read")
    try:
        act(session)
    except DomainError as error:
        return _refused(item_id, error)
    flash(done, "info")
    return redirect(url_for(".item", item_id=item_id), code=303)


@bp.post("/items/<int:item_id>/holds")
@login_required
def place_hold(item_id: int):
    reason = request.form.get("reason", "")
    return _on_item(
        item_id,
        lambda session: holds.place_hold(session, g.principal, reason=reason, item_id=item_id),
        _("The item is under legal hold."),
    )


@bp.post("/items/<int:item_id>/holds/<int:hold_id>/release")
@login_required
def release_hold(item_id: int, hold_id: int):
    reason = request.form.get("reason", "")
    return _on_item(
        item_id,
        lambda session: holds.release_hold(session, g.principal, hold_id, reason=reason),
        _("The legal hold was released."),
    )


@bp.post("/items/<int:item_id>/loans")
@login_required
def issue_copy(item_id: int):
    due_on = parse_day(request.form.get("due_on", ""))
    if due_on is None:
        service.item_for(tenant_db(), g.principal, item_id, "archives:read")
        return _render_item(item_id, error=str(REFUSALS["bad_loan"]), status=422)
    form = request.form
    return _on_item(
        item_id,
        lambda session: loans.issue_copy(
            session,
            g.principal,
            item_id,
            form="copy",
            borrower=form.get("borrower", ""),
            purpose=form.get("purpose", ""),
            due_on=due_on,
        ),
        _("The copy is entered in the lending register."),
    )


@bp.post("/items/<int:item_id>/loans/<int:loan_id>/return")
@login_required
def return_copy(item_id: int, loan_id: int):
    return _on_item(
        item_id,
        lambda session: loans.return_copy(session, g.principal, loan_id),
        _("The copy is back and signed for."),
    )


@bp.get("/items/<int:item_id>/files/<int:file_id>")
@login_required
def download(item_id: int, file_id: int):
    session = tenant_db()
    item = service.item_for(session, g.principal, item_id, "archives:read")
    archived = session.get(ArchiveFile, file_id)
    if archived is None or archived.item_id != item.id or archived.destroyed_at is not None:
        raise NotFound(f"item {item_id} has no file {file_id}", code="file_not_found")
    return document_response(session, archived.document_id)


@bp.post("/items/<int:item_id>/appraisals")
@login_required
def propose(item_id: int):
    decision, reason = request.form.get("decision", ""), request.form.get("reason", "")
    keep_until = parse_day(request.form.get("keep_until", "")) if decision == "keep" else None
    return _on_item(
        item_id,
        lambda session: appraisal.propose(
            session, g.principal, item_id, decision=decision, reason=reason, keep_until=keep_until
        ),
        _("Your appraisal waits for a second person."),
    )


@bp.post("/items/<int:item_id>/appraisals/<int:appraisal_id>/confirm")
@login_required
def confirm(item_id: int, appraisal_id: int):
    agree, comment = request.form.get("agree") == "yes", request.form.get("comment", "")
    return _on_item(
        item_id,
        lambda session: appraisal.confirm(
            session, g.principal, appraisal_id, agree=agree, comment=comment
        ),
        _("The appraisal is decided.") if agree else _("The appraisal is declined."),
    )


# --- destruction lists --------------------------------------------------------------------


def _destruction_page(*, error: str | None = None, problems=None, status: int = 200):
    session, principal = tenant_db(), g.principal
    service.readable_somewhere(session, principal)
    candidates = session.execute(
        service.search(session, principal, status="to_destroy").limit(LIST_LIMIT)
    ).all()
    units = service.keeping_units(session, principal, "archives:appraise")
    lists = session.scalars(destruction.visible_lists(session, principal).limit(LIST_LIMIT)).all()
    return (
        render_template(
            "archives/destruction.html",
            candidates=candidates,
            units=units,
            lists=lists,
            unit_names={
                u.id: u.name for u in service.keeping_units(session, principal, "archives:read")
            },
            classes={rule.class_code: rule for rule in schedule.schedule(session)},
            error=error,
            problems=problems or {},
        ),
        status,
    )


@bp.get("/destruction")
@login_required
def destruction_lists():
    return _destruction_page()


@bp.post("/destruction")
@login_required
def draw_up():
    session = tenant_db()
    try:
        unit_id = int(request.form.get("unit_id", ""))
        item_ids = [int(value) for value in request.form.getlist("item_ids")]
    except ValueError:
        return _destruction_page(error=_("Choose a unit and the items."), status=422)
    try:
        listing = destruction.draw_up(
            session,
            g.principal,
            unit_id=unit_id,
            item_ids=item_ids,
            note=(request.form.get("note") or "").strip() or None,
        )
    except DomainError as error:
        session.rollback()
        message = REFUSALS.get(error.code)
        problems = error.errors if error.code == "not_destroyable" else None
        return _destruction_page(
            error=str(message) if message else error.message, problems=problems, status=error.status
        )
    flash(_("The destruction list is sent for approval."), "info")
    return redirect(url_for(".destruction_list", list_id=listing.id), code=303)


def _render_list(list_id: int, *, error: str | None = None, status: int = 200):
    session, principal = tenant_db(), g.principal
    listing = destruction.read_list(session, principal, list_id)
    unit = org.get_unit(session, listing.unit_id)
    return (
        render_template(
            "archives/list.html",
            listing=listing,
            unit=unit,
            items=destruction.items_of(session, listing),
            classes={rule.class_code: rule for rule in schedule.schedule(session)},
            may_carry_out=authz.can(session, principal, "archives:appraise", unit),
            error=error,
        ),
        status,
    )


@bp.get("/destruction/<int:list_id>")
@login_required
def destruction_list(list_id: int):
    return _render_list(list_id)


@bp.post("/destruction/<int:list_id>/carry-out")
@login_required
def carry_out(list_id: int):
    session = tenant_db()
    destruction.read_list(session, g.principal, list_id)
    try:
        destruction.carry_out(
            session,
            configured_store(),
            g.principal,
            list_id,
            archives_supervisor=(request.form.get("archives_supervisor") or "").strip(),
            accounting_supervisor=(request.form.get("accounting_supervisor") or "").strip(),
        )
    except DomainError as error:
        session.rollback()
        message = REFUSALS.get(error.code)
        return _render_list(
            list_id, error=str(message) if message else error.message, status=error.status
        )
    flash(_("The items were destroyed; the list and its certificate are filed."), "info")
    return redirect(url_for(".destruction_list", list_id=list_id), code=303)


# --- the retention schedule ---------------------------------------------------------------


def _retention_page(*, error: str | None = None, status: int = 200):
    session, principal = tenant_db(), g.principal
    service.readable_somewhere(session, principal)
    return (
        render_template(
            "archives/retention.html",
            rules=schedule.schedule(session),
            may_change=authz.can(session, principal, "archives:admin", org.get_root(session)),
            error=error,
        ),
        status,
    )


@bp.get("/retention")
@login_required
def retention():
    return _retention_page()


@bp.post("/retention/<class_code>")
@login_required
def change_retention(class_code: str):
    session = tenant_db()
    permanent = request.form.get("permanent") == "yes"
    try:
        years = None if permanent else int(request.form.get("years", ""))
    except ValueError:
        return _retention_page(error=str(REFUSALS["bad_period"]), status=422)
    try:
        rule, count = schedule.change_rule(
            session,
            g.principal,
            class_code,
            {"years": years, "permanent": permanent},
            today(session),
        )
    except DomainError as error:
        session.rollback()
        message = REFUSALS.get(error.code)
        return _retention_page(
            error=str(message) if message else error.message, status=error.status
        )
    flash(
        _(
            "%(name)s: the new period applies; %(count)d items got their due date again.",
            name=rule.name,
            count=count,
        ),
        "info",
    )
    return redirect(url_for(".retention"), code=303)
