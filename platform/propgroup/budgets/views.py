"""Budgets in the portal (R-BUD-1…5): the plans of a year, a version's grid of lines (htmx,
keyboard friendly), its history and comparison, and plan vs actual rolled up the tree with a
variance chart per unit.

Nested under the portal blueprint (endpoints ``portal.budgets.*``), so the pages share its
layout, CSRF protection, headers and HTML error pages. Thin: every rule, and every check of who
may see or change what, is the service's (``service``, ``seasons``, ``figures``). A refusal is
shown where it came from with its status; the request's unit of work then rolls back, so a
refused form writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from propgroup.budgets import figures, figures_workbook, plan_workbook, seasons, service
from propgroup.budgets.categories import chart
from propgroup.budgets.chart import Line, variance_chart
from propgroup.budgets.forms import MONTH_LABELS, ZERO, Filter, Grid, owner_value, sections
from propgroup.budgets.horizons import periods_of
from propgroup.budgets.models import OPEN, PLAN_KINDS, BudgetCategory, BudgetPlan, PlanVersion
from propgroup.budgets.sheets import xlsx_response
from propgroup.errors import Conflict, DomainError, Forbidden, NotFound
from propgroup.identity import authz
from propgroup.identity.principals import Principal
from propgroup.org import service as org
from propgroup.org.models import OrgUnit
from propgroup.portal.auth import is_partial_request, login_required
from propgroup.portal.formatting import cny
from propgroup.storage.settings import max_upload_bytes
from propgroup.tenancy.middleware import tenant_db

bp = Blueprint("budgets", __name__, url_prefix="/budgets")

NOTE_MAX = 2000
KIND_LABELS = {"profit": _l("Profit plan"), "fund": _l("Fund plan"), "expense": _l("Expense plan")}
STATUS_LABELS = {
    "draft": _l("Draft"),
    "submitted": _l("Sent for approval"),
    "approved": _l("Approved"),
    "locked": _l("Locked"),
    "superseded": _l("Superseded"),
}
ALERT_LABELS = {"over_80": _l("Nearly spent"), "over_100": _l("Over plan")}
VERSION_SET_LABELS = {"approved": _l("Approved versions"), "latest": _l("Latest versions")}


def percent(rate: Decimal | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return {
        "plan_kind_label": lambda kind: str(KIND_LABELS.get(kind, kind)),
        "version_status": lambda status: str(STATUS_LABELS.get(status, status)),
        "alert_label": lambda alert: str(ALERT_LABELS.get(alert, alert)) if alert else "",
        "percent": percent,
        "amount_text": lambda value: f"{value:,.2f}",
        "signed_amount": lambda value: f"{value:+,.2f}",
        "month_labels": MONTH_LABELS,
        "kinds": list(PLAN_KINDS),
        "version_sets": VERSION_SET_LABELS,
    }


def refusal_message(error: DomainError) -> str:
    """The service's refusal in the reader's language (its own English message as a fallback)."""
    state = error.errors if isinstance(error.errors, dict) else {}
    if error.code == "surplus_mismatch":
        return _(
            "Not submitted: the budgeted surplus %(surplus)s differs from the profit reported to "
            "the group, %(target)s, by %(difference)s (tolerance %(tolerance)s; R-BUD-2).",
            **{
                key: cny(Decimal(state[key]))
                for key in ("surplus", "target", "difference", "tolerance")
            },
        )
    messages = {
        "season_closed": _(
            "Not submitted: this year's budget season is not open. Plans are submitted while "
            "HQ keeps it open (R-BUD-2)."
        ),
        "version_not_draft": _(
            "This version is no longer a draft: only a draft is changed. Revise the plan for a "
            "new version."
        ),
        "not_submitted": _("Only a version sent for approval is withdrawn."),
        "version_open": _("This plan has a version open already: change or withdraw that one."),
        "plan_exists": _("That plan exists already: open it from the list."),
        "forbidden": _("Your roles do not allow this at that unit."),
        "bad_unit": _("Plans are made by HQ, a region or a branch."),
        "invalid_lines": _("Nothing was saved. Please correct the lines marked below."),
    }
    return messages.get(error.code, error.message)


# --- the plans of a year ----------------------------------------------------------------


def _render_index(filters: Filter, *, error: str | None = None, status: int = 200):
    session, me = tenant_db(), g.principal
    year = filters.year
    try:
        progress = seasons.progress(session, me, year)
    except NotFound:
        progress = None  # no season for the year: plans may still be compiled
    page = render_template(
        "budgets/index.html",
        filters=filters,
        error=error,
        units=service.planning_units(session, me),
        writable={unit.id for unit in service.planning_units(session, me, "budgets:write")},
        plans={
            (plan.unit_id, plan.plan_kind): version
            for plan, version in service.newest_versions(session, me, year)
        },
        progress={row["unit"]: row for row in progress["units"]} if progress else {},
        season=progress,
    )
    return page, status


@bp.get("")
@login_required
def index():
    return _render_index(Filter.from_args(request.args, seasons.working_year(tenant_db())))


@bp.post("/plans")
@login_required
def open_plan():
    """A unit's plan of a kind for a year, opened with an empty draft."""
    session = tenant_db()
    filters = Filter.from_args(request.form, seasons.working_year(session))
    unit_id, kind = request.form.get("unit_id") or "", request.form.get("plan_kind")
    if filters.errors or not unit_id.isdecimal() or len(unit_id) > 18 or kind not in PLAN_KINDS:
        message = _("Choose a unit, a kind of plan and a year.")
        return _render_index(filters, error=message, status=422)
    try:
        version = service.open_plan(
            session, g.principal, unit_id=int(unit_id), fiscal_year=filters.year, plan_kind=kind
        )
    except DomainError as error:
        session.rollback()
        return _render_index(filters, error=refusal_message(error), status=error.status)
    flash(_("The plan was opened with an empty draft."), "info")
    return redirect(url_for(".version", version_id=version.id), code=303)


