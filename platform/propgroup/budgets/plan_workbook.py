"""A plan version as an Excel template (预算编制模板) and back again (issue 5 §7).

The sheet names the version it belongs to (unit, year, kind, version) in protected cells above a
row per category of the plan's chart: code and name, owner, an amount per month (or per year of
a medium-term plan), then quarter and year totals as formulas, and a note. Headings and the
bottom row are formulas too. Only the cells staff fill in are unlocked.

An upload is read back by category code, not by position, into the draft through
``service.write_lines``: the same checks as the API, each problem named by row and column, and
nothing written on any. Formula cells are never read: totals are sums, recomputed from the lines.
A row left empty (no amount, owner or note) is no line, so a line the version has is written
with every amount, zeros included, and comes back as it went out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlalchemy.orm import Session

from propgroup.budgets import service
from propgroup.budgets.categories import tree_order
from propgroup.budgets.horizons import Periods, periods_of, years_of
from propgroup.budgets.models import HORIZONS, PLAN_KINDS, BudgetCategory, PlanVersion
from propgroup.budgets.sheets import (
    MONEY_FORMAT,
    cell_text,
    money_value,
    put_text,
    saved,
    sheet_rows,
    typed_amount,
)
from propgroup.errors import InvalidInput
from propgroup.identity.principals import Principal
from propgroup.org import service as org

# The identity block: label in column A, value in column B (checked on upload), words in C.
UNIT, YEAR, KIND, VERSION, VERSION_ID = range(1, 6)
IDENTITY = {
    UNIT: "单位 Unit",
    YEAR: "年度 Fiscal year",
    KIND: "计划 Plan",
    VERSION: "版本 Version",
    VERSION_ID: "版本编号 Version id",
}
HEADER_ROW = 7
FIRST_ROW = HEADER_ROW + 1
CODE, NAME, OWNER_DEPARTMENT, OWNER_LOGIN = 1, 2, 3, 4
FIRST_AMOUNT = 5
FIXED_LABELS = (
    "科目编码 Category",
    "科目名称 Name",
    "责任部门 Owner department",
    "责任人 Owner login",
)
NOTE_LABEL = "备注 Note"
TOTAL_LABEL, NET_LABEL = "合计 Total", "结余 Net (income − spending)"  # the bottom row
QUARTERS = ("一季度 Q1", "二季度 Q2", "三季度 Q3", "四季度 Q4")
MAX_ROWS = 20_000  # a chart has hundreds of categories; anything far beyond is not a template

EDITABLE = PatternFill("solid", fgColor="FFF8DC")
UNLOCKED = Protection(locked=False)
BOLD = Font(bold=True)


class _Layout:
    """Where each column of a version's sheet is: the amounts, the totals over them, the note."""

    def __init__(self, periods: Periods) -> None:
        self.periods = periods
        self.amounts = {period: FIRST_AMOUNT + index for index, period in enumerate(periods.keys)}
        # After the amounts, (label, the periods it sums): quarters and the year, or all years.
        self.totals = [(TOTAL_LABEL, periods.keys)]
        if periods.monthly:
            quarters = [(QUARTERS[q], periods.keys[q * 3 : q * 3 + 3]) for q in range(4)]
            self.totals = [*quarters, ("全年 Year", periods.keys)]
        self.note = FIRST_AMOUNT + len(self.amounts) + len(self.totals)

    def labels(self) -> list[str]:
        if self.periods.monthly:
            amounts = [f"{month}月" for month in self.periods.keys]
        else:
            amounts = [f"{year}年" for year in self.periods.keys]
        return [*FIXED_LABELS, *amounts, *(label for label, _ in self.totals), NOTE_LABEL]

    def letter(self, field: str) -> str:
        """The column of a line's field as ``write_lines`` names it (``amounts.3``, ``note``)."""
        columns = {"category": CODE, "owner_department": OWNER_DEPARTMENT}
        columns |= {"owner_login": OWNER_LOGIN, "note": self.note}
        key = field.removeprefix("amounts.")
        if key != field and key.isdigit() and int(key) in self.amounts:
            return get_column_letter(self.amounts[int(key)])
        return get_column_letter(columns.get(field, FIRST_AMOUNT))


# --- download ---------------------------------------------------------------------------


