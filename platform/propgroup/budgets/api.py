"""``/api/budgets``: the chart, seasons, plans and their versions, actuals, plan vs actual."""

from __future__ import annotations

from flask import request

from propgroup.api import Blueprint
from propgroup.api.auth import current_principal
from propgroup.api.idempotency import idempotent
from propgroup.api.pagination import MAX_PAGE_SIZE, Selection, SelectPage
from propgroup.api.schema import columns_of
from propgroup.budgets import (
    actuals,
    checker,
    figures,
    figures_workbook,
    ledger,
    plan_workbook,
    seasons,
    service,
)
from propgroup.budgets.categories import chart, create_category
from propgroup.budgets.schemas import (
    ActualSchema,
    CategoryInSchema,
    CategorySchema,
    ChangeSchema,
    FiguresQuerySchema,
    FiguresSchema,
    ImportQuerySchema,
    ImportSchema,
    IncomeInSchema,
    LinesInSchema,
    PlanDetailSchema,
    PlanInSchema,
    PlanQuerySchema,
    PlanSchema,
    ProgressSchema,
    RemainingQuerySchema,
    RemainingSchema,
    ReversalInSchema,
    RevisionInSchema,
    SeasonInSchema,
    SeasonSchema,
    TargetInSchema,
    TargetSchema,
    VersionDetailSchema,
)
from propgroup.budgets.sheets import XLSX, xlsx_response
from propgroup.errors import TooLarge
from propgroup.storage.settings import max_upload_bytes
from propgroup.tenancy.middleware import tenant_db

blp = Blueprint("budgets", __name__, url_prefix="/api/budgets", description="Budgets and plans")


def _version(version):
    session = tenant_db()
    plan = service.plan_of(session, version)
    return {
        **columns_of(version),
        "horizon": plan.horizon,
        "periods": service.version_periods(session, version.id).keys,
        "lines": service.lines_of(session, version.id),
    }


def _uploaded() -> bytes:
    """The raw request body, refused past the upload limit before and while it is read."""
    limit = max_upload_bytes()
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"the file is larger than the {limit} byte limit", code="upload_too_large")
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"the file is larger than the {limit} byte limit", code="upload_too_large")
    return data


@blp.route("/categories")
@blp.response(200, CategorySchema(many=True))
def categories():
    """The chart of budget categories (预算科目); leaves are the budget lines."""
    return chart(tenant_db(), current_principal())


@blp.route("/categories", methods=["POST"])
@idempotent
@blp.arguments(CategoryInSchema)
@blp.response(201, CategorySchema)
def add_category(data):
    """A new category: a top one names its plan kind and side, one below takes its parent's."""
    return create_category(tenant_db(), current_principal(), **data)


@blp.route("/seasons", methods=["POST"])
@idempotent
@blp.arguments(SeasonInSchema)
@blp.response(201, SeasonSchema)
def open_season(data):
    return seasons.open_season(tenant_db(), current_principal(), **data)


@blp.route("/seasons/<int:fiscal_year>")
@blp.response(200, ProgressSchema)
def season_progress(fiscal_year: int):
    """Who has submitted, who is in force, who is late (R-BUD-2)."""
    return seasons.progress(tenant_db(), current_principal(), fiscal_year)


@blp.route("/seasons/<int:fiscal_year>/close", methods=["POST"])
@blp.response(200, SeasonSchema)
def close_season(fiscal_year: int):
    return seasons.close_season(tenant_db(), current_principal(), fiscal_year)


@blp.route("/seasons/<int:fiscal_year>/targets/<int:unit_id>", methods=["PUT"])
@blp.arguments(TargetInSchema)
@blp.response(200, TargetSchema)
def set_target(data, fiscal_year: int, unit_id: int):
    """The profit the unit reported to the group for the year (上报集团的利润计划)."""
    return seasons.set_profit_target(
        tenant_db(), current_principal(), fiscal_year=fiscal_year, unit_id=unit_id, **data
    )


@blp.route("/plans")
@blp.arguments(PlanQuerySchema, location="query")
@blp.response(200, PlanSchema(many=True))
@blp.paginate(SelectPage, page_size=50, max_page_size=MAX_PAGE_SIZE)
def list_plans(query):
    session = tenant_db()
    return Selection(session, service.visible_plans(session, current_principal(), **query))


@blp.route("/plans", methods=["POST"])
@idempotent
@blp.arguments(PlanInSchema)
@blp.response(201, VersionDetailSchema)
def open_plan(data):
    """A unit's plan for a year, with an empty draft as version 1."""
    return _version(service.open_plan(tenant_db(), current_principal(), **data))


@blp.route("/plans/<int:plan_id>")
@blp.response(200, PlanDetailSchema)
def read_plan(plan_id: int):
    session = tenant_db()
    plan = service.read_plan(session, current_principal(), plan_id)
    return {**columns_of(plan), "versions": service.versions_of(session, plan)}


@blp.route("/plans/<int:plan_id>/revisions", methods=["POST"])
@idempotent
@blp.arguments(RevisionInSchema)
@blp.response(201, VersionDetailSchema)
def revise_plan(data, plan_id: int):
    """The next version: a draft copy of the one in force; earlier versions stay readable."""
    return _version(service.revise_plan(tenant_db(), current_principal(), plan_id, **data))


@blp.route("/versions/<int:version_id>")
@blp.response(200, VersionDetailSchema)
def read_version(version_id: int):
    return _version(service.read_version(tenant_db(), current_principal(), version_id))