@bp.get("/plans/<int:plan_id>")
@login_required
def plan(plan_id: int):
    session = tenant_db()
    versions = service.versions_of(session, service.read_plan(session, g.principal, plan_id))
    return redirect(url_for(".version", version_id=versions[-1].id))


@bp.post("/plans/<int:plan_id>/revise")
@login_required
def revise(plan_id: int):
    """The next version, a draft copy of the one in force; earlier versions stay readable."""
    session = tenant_db()
    newest = service.versions_of(session, service.read_plan(session, g.principal, plan_id))[-1]
    note = (request.form.get("note") or "").strip() or None
    if note and len(note) > NOTE_MAX:
        message = _("The note is too long (at most %(max)d characters).", max=NOTE_MAX)
        return _render_version(newest, error=message, status=422)
    try:
        version = service.revise_plan(session, g.principal, plan_id, note=note)
    except DomainError as error:
        return _refused(newest.id, error)
    flash(_("Version %(number)d was opened as a draft.", number=version.number), "info")
    return redirect(url_for(".version", version_id=version.id), code=303)


# --- one version: its grid, history and actions -------------------------------------------


def _plan_chart(session, kind: str) -> list[BudgetCategory]:
    return [c for c in chart(session, g.principal) if c.plan_kind == kind]


def _annual_plan(session, version: PlanVersion) -> BudgetPlan:
    """The version's plan, when it is a year's plan: the grid has twelve months."""
    plan = service.read_plan(session, g.principal, version.plan_id)
    if plan.horizon != "annual":
        raise Conflict(
            _("A medium-term plan is changed through its Excel template."),
            code="medium_term_plan",
        )
    return plan


def _version_context(version: PlanVersion, grid: Grid | None) -> dict[str, Any]:
    """What every version page shows; a year's plan adds its grid (twelve months), a
    medium-term plan is shown year by year and changed through its Excel template."""
    session, me = tenant_db(), g.principal
    plan = service.read_plan(session, me, version.plan_id)
    unit = org.get_unit(session, plan.unit_id)
    saved = {line["category"]: line for line in service.lines_of(session, version.id)}
    versions = service.versions_of(session, plan)
    may_write = authz.can(session, me, "budgets:write", unit)
    context = {
        "version": version,
        "plan": plan,
        "unit": unit,
        "saved": saved,
        "years": periods_of(plan).keys,
        "editable": may_write and version.status == "draft",
        "may_write": may_write,
        "versions": versions,
        "may_revise": may_write and not any(v.status in OPEN for v in versions),
    }
    if plan.horizon == "annual":
        context |= _grid_context(session, plan, unit, saved, grid)
    return context


def _grid_context(
    session, plan: BudgetPlan, unit: OrgUnit, saved: dict[str, Any], grid: Grid | None
) -> dict[str, Any]:
    grid = grid or Grid.from_saved(list(saved.values()))
    categories = _plan_chart(session, plan.plan_kind)
    departments, people = service.line_owners(session, g.principal, unit)
    in_grid = {line.category for line in grid.lines}
    leaves = [category for category in categories if category.is_leaf]
    owners = [
        (_("Departments"), [(owner_value("department", d.code), d.name) for d in departments]),
        (_("People"), [(owner_value("person", p.login), p.display_name) for p in people]),
    ]
    addable = [
        (top, [c for c in leaves if c.code not in in_grid and c.path.startswith(top.path)])
        for top in categories
        if top.parent_id is None
    ]
    return {
        "grid": grid,
        "sections": sections(grid, categories, saved),
        "names": {category.code: category.name for category in categories},
        "addable": [(top, group) for top, group in addable if group],
        "owners": owners,
        "owner_names": {value: name for _group, choices in owners for value, name in choices},
    }


