"""Reading a bank statement (银行对账单) or journal (银行存款日记账) export as CSV with a column
mapping: which column holds the date, the amount (or debit and credit), the reference, the
counterparty, the description and the balance. Every line is checked before anything is written;
a refusal names the line and the column (``line 7, column '金额': not an amount``).

Debit and credit mean opposite things on the two documents: on a bank statement the bank's
debit (借方) takes money out of the account, while in the company's bank journal a debit (借方,
收入) is money in. ``Side`` says which, so both come out signed from the company's side.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from propgroup.errors import InvalidInput, TooLarge
from propgroup.money import NOT_A_NUMBER, TOO_LARGE, TOO_PRECISE, amount_problem

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
MAX_PROBLEMS = 20  # a file wrong on every line is refused with the first few named
# gb18030 reads every gbk file and the few characters gbk lacks; utf-8-sig drops Excel's BOM.
ENCODINGS = {"utf-8": "utf-8-sig", "gbk": "gb18030"}
DELIMITERS = {",", ";", "\t", "|"}
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y.%m.%d", "%Y年%m月%d日")
TEXT_FIELDS = {"reference": 100, "counterparty": 200, "description": 500}
MAPPED_FIELDS = ("date", "amount", "debit", "credit", "balance", *TEXT_FIELDS)
# After NFKC (full-width digits and signs become ASCII): a currency mark, then one strict form:
# a sign or accountants' parentheses, thousands grouped by 3 with ',', a decimal point (more
# than 2 decimals refused as such). So
# '1234,50' (a decimal comma), '1,2,3' and '1.5E+2' are refused, not read as something else.
_CURRENCY = re.compile(r"^(?:CNY|RMB|¥)\s*")
_AMOUNT = re.compile(r"^([-+]?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?$")
_DASHES = {"-", "—", "–", "－"}  # a debit or credit cell left empty


@dataclass(frozen=True)
class Side:
    """Which way a debit goes on the document read."""

    name: str
    debit_sign: int


STATEMENT = Side("statement", -1)  # the bank's debit: money out of the account
JOURNAL = Side("journal", +1)  # the journal's debit (收入): money in


@dataclass(frozen=True)
class Mapping:
    """File column names (as in its header) for each field; None where the file has none."""

    columns: dict[str, str | None]
    encoding: str = "utf-8"
    delimiter: str = ","
    header_line: int = 1
    date_format: str | None = None


@dataclass(frozen=True)
class Line:
    line_no: int
    day: date
    amount: Decimal
    reference: str | None
    counterparty: str | None
    description: str | None
    balance: Decimal | None


def _refuse(message: str, field: str) -> InvalidInput:
    return InvalidInput(message, code="bad_mapping", errors={field: [message]})


def checked_mapping(raw: dict[str, Any]) -> Mapping:
    """The mapping from form or JSON fields (``date_column``, ``amount_column`` …)."""
    columns = {
        field: (str(raw.get(f"{field}_column") or "").strip() or None) for field in MAPPED_FIELDS
    }
    if columns["date"] is None:
        raise _refuse("name the date column", "date_column")
    if (columns["amount"] is None) == (columns["debit"] is None or columns["credit"] is None):
        raise _refuse(
            "name either the amount column or both the debit and credit columns", "amount_column"
        )
    named = [name for name in columns.values() if name]
    if len(named) != len(set(named)):
        raise _refuse("each column is mapped to one field", "columns")
    encoding = str(raw.get("encoding") or "utf-8").lower()
    if encoding not in ENCODINGS:
        raise _refuse(f"encoding is one of {', '.join(ENCODINGS)}", "encoding")
    delimiter = str(raw.get("delimiter") or ",").replace("\\t", "\t")
    if delimiter not in DELIMITERS:
        raise _refuse("delimiter is one of , ; | or a tab", "delimiter")
    try:
        header_line = int(raw.get("header_line") or 1)
    except (TypeError, ValueError):
        header_line = 0
    if not 1 <= header_line <= 50:
        raise _refuse("header_line is a line number from 1 to 50", "header_line")
    date_format = str(raw.get("date_format") or "").strip() or None
    return Mapping(columns, encoding, delimiter, header_line, date_format)


def _decoded(content: bytes, mapping: Mapping) -> str:
    if len(content) > MAX_BYTES:
        raise TooLarge(f"the file is larger than {MAX_BYTES} bytes", code="file_too_large")
    try:
        return content.decode(ENCODINGS[mapping.encoding])
    except UnicodeDecodeError as error:
        line = content[: error.start].count(b"\n") + 1
        raise InvalidInput(
            f"line {line}: not {mapping.encoding} text (choose the file's encoding)",
            code="bad_encoding",
            errors={"encoding": [f"line {line}"]},
        ) from error


def _day(text: str, mapping: Mapping) -> date | str:
    text = text.strip().split(" ")[0].split("T")[0]
    for pattern in (mapping.date_format,) if mapping.date_format else DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return "not a date" if text else "empty"


_AMOUNT_PROBLEMS = {
    NOT_A_NUMBER: "not an amount",
    TOO_LARGE: "too large",
    TOO_PRECISE: "more than 2 decimals",
}


def _money(text: str) -> Decimal | str | None:
    """The cell as an amount, None when blank (or a dash), or what is wrong with it."""
    text = _CURRENCY.sub("", unicodedata.normalize("NFKC", text).strip())
    if not text or text in _DASHES:
        return None
    negative = text.startswith("(") and text.endswith(")")
    found = _AMOUNT.match(text[1:-1] if negative else text)
    if found is None or (negative and found[1]):
        return _AMOUNT_PROBLEMS[NOT_A_NUMBER]
    sign = "-" if negative else found[1]
    checked = amount_problem(
        sign + found[2].replace(",", "") + (found[3] or ""), allow_zero=True, signed=True
    )
    return _AMOUNT_PROBLEMS.get(checked, checked) if isinstance(checked, str) else checked


class _Reader:
    """Reads one data row into a Line, noting each problem with its line and column."""

    def __init__(self, mapping: Mapping, header: list[str], side: Side, latest: date) -> None:
        self.mapping, self.side, self.latest = mapping, side, latest
        self.problems: list[str] = []
        positions = {name.strip(): index for index, name in enumerate(header)}
        missing = [name for name in mapping.columns.values() if name and name not in positions]
        if missing:
            shown = ", ".join(repr(name.strip()) for name in header if name.strip())
            message = f"line {mapping.header_line}: no column " + ", ".join(
                repr(name) for name in missing
            )
            raise InvalidInput(
                f"{message} (the header has {shown or 'nothing'})",
                code="bad_columns",
                errors={"columns": [f"no column {name!r}" for name in missing]},
            )
        self.width = len(header)
        self.at = {
            field: positions[name] for field, name in mapping.columns.items() if name is not None
        }

    def note(self, line_no: int, field: str | None, problem: str) -> None:
        where = f"line {line_no}" + (f", column {self.mapping.columns[field]!r}" if field else "")
        self.problems.append(f"{where}: {problem}")

    def cell(self, row: list[str], field: str) -> str:
        return row[self.at[field]] if field in self.at else ""

    def amount(self, line_no: int, row: list[str]) -> Decimal | None:
        if "amount" in self.at:
            value = _money(self.cell(row, "amount"))
            if not isinstance(value, Decimal) or value == 0:
                problem = "empty" if value is None else "zero" if value == 0 else value
                return self.note(line_no, "amount", problem)
            return value
        debit, credit = _money(self.cell(row, "debit")), _money(self.cell(row, "credit"))
        for field, value in (("debit", debit), ("credit", credit)):
            if isinstance(value, str):
                return self.note(line_no, field, value)
        debit, credit = debit or Decimal(0), credit or Decimal(0)
        if (debit == 0) == (credit == 0):
            problem = "both debit and credit" if debit else "neither debit nor credit"
            return self.note(line_no, "debit", problem)
        if debit < 0 or credit < 0:
            return self.note(line_no, "debit" if debit < 0 else "credit", "negative")
        return self.side.debit_sign * (debit - credit)

    def day(self, line_no: int, row: list[str]) -> date | None:
        value = _day(self.cell(row, "date"), self.mapping)
        if isinstance(value, str):
            return self.note(line_no, "date", value)
        if value > self.latest:
            return self.note(line_no, "date", f"{value} is after today")
        return value

    def text(self, line_no: int, row: list[str], field: str) -> str | None:
        value = self.cell(row, field).strip() or None
        if value is not None and len(value) > TEXT_FIELDS[field]:
            self.note(line_no, field, f"longer than {TEXT_FIELDS[field]} characters")
        return value

    def line(self, line_no: int, row: list[str]) -> Line | None:
        if len(row) < self.width:
            self.note(line_no, None, f"{len(row)} cells, the header has {self.width}")
            return None
        day, amount = self.day(line_no, row), self.amount(line_no, row)
        texts = {field: self.text(line_no, row, field) for field in TEXT_FIELDS}
        balance = _money(self.cell(row, "balance"))
        if isinstance(balance, str):
            self.note(line_no, "balance", balance)
        if day is None or amount is None or isinstance(balance, str):
            return None
        return Line(line_no, day, amount, balance=balance, **texts)


def read_lines(content: bytes, mapping: Mapping, side: Side, latest: date) -> list[Line]:
    """Every line of the file, or InvalidInput naming the first problems (line and column)."""
    rows = csv.reader(
        io.StringIO(_decoded(content, mapping), newline=""), delimiter=mapping.delimiter
    )
    header: list[str] | None = None
    lines: list[Line] = []
    try:
        for row in rows:
            if rows.line_num < mapping.header_line:
                continue
            if header is None:
                header = row
                reader = _Reader(mapping, header, side, latest)
                continue
            if not any(cell.strip() for cell in row):
                continue  # blank lines (a trailing one, most often)
            if len(lines) + len(reader.problems) >= MAX_ROWS:
                raise InvalidInput(
                    f"line {rows.line_num}: more than {MAX_ROWS} lines; split the file",
                    code="too_many_lines",
                )
            line = reader.line(rows.line_num, row)
            if line is not None:
                lines.append(line)
            if len(reader.problems) >= MAX_PROBLEMS:
                break
    except csv.Error as error:
        raise InvalidInput(f"line {rows.line_num}: not CSV ({error})", code="bad_file") from error
    if header is None:
        raise InvalidInput(f"line {mapping.header_line}: no header", code="bad_columns")
    if reader.problems:
        more = len(reader.problems) - 1
        raise InvalidInput(
            reader.problems[0] + (f" (and {more} more)" if more else ""),
            code="bad_lines",
            errors={"lines": reader.problems},
        )
    if not lines:
        raise InvalidInput("the file has no lines below its header", code="empty_file")
    return lines