def plan_workbook(session: Session, principal: Principal, version_id: int) -> tuple[str, bytes]:
    """The version as a template to fill in: (file name, xlsx bytes), for whoever may read it."""
    version = service.read_version(session, principal, version_id)
    plan = service.plan_of(session, version)
    unit = org.get_unit(session, plan.unit_id)
    layout = _Layout(periods_of(plan))
    book = Workbook()
    sheet = book.active
    sheet.title = "预算 Plan"
    kind = PLAN_KINDS[plan.plan_kind]
    identity = {
        UNIT: (unit.code, unit.name),
        YEAR: (plan.fiscal_year, f"{years_of(plan)} {HORIZONS[plan.horizon]}"),
        KIND: (plan.plan_kind, kind),
        VERSION: (version.number, version.status),
        VERSION_ID: (version.id, "上传时须为本版本 upload into this version only"),
    }
    for row, (value, words) in identity.items():
        sheet.cell(row, 1, IDENTITY[row]).font = BOLD
        sheet.cell(row, 2, value)
        put_text(sheet, row, 3, words)
    for column, label in enumerate(layout.labels(), start=1):
        sheet.cell(HEADER_ROW, column, label)
    for cell in sheet[HEADER_ROW]:
        cell.font = BOLD
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
    lines = {line["category"]: line for line in service.lines_of(session, version.id)}
    rows = _category_rows(session, sheet, layout, plan.plan_kind, lines)
    _bottom_row(sheet, layout, rows)
    _finish(sheet, layout)
    name = f"{unit.code}-{years_of(plan)}-{plan.plan_kind}-v{version.number}.xlsx"
    return name, saved(book)


def _category_rows(
    session: Session,
    sheet: Worksheet,
    layout: _Layout,
    plan_kind: str,
    lines: dict[str, dict[str, Any]],
) -> dict[int, tuple[BudgetCategory, int]]:
    """A row per category of the plan's chart, parents first; a heading sums its children."""
    chart = session.scalars(
        select(BudgetCategory)
        .where(BudgetCategory.plan_kind == plan_kind)
        .order_by(tree_order(BudgetCategory.path))
    ).all()
    rows: dict[int, tuple[BudgetCategory, int]] = {}
    children: dict[int | None, list[int]] = {}
    for category in chart:
        row = sheet.max_row + 1
        rows[category.id] = (category, row)
        children.setdefault(category.parent_id, []).append(row)
        put_text(sheet, row, CODE, category.code)
        put_text(sheet, row, NAME, category.name).alignment = Alignment(indent=category.depth)
        if category.is_leaf:
            _line_cells(sheet, layout, row, lines.get(category.code))
        else:
            for cell in sheet[row]:
                cell.font = BOLD
        _total_formulas(sheet, layout, row)
    for category, row in rows.values():
        if not category.is_leaf:
            for column in layout.amounts.values():
                sheet.cell(row, column, "=" + _sum(column, children.get(category.id, [])))
    return rows


def _line_cells(sheet: Worksheet, layout: _Layout, row: int, line: dict[str, Any] | None) -> None:
    """The cells staff fill in: unlocked, tinted; a line's amounts all written (zeros too)."""
    editable = [OWNER_DEPARTMENT, OWNER_LOGIN, *layout.amounts.values(), layout.note]
    for column in editable:
        cell = sheet.cell(row, column)
        cell.protection, cell.fill = UNLOCKED, EDITABLE
    if line is None:
        return
    put_text(sheet, row, OWNER_DEPARTMENT, line["owner_department"])
    put_text(sheet, row, OWNER_LOGIN, line["owner_login"])
    put_text(sheet, row, layout.note, line["note"])
    for column, amount in zip(layout.amounts.values(), line["amounts"], strict=True):
        sheet.cell(row, column, money_value(amount))


def _total_formulas(sheet: Worksheet, layout: _Layout, row: int) -> None:
    for offset, (_, periods) in enumerate(layout.totals):
        first = get_column_letter(layout.amounts[periods[0]])
        last = get_column_letter(layout.amounts[periods[-1]])
        sheet.cell(
            row, FIRST_AMOUNT + len(layout.amounts) + offset, f"=SUM({first}{row}:{last}{row})"
        )


def _bottom_row(
    sheet: Worksheet, layout: _Layout, rows: dict[int, tuple[BudgetCategory, int]]
) -> None:
    """The plan's total; where income and spending meet (a profit or fund plan), the net."""
    tops = [(category.side, row) for category, row in rows.values() if category.parent_id is None]
    income = [row for side, row in tops if side == "income"]
    spending = [row for side, row in tops if side == "expense"]
    row = sheet.max_row + 1
    net = bool(income and spending)
    sheet.cell(row, CODE, NET_LABEL if net else TOTAL_LABEL)
    for column in layout.amounts.values():
        formula = (
            f"{_sum(column, income)}-{_sum(column, spending)}"
            if net
            else _sum(column, income + spending)
        )
        sheet.cell(row, column, "=" + formula)
    _total_formulas(sheet, layout, row)
    for cell in sheet[row]:
        cell.font = BOLD


def _sum(column: int, rows: Sequence[int]) -> str:
    """SUM over rows of a column, runs of rows as ranges, at most 255 arguments per SUM."""
    letter, runs = get_column_letter(column), []
    for row in sorted(rows):
        if runs and runs[-1][1] == row - 1:
            runs[-1][1] = row
        else:
            runs.append([row, row])
    cells = [f"{letter}{a}" if a == b else f"{letter}{a}:{letter}{b}" for a, b in runs]
    sums = [f"SUM({','.join(cells[i : i + 255])})" for i in range(0, len(cells), 255)]
    return "+".join(sums or ["0"])


