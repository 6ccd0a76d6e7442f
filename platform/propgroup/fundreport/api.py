"""``/api/fundreport``: the weekly fund report (R-REP-2) — weeks, a week's report as JSON or
xlsx, taking a week by hand, regenerating it, and a unit confirming its week."""

from __future__ import annotations

from propgroup.api import Blueprint
from propgroup.api.auth import current_principal
from propgroup.budgets.sheets import XLSX, xlsx_response
from propgroup.fundreport import report, service, workbook
from propgroup.fundreport.schemas import (
    ConfirmationInSchema,
    ConfirmationSchema,
    RegenerationInSchema,
    ReportQuerySchema,
    ReportSchema,
    WeekSchema,
)
from propgroup.tenancy.middleware import tenant_db

blp = Blueprint(
    "fundreport", __name__, url_prefix="/api/fundreport", description="Weekly fund report"
)


@blp.route("/weeks")
@blp.response(200, WeekSchema(many=True))
def weeks():
    """The weeks taken, newest first."""
    return report.list_weeks(tenant_db(), current_principal())


@blp.route("/weeks/<week>")
@blp.arguments(ReportQuerySchema, location="query")
@blp.response(200, ReportSchema)
def week_report(query, week: str):
    """The week for the units the caller may banking:read (``unit``: that unit's subtree)."""
    return report.week_report(tenant_db(), current_principal(), week, query["unit"])


@blp.route("/weeks/<week>/xlsx")
@blp.arguments(ReportQuerySchema, location="query")
@blp.response(200, content_type=XLSX)
def week_workbook(query, week: str):
    return xlsx_response(
        *workbook.fund_workbook(tenant_db(), current_principal(), week, query["unit"])
    )


@blp.route("/weeks/<week>", methods=["POST"])
@blp.response(201, WeekSchema)
def take_week(week: str):
    """A past week the job never took, taken now (banking:admin at HQ; audited)."""
    return service.generate(tenant_db(), current_principal(), week)


@blp.route("/weeks/<week>/regeneration", methods=["POST"])
@blp.arguments(RegenerationInSchema)
@blp.response(200, WeekSchema)
def regenerate(data, week: str):
    """The week taken again from the journal as it stands, with a reason (audited)."""
    return service.regenerate(tenant_db(), current_principal(), week, data["reason"])


@blp.route("/weeks/<week>/confirmations", methods=["POST"])
@blp.arguments(ConfirmationInSchema)
@blp.response(201, ConfirmationSchema)
def confirm(data, week: str):
    """The unit's finance confirms its accounts' week (banking:write at the unit)."""
    return service.confirm(tenant_db(), current_principal(), week, data["unit_id"])
