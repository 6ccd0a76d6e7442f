"""Spreadsheet cells as finance staff leave them, for every file budgets reads or writes: amounts
Excel stored as floats, codes typed as numbers, broken files; and amounts written so that no
cent is lost on the way back."""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from flask import Response
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.worksheet.worksheet import Worksheet

from propgroup.errors import InvalidInput
from propgroup.storage.blobstore import content_disposition

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"
# A double (what Excel keeps) holds 15 significant digits; an amount with more is written as
# text, which comes back exactly (SUM skips it: 10^13 yuan on one line is not a real budget).
EXACT_DIGITS = 15
UNWRITABLE = ILLEGAL_CHARACTERS_RE  # control characters an xlsx (XML) cannot hold


def is_xlsx(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"  # an xlsx is a zip


def sheet_rows(filename: str, data: bytes, *, data_only: bool = True) -> Iterator[list[Any]]:
    """The first sheet's rows as lists of values: the values Excel computed, or with
    ``data_only=False`` the formulas as typed."""
    # openpyxl reads a sheet lazily and raises many kinds of error for a broken one.
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)
        yield from (list(row) for row in book.worksheets[0].iter_rows(values_only=True))
    except InvalidInput:
        raise
    except Exception as exc:
        raise InvalidInput(f"{filename} is not a readable xlsx file", code="bad_file") from exc


def cell_text(value: object) -> str:
    """A code or name cell as text: Excel keeps a typed 1001 as the number 1001.0."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return "" if value is None else str(value).strip()


def typed_amount(value: object) -> str:
    """A cell's amount as text: a spreadsheet's float is rounded to the cent it stands for
    (0.1 + 0.2 is stored as 0.30000000000000004), unless it is really finer than a cent."""
    if isinstance(value, float) and abs(value - round(value, 2)) < 1e-9:
        return f"{value:.2f}"
    return "" if value is None else str(value).replace(",", "")


def money_value(amount: Decimal) -> Decimal | str:
    """What to put in a cell for an amount: a number, unless a double would lose a cent."""
    return amount if len(amount.as_tuple().digits) <= EXACT_DIGITS else str(amount)


def put_text(sheet: Worksheet, row: int, column: int, value: str | None) -> Cell:
    """Text stays text: a leading "=" is a character, never a formula Excel would run, and
    characters no xlsx can hold are dropped."""
    cell = sheet.cell(row, column)
    if value is not None:
        cell.value = UNWRITABLE.sub("", value)
        cell.data_type = "s"
    return cell


def saved(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xlsx_response(name: str, data: bytes) -> Response:
    """A workbook to download, never kept by a cache (it holds a unit's figures)."""
    return Response(
        data,
        mimetype=XLSX,
        headers={"Content-Disposition": content_disposition(name), "Cache-Control": "no-store"},
    )
