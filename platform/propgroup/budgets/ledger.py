"""Ledger actuals from the accounting system, as CSV or xlsx (R-BUD-5): every row checked, the
problems reported row by row with their column, and the whole file in or nothing.

The ledger is the book of record: an import holds its units' books for the months of its rows
(``LedgerMonth``), which then count from it alone (see ``actuals``). Finance above the units
imports and reverses (``budgets:actuals`` at every unit of the file), not the units measured.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from propgroup.approvals.service import now
from propgroup.audit.service import record
from propgroup.budgets.actuals import BOOKS_ACTUALS, reversal_reason
from propgroup.budgets.models import ActualEntry, ActualImport, BudgetCategory, LedgerMonth
from propgroup.budgets.periods import DIGITS, FISCAL_YEARS
from propgroup.budgets.sheets import cell_text, is_xlsx, limited, sheet_rows, typed_amount
from propgroup.db import get_by_id
from propgroup.errors import Conflict, InvalidInput, NotFound
from propgroup.identity.authz import authorize, authorize_somewhere, can
from propgroup.identity.principals import Principal
from propgroup.money import MAX_AMOUNT, amount_problem
from propgroup.org.models import OrgUnit

# Each column by its English name or the heading finance staff write (科目, 单位 …).
COLUMNS = {
    "category": ("category", "科目", "科目编码"),
    "unit": ("unit", "单位", "单位编码"),
    "year": ("year", "年度", "年"),
    "month": ("month", "月份", "月"),
    "amount": ("amount", "金额"),
}
MAX_ROWS = 500_000  # below the header, blank rows included
MAX_ERRORS = 200  # enough to fix a file by; the count says how many there were


def _rows_of(filename: str, data: bytes) -> Iterator[list[Any]]:
    if is_xlsx(data):
        yield from sheet_rows(filename, data, max_rows=MAX_ROWS + 1)
        return
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InvalidInput(f"{filename} is neither UTF-8 nor GBK text", code="bad_file")
    reader = csv.reader(io.StringIO(text))
    try:
        yield from limited(filename, reader, MAX_ROWS + 1)
    except csv.Error as exc:
        raise InvalidInput(
            f"{filename}, line {reader.line_num}: {exc}",
            code="bad_file",
            errors=[{"row": reader.line_num, "column": None, "message": str(exc)}],
        ) from exc


def _header(row: list[Any]) -> dict[str, int]:
    names = [str(cell).strip().lower() if cell is not None else "" for cell in row]
    found, missing = {}, []
    for column, aliases in COLUMNS.items():
        index = next((i for i, name in enumerate(names) if name in aliases), None)
        if index is None:
            missing.append(f"{column} ({' / '.join(aliases[1:])})")
        else:
            found[column] = index
    if missing:
        raise InvalidInput(
            f"row 1: the header lacks {', '.join(missing)}",
            code="bad_header",
            errors=[{"row": 1, "column": m.split(" ")[0], "message": "missing"} for m in missing],
        )
    return found


class _Lookup:
    """Codes to ids, with the reader's right to book actuals at each unit asked once per unit."""

    def __init__(self, session: Session, principal: Principal) -> None:
        self.session, self.principal = session, principal
        self.categories = dict(
            session.execute(
                select(BudgetCategory.code, BudgetCategory.id).where(BudgetCategory.is_leaf)
            ).all()
        )
        self.units = {u.code: u for u in session.scalars(select(OrgUnit))}
        self.allowed: dict[str, bool] = {}

    def unit(self, code: str) -> str | int:
        unit = self.units.get(code)
        if unit is None or unit.kind == "department":
            return "no such unit (HQ, region or branch code)"
        if code not in self.allowed:
            self.allowed[code] = can(self.session, self.principal, BOOKS_ACTUALS, unit)
        return unit.id if self.allowed[code] else "outside the units you may book actuals for"


