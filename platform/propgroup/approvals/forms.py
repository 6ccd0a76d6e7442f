"""The portal's forms for approvals: a request (new or changed) and the list filters.

They check what a browser can get wrong (blank, too long, not a number, not a date) and say so
in the reader's language; every business rule stays the service's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _

from propgroup import money
from propgroup.approvals.models import (
    BUSINESS_KINDS,
    REQUEST_STATUSES,
    ApprovalRequest,
    RequestLine,
)
from propgroup.approvals.policy import ALL_REQUEST_TYPES, REQUEST_TYPES
from propgroup.approvals.words import amount_in_words
from propgroup.db import BIGINT_MAX
from propgroup.portal.formatting import parse_amount

LINE_ROWS = 5  # the paper form's fixed table; blank rows are ignored
TITLE_MAX, PAYEE_MAX, CATEGORY_MAX, DESCRIPTION_MAX = 200, 200, 60, 500


@dataclass
class LineInput:
    category: str = ""
    description: str = ""
    amount: str = ""

    @property
    def blank(self) -> bool:
        return not (self.category or self.description or self.amount)


@dataclass
class RequestForm:
    request_type: str = "expense_claim"
    unit_id: str = ""
    title: str = ""
    payee: str = ""
    lines: list[LineInput] = field(default_factory=lambda: [LineInput() for _ in range(LINE_ROWS)])
    business_kind: str = ""
    business_ended_on: str = ""
    settles_request_id: str = ""
    errors: list[str] = field(default_factory=list)
    invalid: set[str] = field(default_factory=set)  # names of fields to mark

    @classmethod
    def from_post(cls, form) -> RequestForm:
        def text(name: str) -> str:
            return (form.get(name) or "").strip()

        return cls(
            request_type=text("request_type"),
            unit_id=text("unit_id"),
            title=text("title"),
            payee=text("payee"),
            lines=[
                LineInput(text(f"category_{i}"), text(f"description_{i}"), text(f"amount_{i}"))
                for i in range(LINE_ROWS)
            ],
            business_kind=text("business_kind"),
            business_ended_on=text("business_ended_on"),
            settles_request_id=text("settles_request_id"),
        )

    @classmethod
    def from_request(cls, req: ApprovalRequest, lines: list[RequestLine]) -> RequestForm:
        """A draft or a returned request, as the form to change it."""
        rows = [LineInput(line.category, line.description, str(line.amount)) for line in lines]
        rows += [LineInput() for _ in range(LINE_ROWS - len(rows))]
        return cls(
            request_type=req.request_type,
            unit_id=str(req.unit_id),
            title=req.title,
            payee=req.payee,
            lines=rows,
            business_kind=req.business_kind or "",
            business_ended_on=req.business_ended_on.isoformat() if req.business_ended_on else "",
            settles_request_id=str(req.settles_request_id or ""),
        )

    def refuse(self, message: str, *fields: str) -> None:
        self.errors.append(message)
        self.invalid.update(fields)


def check_business(form: RequestForm) -> dict[str, Any]:
    """The business fields as the service takes them; whether they make sense is its call."""
    content: dict[str, Any] = {"business_kind": None, "business_ended_on": None}
    if form.business_kind:
        if form.business_kind in BUSINESS_KINDS:
            content["business_kind"] = form.business_kind
        else:
            form.refuse(_("Choose where the business took place."), "business_kind")
    if form.business_ended_on:
        day = parse_day(form.business_ended_on)
        if day is None:
            form.refuse(_("Enter the day the business ended as a date."), "business_ended_on")
        content["business_ended_on"] = day
    if form.settles_request_id:
        if form.settles_request_id.isdecimal() and len(form.settles_request_id) <= 18:
            content["settles_request_id"] = int(form.settles_request_id)
        else:
            form.refuse(_("Choose the advance this claim reports."), "settles_request_id")
    return content


def parse_day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        return None


def parse_id(raw: str | None) -> int | None:
    """A row id typed or sent in a form or query (ASCII digits in the bigint range; "²" is a
    digit to str.isdigit but not to int), or None."""
    raw = (raw or "").strip()
    if not (raw.isascii() and raw.isdigit()) or not 0 < int(raw) <= BIGINT_MAX:
        return None
    return int(raw)


def check_form(form: RequestForm, units: dict[str, Any]) -> list[dict[str, Any]]:
    """The lines to save; every problem is added to ``form.errors`` (nothing is saved then)."""
    if form.request_type not in REQUEST_TYPES:
        form.refuse(_("Choose the kind of request."), "request_type")
    if form.unit_id not in units:
        form.refuse(_("Choose the unit the request is for."), "unit_id")
    for name, value, longest, label in (
        ("title", form.title, TITLE_MAX, _("Title")),
        ("payee", form.payee, PAYEE_MAX, _("Payee")),
    ):
        if not value:
            form.refuse(_("%(field)s is required.", field=label), name)
        elif len(value) > longest:
            form.refuse(
                _("%(field)s is too long (at most %(max)d characters).", field=label, max=longest),
                name,
            )
    lines = []
    for index, line in enumerate(form.lines):
        if line.blank:
            continue
        number = index + 1
        if not line.category:
            form.refuse(
                _("Line %(number)d: the category is required.", number=number), f"category_{index}"
            )
        elif len(line.category) > CATEGORY_MAX:
            form.refuse(
                _("Line %(number)d: the category is too long.", number=number), f"category_{index}"
            )
        if not line.description:
            form.refuse(
                _("Line %(number)d: the description is required.", number=number),
                f"description_{index}",
            )
        elif len(line.description) > DESCRIPTION_MAX:
            form.refuse(
                _("Line %(number)d: the description is too long.", number=number),
                f"description_{index}",
            )
        amount = parse_amount(line.amount) if line.amount else _("the amount is required")
        if isinstance(amount, str):
            form.refuse(
                _("Line %(number)d: %(problem)s.", number=number, problem=amount), f"amount_{index}"
            )
        else:
            lines.append(
                {"category": line.category, "description": line.description, "amount": amount}
            )
    if all(line.blank for line in form.lines):
        form.refuse(_("Fill in at least one line."), "category_0", "description_0", "amount_0")
    if sum((line["amount"] for line in lines), Decimal(0)) > money.MAX_AMOUNT:
        form.refuse(_("The total is too large."))
    return lines


def form_total(form: RequestForm) -> Decimal | None:
    """The sum of the amounts that parse, for the total shown while typing."""
    amounts = [parse_amount(line.amount) for line in form.lines if line.amount]
    good = [amount for amount in amounts if isinstance(amount, Decimal)]
    return sum(good, Decimal("0.00")) if good else None


def in_words(total: Decimal | None) -> str | None:
    return amount_in_words(total) if total is not None and total <= money.MAX_AMOUNT else None


@dataclass
class ListFilter:
    """The filters of the list of every request one may see; a bad value is named, not used."""

    values: dict[str, str]
    query: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    NAMES = ("request_type", "status", "submitted_from", "submitted_to", "amount_min", "amount_max")

    @classmethod
    def from_args(cls, args) -> ListFilter:
        found = cls({name: (args.get(name) or "").strip() for name in cls.NAMES})
        found._check()
        return found

    def _check(self) -> None:
        values, query = self.values, self.query
        if values["request_type"] in ALL_REQUEST_TYPES:
            query["request_type"] = values["request_type"]
        if values["status"] in REQUEST_STATUSES:
            query["status"] = values["status"]
        for name in ("submitted_from", "submitted_to"):
            if values[name]:
                day = parse_day(values[name])
                if day is None:
                    self.errors.append(_("Enter the days as dates."))
                else:
                    query[name] = day
        for name in ("amount_min", "amount_max"):
            if values[name]:
                amount = parse_amount(values[name], allow_zero=True)
                if isinstance(amount, str):
                    self.errors.append(_("Amount filter: %(problem)s.", problem=amount))
                else:
                    query[name] = amount
        for low, high in (("submitted_from", "submitted_to"), ("amount_min", "amount_max")):
            if low in query and high in query and query[low] > query[high]:
                self.errors.append(_("A range must not end before it starts."))
                query.pop(low), query.pop(high)

    @property
    def active(self) -> bool:
        return any(self.values.values())
