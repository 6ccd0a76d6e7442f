"""``/api/cashdesk``: the cheque-book register, cheques, blank-cheque approvals, the cash book,
count sheets, cash-limit alerts and petty cash. Nothing is deleted: a cheque is voided."""

from __future__ import annotations

from typing import Any

from propgroup.api import Blueprint
from propgroup.api.auth import current_principal
from propgroup.api.idempotency import idempotent
from propgroup.api.pagination import MAX_PAGE_SIZE, Selection, SelectPage
from propgroup.api.schema import columns_of
from propgroup.cashdesk import cash, cheques, petty
from propgroup.cashdesk.common import policy
from propgroup.cashdesk.models import CashCount, Cheque
from propgroup.cashdesk.schemas import (
    AccountForInSchema,
    AdvanceInSchema,
    AdvanceQuerySchema,
    AdvanceSchema,
    AlertSchema,
    BlankInSchema,
    BlankSchema,
    BookInSchema,
    BookSchema,
    CashdeskSettingsSchema,
    CashEntryInSchema,
    CashEntrySchema,
    CashUnitQuerySchema,
    ChequeInSchema,
    ChequeQuerySchema,
    ChequeSchema,
    CountInSchema,
    CountQuerySchema,
    CountSchema,
    DecisionInSchema,
    VoidInSchema,
)
from propgroup.identity.authz import authorize_somewhere
from propgroup.tenancy.middleware import tenant_db

blp = Blueprint("cashdesk", __name__, url_prefix="/api/cashdesk", description="Cash desk (出纳)")


def _cheque(cheque: Cheque) -> dict[str, Any]:
    return {**columns_of(cheque), "overdue": cheques.is_overdue(tenant_db(), cheque)}


def _sheet(sheet: CashCount) -> dict[str, Any]:
    return {**columns_of(sheet), "lines": cash.lines_of(tenant_db(), sheet)}


@blp.route("/cheque-books", methods=["POST"])
@idempotent
@blp.arguments(BookInSchema)
@blp.response(201, BookSchema)
def register_book(data):
    """Register a cheque book (R-CHQ-1): date received, bank, type, number range; by the caller."""
    return cheques.register_book(tenant_db(), current_principal(), **data)


@blp.route("/accounts/<int:account_id>/cheque-books")
@blp.response(200, BookSchema(many=True))
def books(account_id: int):
    return cheques.books_of(tenant_db(), current_principal(), account_id)


@blp.route("/cheques", methods=["POST"])
@idempotent
@blp.arguments(ChequeInSchema)
@blp.response(201, ChequeSchema)
def issue(data):
    """Write the next cheque to a holder: against an approved request, or a blank cheque under
    an approved limit (R-CHQ-3). A holder with a cheque overdue is refused (409, R-CHQ-2)."""
    return _cheque(cheques.issue_cheque(tenant_db(), current_principal(), **data))


@blp.route("/cheques")
@blp.arguments(ChequeQuerySchema, location="query")
@blp.response(200, ChequeSchema(many=True))
@blp.paginate(SelectPage, page_size=50, max_page_size=MAX_PAGE_SIZE)
def list_cheques(query):
    session = tenant_db()
    statement = cheques.visible_cheques(session, current_principal(), **query)
    return Selection(session, statement)


@blp.route("/cheques/<int:cheque_id>/account", methods=["POST"])
@blp.arguments(AccountForInSchema)
@blp.response(200, ChequeSchema)
def account_for(data, cheque_id: int):
    """The amount actually paid (at most the amount or limit) leaves the bank journal."""
    return _cheque(cheques.account_for(tenant_db(), current_principal(), cheque_id, **data))


@blp.route("/cheques/<int:cheque_id>/void", methods=["POST"])
@blp.arguments(VoidInSchema)
@blp.response(200, ChequeSchema)
def void(data, cheque_id: int):
    """Stamp the cheque 作废 with a reason; it stays in the register."""
    return _cheque(cheques.void_cheque(tenant_db(), current_principal(), cheque_id, **data))


@blp.route("/blank-cheques", methods=["POST"])
@idempotent
@blp.arguments(BlankInSchema)
@blp.response(201, BlankSchema)
def ask_blank(data):
    """Ask the finance manager to approve a blank cheque with a limit for a holder."""
    return cheques.ask_blank_cheque(tenant_db(), current_principal(), **data)