def _checked_row(
    cells: list[Any], columns: dict[str, int], lookup: _Lookup
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    def cell(name: str) -> str:
        index = columns[name]
        return cell_text(cells[index] if index < len(cells) else None)

    problems, row = [], {}
    category = lookup.categories.get(cell("category"))
    if category is None:
        problems.append(("category", f"unknown budget category {cell('category')!r}"))
    unit = lookup.unit(cell("unit"))
    if isinstance(unit, str):
        problems.append(("unit", f"{cell('unit')!r}: {unit}"))
    year, month = cell("year"), cell("month")
    if not (DIGITS.fullmatch(year) and FISCAL_YEARS[0] <= int(year) <= FISCAL_YEARS[1]):
        problems.append(("year", f"{year!r} is not a year"))
    if not (DIGITS.fullmatch(month) and 1 <= int(month) <= 12):
        problems.append(("month", f"{month!r} is not a month (1-12)"))
    raw_amount = cells[columns["amount"]] if columns["amount"] < len(cells) else None
    amount = amount_problem(typed_amount(raw_amount), signed=True, allow_zero=True)
    if isinstance(amount, str):
        problems.append(("amount", f"the amount {amount}"))
    if not problems:
        row = {
            "category_id": category,
            "unit_id": unit,
            "fiscal_year": int(year),
            "month": int(month),
            "amount": amount,
        }
    return row, problems


def import_ledger(
    session: Session, principal: Principal, *, filename: str, data: bytes
) -> ActualImport:
    """Check every row of the file, then write all of it as one import, or refuse all of it.
    Whether the file came in before is told only to who may book every unit of it."""
    authorize_somewhere(session, principal, BOOKS_ACTUALS)
    rows = _rows_of(filename, data)
    columns = _header(next(rows, []))
    lookup, good, errors = _Lookup(session, principal), [], []
    for number, cells in enumerate(rows, start=2):
        if not any(cell not in (None, "") for cell in cells):
            continue  # blank lines at the end of a sheet (counted towards the limit all the same)
        row, problems = _checked_row(cells, columns, lookup)
        errors += [{"row": number, "column": c, "message": m} for c, m in problems]
        good.append(row)
    if errors:
        raise InvalidInput(
            f"{len(errors)} problem(s) in {filename}, nothing imported; first: row "
            f"{errors[0]['row']}, {errors[0]['column']}: {errors[0]['message']}",
            code="invalid_import",
            errors=errors[:MAX_ERRORS],
        )
    if not good:
        raise InvalidInput(f"{filename} has no rows", code="empty_import")
    total = sum(row["amount"] for row in good)
    if abs(total) > MAX_AMOUNT:
        raise InvalidInput(f"{filename} adds up to more than an amount can hold", code="bad_amount")
    digest = hashlib.sha256(data).hexdigest()
    standing = select(ActualImport.id).where(
        ActualImport.sha256 == digest, ActualImport.reversed_at.is_(None)
    )
    if session.scalar(standing):
        raise Conflict(f"{filename} was imported already", code="duplicate_import")
    batch = ActualImport(
        filename=filename,
        sha256=digest,
        row_count=len(good),
        total=total,
        imported_by=principal.id,
    )
    try:
        with session.begin_nested():  # the same file sent twice at once: one of them wins
            session.add(batch)
    except IntegrityError as exc:
        raise Conflict(f"{filename} was imported already", code="duplicate_import") from exc
    session.execute(
        insert(ActualEntry),
        [
            {**row, "source": "ledger", "import_id": batch.id, "recorded_by": principal.id}
            for row in good
        ],
    )
    months = (
        ActualEntry.import_id,
        ActualEntry.unit_id,
        ActualEntry.fiscal_year,
        ActualEntry.month,
    )
    session.execute(
        insert(LedgerMonth).from_select(
            ["import_id", "unit_id", "fiscal_year", "month"],
            select(*months).where(ActualEntry.import_id == batch.id).distinct(),
        )
    )
    record(
        session,
        principal,
        "budgets.ledger_imported",
        "budget_actual_import",
        batch.id,
        after={"file": filename, "rows": batch.row_count, "total": batch.total},
    )
    return batch


def reverse_import(
    session: Session, principal: Principal, import_id: int, *, reason: str
) -> ActualImport:
    """Take an import back whole: its rows go, the unit-months it held return to paid requests
    and recorded income, and the import stays on record with who reversed it and why. Only who
    may book actuals at every unit of the file may, and only once."""
    batch = get_by_id(session, ActualImport, import_id, lock=True)
    if batch is None:
        raise NotFound(f"no ledger import {import_id}", code="not_found")
    units = session.scalars(
        select(OrgUnit)
        .where(OrgUnit.id.in_(select(LedgerMonth.unit_id).where(LedgerMonth.import_id == batch.id)))
        .order_by(OrgUnit.path)
    ).all()
    for unit in units:
        authorize(session, principal, BOOKS_ACTUALS, unit)
    why = reversal_reason(reason)
    if batch.reversed_at is not None:
        raise Conflict(
            f"import {import_id} ({batch.filename}) was reversed already",
            code="already_reversed",
            errors={"reversed_at": batch.reversed_at.isoformat()},
        )
    session.execute(delete(ActualEntry).where(ActualEntry.import_id == batch.id))
    batch.reversed_at, batch.reversed_by, batch.reversal_reason = now(), principal.id, why
    session.flush()
    record(
        session,
        principal,
        "budgets.ledger_import_reversed",
        "budget_actual_import",
        batch.id,
        before={"file": batch.filename, "rows": batch.row_count, "total": batch.total},
        after={"reason": why},
    )
    return batch