def _render_version(
    version: PlanVersion,
    *,
    grid: Grid | None = None,
    error: str | None = None,
    problems: object = None,
    status: int = 200,
):
    context = _version_context(version, grid)
    listed = problems if isinstance(problems, dict) else {}
    return render_template("budgets/version.html", error=error, problems=listed, **context), status


def _refused(version_id: int, error: DomainError, *, problems: object = None):
    """The version's page as it stands now, with the refusal (and, for a file, each problem
    by row and column) on top and its status."""
    session = tenant_db()
    session.rollback()  # nothing of the refused action stays, not even in this session
    version = service.read_version(session, g.principal, version_id)
    message = refusal_message(error)
    return _render_version(version, error=message, problems=problems, status=error.status)


@bp.get("/versions/<int:version_id>")
@login_required
def version(version_id: int):
    return _render_version(service.read_version(tenant_db(), g.principal, version_id))


@bp.get("/versions/<int:version_id>/xlsx")
@login_required
def download_version(version_id: int):
    """The version as an Excel template, as ``GET /api/budgets/versions/<id>/xlsx`` gives it."""
    return xlsx_response(*plan_workbook.plan_workbook(tenant_db(), g.principal, version_id))


@bp.post("/versions/<int:version_id>/xlsx")
@login_required
def upload_version(version_id: int):
    """The filled-in template back: the draft's lines replaced by its rows, or nothing written
    and every problem named by row and column."""
    session = tenant_db()
    upload, limit = request.files.get("workbook"), max_upload_bytes()
    data = upload.stream.read(limit + 1) if upload is not None and upload.filename else b""
    if not data or len(data) > limit:
        message = (
            _("Choose the filled-in Excel template to upload.")
            if not data
            else _("The file is larger than %(limit)d bytes.", limit=limit)
        )
        version_ = service.read_version(session, g.principal, version_id)
        return _render_version(version_, error=message, status=422 if not data else 413)
    try:
        plan_workbook.read_workbook(session, g.principal, version_id, data)
    except DomainError as error:
        return _refused(version_id, error, problems=error.errors)
    flash(_("The lines of the uploaded template were saved."), "info")
    return redirect(url_for(".version", version_id=version_id), code=303)


@bp.post("/versions/<int:version_id>/submit")
@login_required
def submit(version_id: int):
    """Send the draft as saved to the level above (a medium-term plan's way; a grid is
    saved and sent in one go)."""
    return _version_action(
        version_id,
        service.submit_version,
        lambda sent: _("Version %(number)d was sent for approval.", number=sent.number),
    )


@bp.post("/versions/<int:version_id>/lines")
@login_required
def save_lines(version_id: int):
    """The grid posted whole: saved through ``write_lines`` (and submitted, if asked), or
    refused with every problem beside its line and nothing written. An htmx save of a changed
    cell gets the new totals back out of band, adding or removing a line the whole grid."""
    session = tenant_db()
    version_ = service.read_version(session, g.principal, version_id)
    notes = {line["category"]: line["note"] for line in service.lines_of(session, version_.id)}
    grid = Grid.from_post(request.form, notes)
    plan_ = _annual_plan(session, version_)
    grid.arrange(_plan_chart(session, plan_.plan_kind))
    specs = grid.specs()
    if grid.invalid:
        return _grid_answer(version_, grid, status=422)
    try:
        service.write_lines(session, g.principal, version_.id, specs)
        if request.form.get("action") == "submit":
            service.submit_version(session, g.principal, version_.id)
    except DomainError as error:
        session.rollback()
        if error.code == "invalid_lines":
            grid.refuse(error)
            return _grid_answer(version_, grid, status=error.status)
        return _grid_answer(version_, grid, status=error.status, error=refusal_message(error))
    if is_partial_request():
        return _grid_answer(version_, grid, status=200)
    if request.form.get("action") == "submit":
        flash(_("Version %(number)d was sent for approval.", number=version_.number), "info")
    else:
        flash(_("The lines were saved."), "info")
    return redirect(url_for(".version", version_id=version_.id), code=303)