@blp.route("/versions/<int:version_id>/lines", methods=["PUT"])
@blp.arguments(LinesInSchema)
@blp.response(200, VersionDetailSchema)
def write_lines(data, version_id: int):
    """Replace a draft's lines; one bad value refuses all of them, each problem named."""
    session = tenant_db()
    return _version(service.write_lines(session, current_principal(), version_id, data["lines"]))


@blp.route("/versions/<int:version_id>/xlsx")
@blp.response(200, content_type=XLSX)
def download_version(version_id: int):
    """The version as an Excel template: protected headers, a row per category of the chart,
    the amounts to fill in unlocked, quarter and year totals as formulas."""
    return xlsx_response(*plan_workbook.plan_workbook(tenant_db(), current_principal(), version_id))


@blp.route("/versions/<int:version_id>/xlsx", methods=["PUT"])
@blp.response(200, VersionDetailSchema)
def upload_version(version_id: int):
    """The draft's lines replaced by a filled-in template sent as the raw body: checked like
    ``PUT …/lines``, every problem named by row and column, nothing written on any."""
    session, principal = tenant_db(), current_principal()
    # Refused before the body is read; no transaction stays open while it streams in.
    service.draft_version(session, principal, version_id, lock=False)
    session.commit()
    return _version(plan_workbook.read_workbook(session, principal, version_id, _uploaded()))


@blp.route("/versions/<int:version_id>/submit", methods=["POST"])
@idempotent
@blp.response(200, VersionDetailSchema)
def submit_version(version_id: int):
    """To the level above, through the approvals engine (request type ``budget_plan``)."""
    return _version(service.submit_version(tenant_db(), current_principal(), version_id))


@blp.route("/versions/<int:version_id>/withdraw", methods=["POST"])
@blp.response(200, VersionDetailSchema)
def withdraw_version(version_id: int):
    return _version(service.withdraw_version(tenant_db(), current_principal(), version_id))


@blp.route("/versions/<int:version_id>/lock", methods=["POST"])
@blp.response(200, VersionDetailSchema)
def lock_version(version_id: int):
    return _version(service.lock_version(tenant_db(), current_principal(), version_id))


@blp.route("/versions/<int:version_id>/compare/<int:other_id>")
@blp.response(200, ChangeSchema(many=True))
def compare(version_id: int, other_id: int):
    """Lines whose months differ between two versions of one plan."""
    return service.compare_versions(tenant_db(), current_principal(), version_id, other_id)


@blp.route("/figures")
@blp.arguments(FiguresQuerySchema, location="query")
@blp.response(200, FiguresSchema)
def plan_vs_actual(query):
    """Plan, actual, variance and execution rate per category for the unit and its subtree
    ``depth`` levels down, each figure rolled up (R-BUD-4, R-BUD-5)."""
    return figures.plan_vs_actual(tenant_db(), current_principal(), **_figures_asked(query))


def _figures_asked(query):
    return {
        "unit_id": query["unit_id"],
        "year": query["fiscal_year"],
        "versions": query["versions"],
        "months": (query["month_from"], query["month_to"]),
        "depth": query["depth"],
    }


@blp.route("/figures.xlsx")
@blp.arguments(FiguresQuerySchema, location="query")
@blp.response(200, content_type=XLSX)
def plan_vs_actual_xlsx(query):
    """The figures of ``GET /figures`` for the same query, as an Excel workbook."""
    session, principal = tenant_db(), current_principal()
    return xlsx_response(
        *figures_workbook.figures_workbook(session, principal, **_figures_asked(query))
    )


@blp.route("/remaining")
@blp.arguments(RemainingQuerySchema, location="query")
@blp.response(200, RemainingSchema)
def remaining(query):
    """What is left on a budget line this year (R-APR-7)."""
    return checker.read_remaining(tenant_db(), current_principal(), **query)


@blp.route("/actuals/imports", methods=["POST"])
@blp.arguments(ImportQuerySchema, location="query")
@blp.response(201, ImportSchema)
def import_ledger(query):
    """A CSV or xlsx of ledger actuals as the raw body: all rows in, or none and every problem
    listed by row and column. Needs ``budgets:actuals`` at every unit the rows name; from then
    on the ledger is those unit-months' only source of actuals."""
    return ledger.import_ledger(
        tenant_db(), current_principal(), filename=query["filename"], data=_uploaded()
    )


@blp.route("/actuals/imports/<int:import_id>/reversal", methods=["POST"])
@blp.arguments(ReversalInSchema)
@blp.response(200, ImportSchema)
def reverse_import(data, import_id: int):
    """Take a ledger import back whole, saying why: its rows stop counting, the import stays on
    record with who reversed it; a second reversal is a 409."""
    return ledger.reverse_import(tenant_db(), current_principal(), import_id, **data)


@blp.route("/actuals/income", methods=["POST"])
@idempotent
@blp.arguments(IncomeInSchema)
@blp.response(201, ActualSchema)
def record_income(data):
    return actuals.record_income(tenant_db(), current_principal(), **data)


@blp.route("/actuals/income/<int:entry_id>/reversal", methods=["POST"])
@blp.arguments(ReversalInSchema)
@blp.response(201, ActualSchema)
def reverse_income(data, entry_id: int):
    """Cancel recorded income, saying why: the answer is the counter-entry (红字冲销) that
    cancels it; a second reversal is a 409."""
    return actuals.reverse_income(tenant_db(), current_principal(), entry_id, **data)