@blp.route("/blank-cheques/<int:approval_id>/decision", methods=["POST"])
@blp.arguments(DecisionInSchema)
@blp.response(200, BlankSchema)
def decide_blank(data, approval_id: int):
    return cheques.decide_blank_cheque(tenant_db(), current_principal(), approval_id, **data)


@blp.route("/blank-cheques")
@blp.response(200, BlankSchema(many=True))
@blp.paginate(SelectPage, page_size=50, max_page_size=MAX_PAGE_SIZE)
def list_blank():
    session = tenant_db()
    return Selection(session, cheques.visible_blank_approvals(session, current_principal()))


@blp.route("/cash-entries", methods=["POST"])
@idempotent
@blp.arguments(CashEntryInSchema)
@blp.response(201, CashEntrySchema)
def record_entry(data):
    """A receipt (+) or payment (−) of the unit's cash book; the limit is checked (R-CASH-1)."""
    return cash.record_entry(tenant_db(), current_principal(), **data)


@blp.route("/units/<int:unit_id>/cash-entries")
@blp.response(200, CashEntrySchema(many=True))
@blp.paginate(SelectPage, page_size=50, max_page_size=MAX_PAGE_SIZE)
def entries(unit_id: int):
    session = tenant_db()
    return Selection(session, cash.entries_of(session, current_principal(), unit_id))


@blp.route("/counts", methods=["POST"])
@idempotent
@blp.arguments(CountInSchema)
@blp.response(201, CountSchema)
def submit_count(data):
    """A count sheet: lines ``{"denomination": "100", "quantity": 3}``; any other line, an IOU
    (``{"kind": "iou"}``, 白条) above all, is refused (R-CASH-2)."""
    return _sheet(cash.submit_count(tenant_db(), current_principal(), **data))


@blp.route("/counts")
@blp.arguments(CountQuerySchema, location="query")
@blp.response(200, CountSchema(many=True))
@blp.paginate(SelectPage, page_size=50, max_page_size=MAX_PAGE_SIZE)
def list_counts(query):
    session = tenant_db()
    return Selection(session, cash.visible_counts(session, current_principal(), **query))


@blp.route("/counts/<int:count_id>")
@blp.response(200, CountSchema)
def read_count(count_id: int):
    return _sheet(cash.read_count(tenant_db(), current_principal(), count_id))


@blp.route("/counts/<int:count_id>/review", methods=["POST"])
@blp.response(200, CountSchema)
def review_count(count_id: int):
    """The finance manager signs the month-end sheet; never who counted it."""
    return _sheet(cash.review_count(tenant_db(), current_principal(), count_id))


@blp.route("/alerts")
@blp.arguments(CashUnitQuerySchema, location="query")
@blp.response(200, AlertSchema(many=True))
def alerts(query):
    """Open cash-limit alerts (R-CASH-1) of the units the caller may read."""
    return cash.open_alerts(tenant_db(), current_principal(), query.get("unit_id"))


@blp.route("/petty-cash", methods=["POST"])
@idempotent
@blp.arguments(AdvanceInSchema)
@blp.response(201, AdvanceSchema)
def advance(data):
    """Lend petty cash, due back by the 25th of the quarter's last month (R-CASH-4)."""
    return petty.advance(tenant_db(), current_principal(), **data)


@blp.route("/petty-cash/<int:advance_id>/return", methods=["POST"])
@blp.response(200, AdvanceSchema)
def return_advance(advance_id: int):
    return petty.return_advance(tenant_db(), current_principal(), advance_id)


@blp.route("/petty-cash")
@blp.arguments(AdvanceQuerySchema, location="query")
@blp.response(200, AdvanceSchema(many=True))
@blp.paginate(SelectPage, page_size=50, max_page_size=MAX_PAGE_SIZE)
def list_advances(query):
    session = tenant_db()
    return Selection(session, petty.visible_advances(session, current_principal(), **query))


@blp.route("/settings")
@blp.response(200, CashdeskSettingsSchema)
def settings():
    session = tenant_db()
    authorize_somewhere(session, current_principal(), "banking:read")
    found = policy(session)
    return {"cash_limit": str(found.cash_limit), "reminder_days": found.reminder_days}


@blp.route("/settings", methods=["PUT"])
@blp.arguments(CashdeskSettingsSchema)
@blp.response(200, CashdeskSettingsSchema)
def change_settings(data):
    """The cash limit (R-CASH-1, 10,000 CNY by default) and the petty-cash reminder lead."""
    row = cash.change_settings(tenant_db(), current_principal(), **data)
    return {"cash_limit": str(row.cash_limit), "reminder_days": row.reminder_days}