def _grid_answer(version_: PlanVersion, posted: Grid, *, status: int, error: str | None = None):
    """The whole page without htmx; with it, the grid (a line added or removed) or, for a
    changed cell, its totals and messages out of band (the typed cells stay as they are).
    A refused grid is shown as it was typed, a saved one as it is stored."""
    shown = posted if status >= 400 else None
    if not is_partial_request():
        return _render_version(version_, grid=shown, error=error, status=status)
    context = _version_context(version_, shown)
    template = "budgets/_grid.html" if posted.reshaped else "budgets/_grid_saved.html"
    return render_template(template, error=error, **context), status


@bp.post("/versions/<int:version_id>/withdraw")
@login_required
def withdraw(version_id: int):
    return _version_action(
        version_id,
        service.withdraw_version,
        lambda withdrawn: _("Version %(number)d is a draft again.", number=withdrawn.number),
    )


def _version_action(
    version_id: int,
    act: Callable[[Session, Principal, int], PlanVersion],
    done: Callable[[PlanVersion], str],
):
    """A button on the version's page: the service acts, or its refusal is shown there."""
    try:
        acted = act(tenant_db(), g.principal, version_id)
    except DomainError as error:
        return _refused(version_id, error)
    flash(done(acted), "info")
    return redirect(url_for(".version", version_id=version_id), code=303)


@bp.get("/versions/<int:version_id>/compare/<int:other_id>")
@login_required
def compare(version_id: int, other_id: int):
    """What ``other`` changes against ``version``, line by line and month by month."""
    session = tenant_db()
    changes = service.compare_versions(session, g.principal, version_id, other_id)
    before, after = (session.get(PlanVersion, id_) for id_ in (version_id, other_id))
    plan_ = service.read_plan(session, g.principal, before.plan_id)
    return render_template(
        "budgets/compare.html",
        changes=changes,
        before=before,
        after=after,
        plan=plan_,
        unit=org.get_unit(session, plan_.unit_id),
        names={c.code: c.name for c in _plan_chart(session, plan_.plan_kind)},
    )


# --- plan vs actual up the tree -----------------------------------------------------------


FIGURE_FILTERS = ("year", "kind", "versions", "through")  # what the home page passes on


@bp.get("/figures")
@login_required
def figures_home():
    """Plan vs actual of the highest unit the reader may see."""
    units = service.planning_units(tenant_db(), g.principal)
    if not units:
        raise Forbidden("no unit whose budgets this person may read", code="forbidden")
    kept = {key: request.args[key] for key in FIGURE_FILTERS if key in request.args}
    return redirect(url_for(".unit_figures", unit_id=units[0].id, **kept))


@bp.get("/figures/<int:unit_id>/xlsx")
@login_required
def unit_figures_xlsx(unit_id: int):
    """The page's figures (the unit and the units right below it) as an Excel workbook."""
    session = tenant_db()
    filters = Filter.from_args(request.args, seasons.working_year(session))
    return xlsx_response(
        *figures_workbook.figures_workbook(
            session,
            g.principal,
            unit_id,
            filters.year,
            versions=filters.versions,
            months=(1, filters.through),
            depth=1,
        )
    )


@bp.get("/figures/<int:unit_id>")
@login_required
def unit_figures(unit_id: int):
    """A unit's plan, actual, variance and execution rate by budget line, and each unit below
    it, every figure rolled up both trees in SQL (R-BUD-4, R-BUD-5)."""
    session, me = tenant_db(), g.principal
    filters = Filter.from_args(request.args, seasons.working_year(session))
    result = figures.plan_vs_actual(
        session, me, unit_id, filters.year, versions=filters.versions, months=(1, filters.through)
    )
    unit = org.get_unit(session, unit_id)
    by_unit: dict[int, dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in result["rows"]:
        if row["plan_kind"] == filters.kind:
            by_unit[row["unit_id"]][row["category"]] = row
    categories = _plan_chart(session, filters.kind)
    own = by_unit[unit.id]
    return render_template(
        "budgets/figures.html",
        unit=unit,
        trail=_trail(unit),
        filters=filters,
        units=[unit, *service.planning_units(session, me, children_of=unit)],
        by_unit=by_unit,
        categories=categories,
        tops=[c for c in categories if c.parent_id is None],
        chart=variance_chart(
            [
                Line(
                    c.code,
                    c.name,
                    c.side,
                    own.get(c.code, {}).get("plan", ZERO),
                    own.get(c.code, {}).get("actual", ZERO),
                )
                for c in categories
                if c.is_leaf
            ]
        ),
    )


def _trail(unit: OrgUnit) -> list[tuple[OrgUnit, bool]]:
    """The units above, each with whether the reader may open its figures."""
    session = tenant_db()
    return [
        (above, authz.can(session, g.principal, "budgets:read", above))
        for above in org.ancestors(session, unit)
    ]
