"""Handover lists in the portal (工作交接, seed §19): the lists one may see, a list drawn up,
and its page with the lines and the three signatures, signed there by whichever of the one
leaving, the one taking over and the supervisor is signed in.

Nested under the archives blueprint (endpoints ``portal.archives.handovers.*``). Thin: every rule
and every authorization is ``archives.handovers``', as for the API.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from propgroup.archives import handovers, service
from propgroup.archives.forms import KIND_LABELS, SIGNER_LABELS, HandoverForm
from propgroup.archives.models import HANDOVER_KINDS, Handover
from propgroup.errors import DomainError, Forbidden
from propgroup.identity import authz
from propgroup.identity.models import User
from propgroup.org import service as org
from propgroup.org.models import OrgUnit
from propgroup.portal.auth import login_required
from propgroup.storage.settings import configured_store
from propgroup.tenancy.middleware import tenant_db

bp = Blueprint("handovers", __name__, url_prefix="/handovers")

LIST_LIMIT = 100
STATUS_LABELS = {"open": _l("Being signed"), "signed": _l("Signed"), "cancelled": _l("Cancelled")}
REFUSALS = {
    "forbidden": _l("You may not do that for this unit."),
    "not_a_signer": _l(
        "Only the one leaving, the one taking over and the supervisor sign a handover."
    ),
    "signed_already": _l("You have signed this list already. Nothing was changed."),
    "bad_state": _l("This list is no longer being signed. Nothing was changed."),
    "reason_required": _l("Give the reason (1-2000 characters)."),
}


def _message(error: DomainError) -> str:
    message = REFUSALS.get(error.code)
    return str(message) if message else error.message


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "handover_status": lambda status: str(STATUS_LABELS.get(status, status)),
        "kind_label": lambda kind: str(KIND_LABELS.get(kind, kind)),
        "signer_label": lambda role: str(SIGNER_LABELS[role]),
        "signers": handovers.SIGNERS,
    }


def _people(session, rows: list[Handover]) -> dict[int, User]:
    ids = [getattr(row, f"{role}_id") for row in rows for role in handovers.SIGNERS]
    return {user.id: user for user in session.scalars(select(User).where(User.id.in_(ids)))}


@bp.get("")
@login_required
def index():
    """Whoever signs a list sees it, even holding no role at its unit (a newcomer taking over)."""
    session, principal = tenant_db(), g.principal
    rows = session.scalars(handovers.visible_handovers(session, principal).limit(LIST_LIMIT)).all()
    units = session.scalars(select(OrgUnit).where(OrgUnit.id.in_([r.unit_id for r in rows])))
    return render_template(
        "archives/handovers.html",
        rows=rows,
        people=_people(session, rows),
        unit_names={unit.id: unit.name for unit in units},
        may_draw_up=bool(service.keeping_units(session, principal, "archives:write")),
        limit=LIST_LIMIT,
    )


def _form_page(form: HandoverForm, status: int = 200):
    session, principal = tenant_db(), g.principal
    units = service.keeping_units(session, principal, "archives:write")
    if not units:
        raise Forbidden(f"{principal.name} may not archives:write anywhere", code="forbidden")
    return (
        render_template("archives/handover_new.html", form=form, units=units, kinds=HANDOVER_KINDS),
        status,
    )


@bp.get("/new")
@login_required
def new():
    return _form_page(HandoverForm())


@bp.post("/new")
@login_required
def draw_up():
    session, form = tenant_db(), HandoverForm.from_post(request.form)
    try:
        handover = handovers.open_handover(session, g.principal, form.spec())
    except DomainError as error:
        session.rollback()  # nothing of the refused list stays
        form.refuse(error, _message(error))
        return _form_page(form, status=error.status)
    flash(_("The handover list is drawn up: the three now sign it."), "info")
    return redirect(url_for(".detail", handover_id=handover.id), code=303)


def _render(handover_id: int, *, error: str | None = None, status: int = 200):
    session, principal = tenant_db(), g.principal
    handover = handovers.get_handover(session, principal, handover_id, "archives:read")
    unit = org.get_unit(session, handover.unit_id)
    role = handovers.signer_role(handover, principal)
    return (
        render_template(
            "archives/handover.html",
            handover=handover,
            unit=unit,
            lines=handovers.lines_of(session, handover),
            people=_people(session, [handover]),
            my_role=role if role and not getattr(handover, f"{role}_signed_at") else None,
            may_cancel=authz.can(session, principal, "archives:write", unit),
            error=error,
        ),
        status,
    )


@bp.get("/<int:handover_id>")
@login_required
def detail(handover_id: int):
    return _render(handover_id)


def _act(handover_id: int, act, done: str):
    """A signature or a cancellation: done and back to the list's page, or refused on it."""
    session = tenant_db()
    handovers.get_handover(session, g.principal, handover_id, "archives:read")
    try:
        act(session)
    except DomainError as error:
        session.rollback()
        return _render(handover_id, error=_message(error), status=error.status)
    flash(done, "info")
    return redirect(url_for(".detail", handover_id=handover_id), code=303)


@bp.post("/<int:handover_id>/sign")
@login_required
def sign(handover_id: int):
    return _act(
        handover_id,
        lambda session: handovers.sign(session, configured_store(), g.principal, handover_id),
        _("Your signature is on the handover list."),
    )


@bp.post("/<int:handover_id>/cancel")
@login_required
def cancel(handover_id: int):
    reason = request.form.get("reason", "")
    return _act(
        handover_id,
        lambda session: handovers.cancel(session, g.principal, handover_id, reason),
        _("The handover list is cancelled."),
    )
