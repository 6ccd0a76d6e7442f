"""Spreadsheet cells as finance staff leave them, for every file budgets reads or writes: amounts
Excel stored as floats, codes typed as numbers, broken files; and amounts written so that no
cent is lost on the way back."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Any

from flask import Response
from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from propgroup.errors import InvalidInput, TooLarge
from propgroup.storage.blobstore import content_disposition

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"
# A double (what Excel keeps) holds 15 significant digits; an amount with more is written as
# text, which comes back exactly (SUM skips it: 10^13 yuan on one line is not a real budget).
EXACT_DIGITS = 15
UNWRITABLE = ILLEGAL_CHARACTERS_RE  # control characters an xlsx (XML) cannot hold
# What a file read may hold: a plan template has about twenty columns and a ledger export a
# dozen, and 500,000 ledger rows unpack to about 150 MB.
MAX_COLUMNS = 64
MAX_UNPACKED_BYTES = 256 * 2**20


def is_xlsx(data: bytes) -> bool:
    return data[:4] == b"PK\x03\x04"  # an xlsx is a zip


def sheet_rows(
    filename: str, data: bytes, *, max_rows: int, data_only: bool = True
) -> Iterator[list[Any]]:
    """The first sheet's rows (at most ``max_rows``, blank ones included) as lists of the first
    ``MAX_COLUMNS`` values: the values Excel computed, or with ``data_only=False`` the formulas
    as typed. A file larger than that is refused before its rows are read."""
    # openpyxl reads a sheet lazily and raises many kinds of error for a broken one.
    try:
        _check_unpacked(filename, data)
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=data_only)
        sheet = book.worksheets[0]
        _check_dimension(filename, sheet, max_rows)
        # Bounds of our own: read-only openpyxl pads each row to the declared width and fills
        # every row number skipped, so a few bytes could otherwise stand for millions of cells.
        rows = sheet.iter_rows(max_row=max_rows + 1, max_col=MAX_COLUMNS, values_only=True)
        yield from limited(filename, (list(row) for row in rows), max_rows)
    except InvalidInput:
        raise
    except Exception as exc:
        raise InvalidInput(f"{filename} is not a readable xlsx file", code="bad_file") from exc


def limited(filename: str, rows: Iterable[list[Any]], max_rows: int) -> Iterator[list[Any]]:
    """``rows`` until there are more than ``max_rows`` of them, blank ones counted, then a 413."""
    for number, row in enumerate(rows, start=1):
        if number > max_rows:
            raise _too_large(
                f"{filename} has more than {max_rows} rows, blank ones included",
                "too_many_rows",
                max_rows,
                "rows",
            )
        yield row


def _check_unpacked(filename: str, data: bytes) -> None:
    """An xlsx is a zip: what it says its parts unpack to is all that is read of them."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        size = sum(info.file_size for info in archive.infolist())
    if size > MAX_UNPACKED_BYTES:
        raise _too_large(
            f"{filename} unpacks to {size} bytes", "too_large", MAX_UNPACKED_BYTES, "bytes"
        )


def _check_dimension(filename: str, sheet: Any, max_rows: int) -> None:
    """The size the sheet declares (its ``dimension``), refused before any row is read."""
    if (sheet.max_row or 0) > max_rows:
        raise _too_large(
            f"{filename} declares {sheet.max_row} rows", "too_many_rows", max_rows, "rows"
        )
    if (sheet.max_column or 0) > MAX_COLUMNS:
        raise _too_large(
            f"{filename} declares columns up to {get_column_letter(sheet.max_column)}",
            "too_many_columns",
            MAX_COLUMNS,
            f"columns (A to {get_column_letter(MAX_COLUMNS)})",
        )


def _too_large(what: str, code: str, limit: int, unit: str) -> TooLarge:
    return TooLarge(f"{what}; the limit is {limit} {unit}", code=code, errors={"limit": limit})


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
