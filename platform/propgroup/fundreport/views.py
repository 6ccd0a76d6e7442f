"""The weekly fund report in the portal (R-REP-2): the weeks taken, a week drilled down from HQ
to a region to a unit to its accounts, the units that have not confirmed, a unit's confirmation,
and the xlsx download. Thin: who may see or confirm what is the service's."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from propgroup.approvals.forms import parse_id
from propgroup.budgets.sheets import xlsx_response
from propgroup.errors import DomainError, InvalidInput
from propgroup.fundreport import report, service, workbook
from propgroup.identity import authz
from propgroup.org import service as org
from propgroup.portal.auth import login_required
from propgroup.tenancy.middleware import tenant_db

bp = Blueprint("fundreport", __name__, url_prefix="/fundreport")

TYPE_LABELS = {
    "basic": _l("Basic account"),
    "general": _l("General account"),
    "special": _l("Special account"),
    "temporary": _l("Temporary account"),
}


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "account_type_label": lambda kind: str(TYPE_LABELS.get(kind, kind)),
        "amount_text": lambda value: f"{value:,.2f}",
    }


@bp.get("")
@login_required
def index():
    return render_template(
        "fundreport/index.html", weeks=report.list_weeks(tenant_db(), g.principal)
    )


def _unit_arg() -> int | None:
    raw = request.args.get("unit")
    if raw is None:
        return None
    unit_id = parse_id(raw)
    if unit_id is None:
        raise InvalidInput("unit is a unit id", code="bad_unit")
    return unit_id


@bp.get("/weeks/<week>")
@login_required
def week_page(week: str, *, error: str | None = None, status: int = 200):
    """A unit's week (the highest the reader may see by default), with the units right below
    it, its own accounts and who below it has not confirmed."""
    session, me = tenant_db(), g.principal
    result = report.week_report(session, me, week, _unit_arg())
    top = result["units"][0] if result["units"] else None
    trail = []
    if top is not None:
        unit = org.get_unit(session, top["unit_id"])
        trail = [
            (above, authz.can(session, me, "banking:read", above))
            for above in org.ancestors(session, unit)
        ]
    may_confirm = (
        top is not None
        and top["submission"]["expected"]
        and top["submission"]["confirmed_at"] is None
        and authz.can(session, me, "banking:write", org.get_unit(session, top["unit_id"]))
    )
    return render_template(
        "fundreport/week.html",
        result=result,
        top=top,
        children=[row for row in result["units"] if top and row["parent_id"] == top["unit_id"]],
        trail=trail,
        may_confirm=may_confirm,
        error=error,
    ), status


@bp.get("/weeks/<week>/xlsx")
@login_required
def week_xlsx(week: str):
    return xlsx_response(*workbook.fund_workbook(tenant_db(), g.principal, week, _unit_arg()))


@bp.post("/weeks/<week>/confirmation")
@login_required
def confirm(week: str):
    """The unit's finance confirms the unit's week as shown."""
    session = tenant_db()
    unit_id = parse_id(request.form.get("unit_id"))
    if unit_id is None:
        raise InvalidInput("unit_id is a unit id", code="bad_unit")
    try:
        service.confirm(session, g.principal, week, unit_id)
    except DomainError as refused:
        session.rollback()  # nothing of the refused confirmation stays
        return week_page(week, error=refused.message, status=refused.status)
    flash(_("The week is confirmed."), "info")
    return redirect(url_for(".week_page", week=week, unit=unit_id), code=303)
