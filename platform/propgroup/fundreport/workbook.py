"""The weekly fund report as an Excel workbook: exactly the figures of ``report.week_report``
for the same reader. The consolidation sheet has the unit tree as its outline (collapse a region
to its own rows) with a row per currency and account type; the accounts sheet has every account
line, numbers masked as in the JSON. Both sheets are protected: a report is read, not edited."""

from __future__ import annotations

from datetime import UTC, date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy.orm import Session

from propgroup.banking.models import ACCOUNT_TYPES
from propgroup.budgets.sheets import MONEY_FORMAT, money_value, put_text, saved
from propgroup.fundreport.report import week_report
from propgroup.fundreport.rollup import ALL_TYPES
from propgroup.identity.principals import Principal

FLOWS = ("opening", "receipts", "payments", "closing")
FLOW_LABELS = ("期初余额 Opening", "本周收入 Receipts", "本周支出 Payments", "期末余额 Closing")
CONSOLIDATION_HEADER = (
    "单位 Unit",
    "单位名称 Unit name",
    "币种 Currency",
    "账户类型 Account type",
    *FLOW_LABELS,
    "上报 Confirmed",
)
ACCOUNTS_HEADER = (
    "单位 Unit",
    "单位名称 Unit name",
    "开户行 Bank",
    "网点 Branch",
    "户名 Account name",
    "账号 Number",
    "账户类型 Account type",
    "币种 Currency",
    *FLOW_LABELS,
)
HEADER_ROW = 3
ALL_TYPES_LABEL = "合计 All types"
BOLD = Font(bold=True)


def fund_workbook(
    session: Session, principal: Principal, week_ending: object, unit_id: int | None = None
) -> tuple[str, bytes]:
    """(file name, xlsx bytes) of the week as ``GET /weeks/<date>`` gives it to ``principal``."""
    result = week_report(session, principal, week_ending, unit_id)
    book = Workbook()
    consolidation = book.active
    consolidation.title = "合并 Consolidation"
    _consolidation(consolidation, result)
    _accounts(book.create_sheet("账户 Accounts"), result)
    top = result["units"][0]["code"] if unit_id is not None and result["units"] else "group"
    return f"fund-report-{result['week_ending']}-{top}.xlsx", saved(book)


def _heading(sheet: Worksheet, result: dict[str, Any], header: tuple[str, ...]) -> None:
    week: date = result["week_ending"]
    title = f"资金周报 Weekly fund report · {result['week_starting']} – {week}"
    put_text(sheet, 1, 1, title).font = BOLD
    put_text(
        sheet,
        2,
        1,
        f"版本 Revision {result['revision']} · {result['generated_by']} · "
        f"{result['generated_at'].astimezone(UTC):%Y-%m-%d %H:%M} UTC",
    )
    for column, label in enumerate(header, 1):
        put_text(sheet, HEADER_ROW, column, label).font = BOLD


def _submission(submission: dict[str, Any]) -> str | None:
    if not submission["expected"]:
        return None
    if submission["confirmed_at"] is None:
        return "逾期未报 Late" if submission["late"] else "未上报 Not yet"
    return "已上报(逾期) Confirmed late" if submission["late"] else "已上报 Confirmed"


def _amounts(sheet: Worksheet, row: int, first: int, figures: dict[str, Any]) -> None:
    for column, key in enumerate(FLOWS, first):
        cell = sheet.cell(row, column, money_value(figures[key]))
        cell.number_format = MONEY_FORMAT


def _consolidation(sheet: Worksheet, result: dict[str, Any]) -> None:
    _heading(sheet, result, CONSOLIDATION_HEADER)
    sheet.sheet_properties.outlinePr.summaryBelow = False  # a unit's rows sit above its children's
    for unit in result["units"]:
        for total in unit["totals"]:
            kinds = [(ALL_TYPES, total), *((t["account_type"], t) for t in total["by_type"])]
            for kind, figures in kinds:
                row = sheet.max_row + 1
                put_text(sheet, row, 1, unit["code"])
                put_text(sheet, row, 2, unit["name"]).alignment = Alignment(indent=unit["level"])
                put_text(sheet, row, 3, total["currency"])
                label = ALL_TYPES_LABEL if kind == ALL_TYPES else f"{ACCOUNT_TYPES[kind]} {kind}"
                put_text(sheet, row, 4, label)
                _amounts(sheet, row, 5, figures)
                if kind == ALL_TYPES:
                    put_text(sheet, row, 9, _submission(unit["submission"]))
                    for column in range(1, 10):
                        sheet.cell(row, column).font = BOLD
                sheet.row_dimensions[row].outline_level = unit["level"]
    _finish(sheet, (12, 28, 10, 18, 18, 18, 18, 18, 22), first_amount=5)


def _accounts(sheet: Worksheet, result: dict[str, Any]) -> None:
    _heading(sheet, result, ACCOUNTS_HEADER)
    for unit in result["units"]:
        for account in unit["accounts"]:
            row = sheet.max_row + 1
            texts = (
                unit["code"],
                unit["name"],
                account["bank"],
                account["bank_branch"],
                account["account_name"],
                account["number"],
                f"{ACCOUNT_TYPES[account['account_type']]} {account['account_type']}",
                account["currency"],
            )
            for column, text in enumerate(texts, 1):
                put_text(sheet, row, column, text)
            _amounts(sheet, row, 9, account)
    _finish(sheet, (12, 28, 14, 16, 26, 24, 18, 10, 18, 18, 18, 18), first_amount=9)


def _finish(sheet: Worksheet, widths: tuple[int, ...], *, first_amount: int) -> None:
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[sheet.cell(HEADER_ROW, column).column_letter].width = width
    sheet.freeze_panes = sheet.cell(HEADER_ROW + 1, first_amount)
    # Read-only figures; columns and rows may still be resized, and the outline folded.
    sheet.protection.sheet = True
    sheet.protection.formatColumns = False
    sheet.protection.formatRows = False
