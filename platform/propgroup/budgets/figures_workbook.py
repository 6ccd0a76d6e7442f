"""Plan versus actual as an Excel workbook (issue 5 §7): the figures of ``figures.plan_vs_actual``
exactly, one row per unit and category, numbers as numbers (2 decimals, the rate as a percent).
The unit tree is the sheet's outline (collapse a region to its own rows) and both trees are
indented, so HQ drills down to a branch the way the JSON's consumers do."""

from __future__ import annotations

from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import Session

from propgroup.budgets.figures import plan_vs_actual
from propgroup.budgets.models import BudgetCategory
from propgroup.budgets.sheets import MONEY_FORMAT, money_value, put_text, saved
from propgroup.identity.principals import Principal
from propgroup.org import service as org
from propgroup.org.models import OrgUnit

HEADER = (
    "单位 Unit",
    "单位名称 Unit name",
    "科目 Category",
    "科目名称 Category name",
    "收支 Side",
    "计划 Plan",
    "实际 Actual",
    "差异 Variance",
    "执行率 Execution rate",
    "预警 Alert",
)
HEADER_ROW = 3
PLAN_COLUMN, RATE_COLUMN, ALERT_COLUMN = 6, 9, 10
ALERTS = {
    "over_80": ("已超80% over 80 %", PatternFill("solid", fgColor="FFE699")),
    "over_100": ("超预算 over 100 %", PatternFill("solid", fgColor="F4B084")),
}
BOLD = Font(bold=True)


def figures_workbook(
    session: Session,
    principal: Principal,
    unit_id: int,
    year: int,
    *,
    versions: str,
    months: tuple[int, int],
    depth: int,
) -> tuple[str, bytes]:
    """(file name, xlsx bytes) of the figures ``GET /figures`` gives for the same question."""
    figures = plan_vs_actual(
        session, principal, unit_id, year, versions=versions, months=months, depth=depth
    )
    top = org.get_unit(session, unit_id)
    units = {
        u.code: u for u in session.scalars(select(OrgUnit).where(OrgUnit.path.startswith(top.path)))
    }
    categories = {c.code: c for c in session.scalars(select(BudgetCategory))}
    book = Workbook()
    sheet = book.active
    sheet.title = "预算执行 Plan vs actual"
    put_text(sheet, 1, 1, f"预算执行 Plan vs actual · {top.code} {top.name} · {year}")
    sheet.cell(2, 1, f"版本 Versions: {versions} · 月份 Months {months[0]}–{months[1]}")
    for column, label in enumerate(HEADER, 1):
        sheet.cell(HEADER_ROW, column, label).font = BOLD
    sheet.cell(1, 1).font = BOLD
    sheet.sheet_properties.outlinePr.summaryBelow = False  # a unit's rows sit above its children's
    for figure in figures["rows"]:
        unit, category = units[figure["unit"]], categories[figure["category"]]
        _figure_row(sheet, figure, unit, category, unit.depth - top.depth)
    widths = (12, 26, 16, 26, 10, 16, 16, 16, 12, 18)
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[sheet.cell(HEADER_ROW, column).column_letter].width = width
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, PLAN_COLUMN)
    sheet.auto_filter.ref = f"A{HEADER_ROW}:J{sheet.max_row}"
    months_part = f"{months[0]:02}-{months[1]:02}"
    return f"plan-vs-actual-{top.code}-{year}-{months_part}-{versions}.xlsx", saved(book)


def _figure_row(
    sheet: Worksheet, figure: dict[str, Any], unit: OrgUnit, category: BudgetCategory, level: int
) -> None:
    alert = ALERTS.get(figure["alert"])
    row = sheet.max_row + 1
    for column, text in enumerate((unit.code, unit.name, category.code, category.name), 1):
        put_text(sheet, row, column, text)
    sheet.cell(row, 5, category.side)
    for column, key in enumerate(("plan", "actual", "variance"), PLAN_COLUMN):
        sheet.cell(row, column, money_value(figure[key]))
    sheet.cell(row, RATE_COLUMN, figure["rate"])
    sheet.cell(row, ALERT_COLUMN, alert[0] if alert else None)
    sheet.row_dimensions[row].outline_level = level
    sheet.cell(row, 2).alignment = Alignment(indent=level)
    sheet.cell(row, 4).alignment = Alignment(indent=category.depth)
    for column in range(PLAN_COLUMN, RATE_COLUMN):
        sheet.cell(row, column).number_format = MONEY_FORMAT
    sheet.cell(row, RATE_COLUMN).number_format = "0.00%"
    if not category.is_leaf:
        for column in (3, 4):
            sheet.cell(row, column).font = BOLD
    if alert:
        sheet.cell(row, ALERT_COLUMN).fill = alert[1]
