"""Archives in the portal: the catalogue searched by class, unit, year and title; an item's page
with its cover, due date, files and legal holds, where holds are placed and released (R-ARC-2).

Nested under the portal blueprint (endpoints ``portal.archives.*``). Thin: every rule is the
services'. A refusal is shown on the item's page with its status, and the unit of work rolls back.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from propgroup.archives import holds, schedule, service
from propgroup.archives.models import ITEM_STATUSES, ArchiveFile
from propgroup.archives.schemas import ItemQuerySchema
from propgroup.errors import DomainError, NotFound
from propgroup.identity import authz
from propgroup.identity.models import User
from propgroup.org import service as org
from propgroup.org.models import OrgUnit
from propgroup.portal.auth import login_required
from propgroup.storage.api import document_response
from propgroup.tenancy.middleware import tenant_db

bp = Blueprint("archives", __name__, url_prefix="/archives")

LIST_LIMIT = 100
STATUS_LABELS = {
    "kept": _l("In custody"),
    "due": _l("Due for appraisal"),
    "to_destroy": _l("Appraised for destruction"),
    "listed": _l("On a destruction list"),
    "destroyed": _l("Destroyed"),
}
REFUSALS = {
    "second_person": _l("A legal hold is released by someone other than who placed it (R-ARC-2)."),
    "reason_required": _l("Give the reason (1-2000 characters)."),
    "hold_released": _l("This hold was released already. Nothing was changed."),
    "forbidden": _l("You may not do that for this unit."),
}


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {"archive_status": lambda status: str(STATUS_LABELS.get(status, status))}


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
    units = list(
        session.scalars(
            select(OrgUnit)
            .where(authz.visible_units(session, principal, "archives:read"))
            .where(OrgUnit.kind != "department")
            .order_by(OrgUnit.path)
        )
    )
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
    signers = {hold.placed_by for hold in covering} | {h.released_by for h in covering}
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


@bp.post("/items/<int:item_id>/holds")
@login_required
def place_hold(item_id: int):
    session = tenant_db()
    service.item_for(session, g.principal, item_id, "archives:read")
    try:
        holds.place_hold(
            session, g.principal, reason=request.form.get("reason", ""), item_id=item_id
        )
    except DomainError as error:
        return _refused(item_id, error)
    flash(_("The item is under legal hold."), "info")
    return redirect(url_for(".item", item_id=item_id), code=303)


@bp.post("/items/<int:item_id>/holds/<int:hold_id>/release")
@login_required
def release_hold(item_id: int, hold_id: int):
    session = tenant_db()
    service.item_for(session, g.principal, item_id, "archives:read")
    try:
        holds.release_hold(session, g.principal, hold_id, reason=request.form.get("reason", ""))
    except DomainError as error:
        return _refused(item_id, error)
    flash(_("The legal hold was released."), "info")
    return redirect(url_for(".item", item_id=item_id), code=303)


@bp.get("/items/<int:item_id>/files/<int:file_id>")
@login_required
def download(item_id: int, file_id: int):
    session = tenant_db()
    item = service.item_for(session, g.principal, item_id, "archives:read")
    archived = session.get(ArchiveFile, file_id)
    if archived is None or archived.item_id != item.id or archived.destroyed_at is not None:
        raise NotFound(f"item {item_id} has no file {file_id}", code="file_not_found")
    return document_response(session, archived.document_id)
