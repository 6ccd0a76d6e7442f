"""The reconciliation statement as the paper form prints it (银行存款余额调节表): the book side on
the left, the bank side on the right, each balance adjusted by its items, then the items listed
and the two signatures. The portal page and the filed PDF show the same sections.

The PDF font (archives/pdf.py) sets ASCII characters half and all others full width, so
columns line up by counting every other character as two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from decimal import Decimal

from propgroup.archives import pdf
from propgroup.banking import numbers
from propgroup.banking.models import BankAccount
from propgroup.identity.models import User
from propgroup.org.models import OrgUnit
from propgroup.reconciliation.models import ITEM_KINDS, Reconciliation, ReconcilingItem
from propgroup.reconciliation.periods import label, month_end

COLUMN = 43  # half-width characters per side; 87 fit the A4 line at 11 pt
AMOUNT = 17


@dataclass(frozen=True)
class Row:
    kind: str  # item kind, or "" for a balance row
    caption: str
    sign: str  # "", "+" or "-"
    amount: Decimal | None


def sections(rec: Reconciliation, items: Sequence[ReconcilingItem]) -> tuple[list[Row], list[Row]]:
    """The book and bank sides of the form: balance, plus and minus items, adjusted balance.
    Each item adds to its side as signed; a minus row shows the magnitude, as on paper."""

    def total(kind: str) -> Decimal:
        return sum((item.amount for item in items if item.kind == kind), Decimal(0))

    def side(balance_caption, balance, kinds, adjusted) -> list[Row]:
        rows = [Row("", balance_caption, "", balance)]
        for kind, sign in kinds:
            amount = total(kind)
            rows.append(Row(kind, ITEM_KINDS[kind], sign, -amount if sign == "-" else amount))
        return [*rows, Row("", "调节后余额", "", adjusted)]

    book = side(
        "银行存款日记账余额",
        rec.book_balance,
        (("bank_credit", "+"), ("bank_charge", "-"), ("manual_book", "")),
        rec.adjusted_book,
    )
    bank = side(
        "银行对账单余额",
        rec.bank_balance,
        (("deposit_in_transit", "+"), ("outstanding_payment", "-"), ("manual_bank", "")),
        rec.adjusted_bank,
    )
    return book, bank


def _width(text: str) -> int:
    return sum(1 if ord(char) < 128 else 2 for char in text)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _money(amount: Decimal | None) -> str:
    return "-" if amount is None else f"{amount:,.2f}"


def _cell(row: Row) -> str:
    caption = {"+": "加：", "-": "减：", "": ""}[row.sign] + row.caption
    amount = _money(row.amount)
    return _pad(caption, COLUMN - AMOUNT) + " " * (AMOUNT - len(amount)) + amount


def form_lines(
    rec: Reconciliation,
    account: BankAccount,
    unit: OrgUnit,
    items: Sequence[ReconcilingItem],
    people: dict[int, User],
    zone: tzinfo,
) -> list[str]:
    """The form's lines; dates of signatures on the group's calendar (``zone``), not UTC."""
    book, bank = sections(rec, items)

    def person(user_id: int | None, moment) -> str:
        user = people.get(user_id) if user_id else None
        if not (user and moment):
            return "________"
        return f"{user.display_name} {moment.astimezone(zone):%Y-%m-%d}"

    lines = [
        "银行存款余额调节表 / Bank balance reconciliation statement",
        "",
        f"单位 Unit: {unit.name} ({unit.code})    月份 Month: {label(rec.month)}"
        f"    截至 As at: {month_end(rec.month)}",
        f"开户行 Bank: {account.bank} {account.bank_branch}",
        f"户名 Name: {account.account_name}    账号 No.: {numbers.masked(account.number_last4)}"
        f"    币种: {account.currency}",
        "",
        _pad("企业账面 Book", COLUMN) + " | 银行 Bank",
        "-" * (2 * COLUMN + 3),
    ]
    lines += [f"{_cell(left)} | {_cell(right)}" for left, right in zip(book, bank, strict=True)]
    lines += ["-" * (2 * COLUMN + 3), "", "明细 Items:"]
    for item in items:
        what = item.reason or item.description or ""
        reference = f" [{item.reference}]" if item.reference else ""
        lines.append(
            f"  {item.on_day} {ITEM_KINDS[item.kind]} {item.amount:,.2f}{reference} {what}"[:88]
        )
    if not items:
        lines.append("  (无 none)")
    lines += [
        "",
        f"编制 Prepared by: {person(rec.prepared_by, rec.submitted_at)}"
        f"    财务经理审核 Signed off: {person(rec.signed_by, rec.signed_at)}",
    ]
    return lines


def form_pdf(
    rec: Reconciliation,
    account: BankAccount,
    unit: OrgUnit,
    items: Sequence[ReconcilingItem],
    people: dict[int, User],
    zone: tzinfo,
) -> bytes:
    return pdf.render(
        form_lines(rec, account, unit, items, people, zone),
        title=f"银行存款余额调节表 {label(rec.month)} #{rec.id}",
    )