def _finish(sheet: Worksheet, layout: _Layout) -> None:
    for row in sheet.iter_rows(min_row=FIRST_ROW, min_col=FIRST_AMOUNT, max_col=layout.note - 1):
        for cell in row:
            cell.number_format = MONEY_FORMAT
    widths = {CODE: 16, NAME: 24, OWNER_DEPARTMENT: 16, OWNER_LOGIN: 16, layout.note: 30}
    for column in range(1, layout.note + 1):
        sheet.column_dimensions[get_column_letter(column)].width = widths.get(column, 14)
    sheet.freeze_panes = sheet.cell(FIRST_ROW, FIRST_AMOUNT)
    # Locked cells stay as they are; columns and rows may still be resized.
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False


# --- upload -------------------------------------------------------------------------------


def read_workbook(
    session: Session, principal: Principal, version_id: int, data: bytes
) -> PlanVersion:
    """The draft's lines replaced by the file's, or nothing written and every problem named."""
    version, plan, unit = service.draft_version(session, principal, version_id)
    layout = _Layout(periods_of(plan))
    values = _rows(data, data_only=True)
    formulas = _rows(data, data_only=False)
    _check_identity(values, unit.code, plan.fiscal_year, plan.plan_kind, version.id)
    _check_header(values, layout)
    headings = set(
        session.scalars(select(BudgetCategory.code).where(BudgetCategory.is_leaf.is_(False)))
    )
    lines, line_rows = [], []
    for number in range(FIRST_ROW, len(values) + 1):
        line = _line(values[number - 1], formulas[number - 1], layout, headings)
        if line is not None:
            lines.append(line)
            line_rows.append(number)

    def place(index: int, field: str) -> str:
        return f"row {line_rows[index]}, column {layout.letter(field)}"

    return service.write_lines(session, principal, version.id, lines, place=place)


def _rows(data: bytes, *, data_only: bool) -> list[list[Any]]:
    return list(sheet_rows("the plan template", data, max_rows=MAX_ROWS, data_only=data_only))


def _cell(row: Sequence[Any], column: int) -> Any:
    return row[column - 1] if column <= len(row) else None


def _check_identity(
    values: list[list[Any]], unit: str, year: int, kind: str, version_id: int
) -> None:
    """The file must be this version's template: another unit's, year's or version's is refused
    (uploading last year's file into this year's plan is the mistake to stop)."""
    expected = {UNIT: unit, YEAR: str(year), KIND: kind, VERSION_ID: str(version_id)}
    problems = {
        f"row {row}, column B": f"{IDENTITY[row]} should be {want}"
        for row, want in expected.items()
        if cell_text(_cell(values[row - 1], 2) if row <= len(values) else None) != want
    }
    if problems:
        raise InvalidInput(
            f"this file is not the template of version {version_id} ({unit} {year} {kind}): "
            "download that version's template and fill it in",
            code="wrong_template",
            errors=problems,
        )


def _check_header(values: list[list[Any]], layout: _Layout) -> None:
    found = values[HEADER_ROW - 1] if len(values) >= HEADER_ROW else []
    for column, label in enumerate(layout.labels(), start=1):
        if cell_text(_cell(found, column)) != label:
            letter = get_column_letter(column)
            raise InvalidInput(
                f"row {HEADER_ROW}, column {letter}: the columns were changed ({label!r} "
                "expected there); download the template again",
                code="bad_header",
                errors={f"row {HEADER_ROW}, column {letter}": f"{label!r} expected"},
            )


def _line(
    values: Sequence[Any], formulas: Sequence[Any], layout: _Layout, headings: set[str]
) -> dict[str, Any] | None:
    """A row as ``write_lines`` takes a line; None for a heading, the bottom row or a row left
    empty. An amount cell holding a formula counts with the value Excel computed for it."""
    code = cell_text(_cell(values, CODE))
    if code in headings or code in (TOTAL_LABEL, NET_LABEL):
        return None
    amounts = {}
    for period, column in layout.amounts.items():
        value = _cell(values, column)
        if value is None:  # a formula nobody computed (not saved by Excel) is no number
            value = _cell(formulas, column)
        amounts[period] = typed_amount(value)
    owners = [cell_text(_cell(values, c)) or None for c in (OWNER_DEPARTMENT, OWNER_LOGIN)]
    note = _cell(values, layout.note)
    note = None if note is None else str(note)
    if not any(amounts.values()) and not any(owners) and not note:
        return None
    return {
        "category": code,
        "amounts": amounts,
        "owner_department": owners[0],
        "owner_login": owners[1],
        "note": note,
    }
