"""``/api/reconciliation``: bank statements and the bank journal in, matching, the monthly
reconciliation statement from draft to sign-off, and overdue accounts under a unit. CSV files
are sent as multipart forms: ``file`` plus the mapping's fields (``date_column``,
``amount_column`` or ``debit_column`` + ``credit_column``, ``reference_column``,
``counterparty_column``, ``description_column``, ``balance_column``, ``encoding`` utf-8|gbk,
``delimiter``, ``header_line``, ``date_format``)."""

from __future__ import annotations

from typing import Any

from flask import Response

from propgroup.api import Blueprint
from propgroup.api.auth import current_principal
from propgroup.api.pagination import MAX_PAGE_SIZE, Selection, SelectPage
from propgroup.api.schema import columns_of
from propgroup.approvals.service import today
from propgroup.banking.service import read_account
from propgroup.identity.authz import authorize_somewhere
from propgroup.org import service as org
from propgroup.reconciliation import imports, matching, overdue, service, sides
from propgroup.reconciliation.models import Reconciliation
from propgroup.reconciliation.paper import form_pdf
from propgroup.reconciliation.periods import label
from propgroup.reconciliation.schemas import (
    AutoMatchInSchema,
    AutoMatchSchema,
    JournalEntryInSchema,
    JournalEntrySchema,
    JournalImportSchema,
    MatchInSchema,
    MatchSchema,
    MatchSettingsSchema,
    OverdueQuerySchema,
    OverdueSchema,
    PrepareInSchema,
    ReasonInSchema,
    ReconciliationDetailSchema,
    ReconciliationSchema,
    ReconcilingItemInSchema,
    ReconcilingItemSchema,
    RefreshInSchema,
    SideQuerySchema,
    StatementLineSchema,
    StatementSchema,
)
from propgroup.reconciliation.uploads import entered_amount, uploaded_csv
from propgroup.storage.settings import configured_store
from propgroup.tenancy.middleware import tenant_db
from propgroup.tenancy.settings import tenant_zone

blp = Blueprint(
    "reconciliation", __name__, url_prefix="/api/reconciliation", description="Bank reconciliation"
)


def _with_difference(rec: Reconciliation) -> dict[str, Any]:
    return {
        **columns_of(rec),
        "month": label(rec.month),
        "difference": service.figures_of(rec).difference,
    }


def _detail(rec: Reconciliation) -> dict[str, Any]:
    return {**_with_difference(rec), "items": service.items_of(tenant_db(), rec)}


@blp.route("/settings")
@blp.response(200, MatchSettingsSchema)
def settings():
    session = tenant_db()
    authorize_somewhere(session, current_principal(), "banking:read")
    return {"match_window_days": matching.window_days(session)}


@blp.route("/settings", methods=["PUT"])
@blp.arguments(MatchSettingsSchema)
@blp.response(200, MatchSettingsSchema)
def change_settings(data):
    """The group's default date window for auto-matching (banking:admin)."""
    days = matching.change_window(tenant_db(), current_principal(), data["match_window_days"])
    return {"match_window_days": days}


# --- the two sides ------------------------------------------------------------------------


@blp.route("/accounts/<int:account_id>/statements")
@blp.response(200, StatementSchema(many=True))
def statements(account_id: int):
    return sides.statements(tenant_db(), current_principal(), account_id)


@blp.route("/accounts/<int:account_id>/statements", methods=["POST"])
@blp.response(201, StatementSchema)
def import_statement(account_id: int):
    """Upload a statement CSV (multipart): stored, its lines imported, or refused whole with
    the line and column named. ``closing_balance`` may be entered when the file has none."""
    content, filename, mapping = uploaded_csv()
    return imports.import_statement(
        tenant_db(),
        configured_store(),
        current_principal(),
        account_id,
        content=content,
        filename=filename,
        mapping=mapping,
        closing_balance=entered_amount("closing_balance"),
    )


@blp.route("/accounts/<int:account_id>/statements/<int:statement_id>", methods=["DELETE"])
@blp.response(204)
def delete_statement(account_id: int, statement_id: int):
    """Take back a statement imported by mistake: none of its lines matched or reconciled."""
    imports.delete_statement(tenant_db(), current_principal(), account_id, statement_id)


@blp.route("/accounts/<int:account_id>/statement-lines")
@blp.arguments(SideQuerySchema, location="query")
@blp.response(200, StatementLineSchema(many=True))
@blp.paginate(SelectPage, page_size=100, max_page_size=MAX_PAGE_SIZE)
def statement_lines(query, account_id: int):
    session = tenant_db()
    statement = sides.statement_lines(session, current_principal(), account_id, **query)
    return Selection(session, statement, rows=True)


@blp.route("/accounts/<int:account_id>/journal")
@blp.arguments(SideQuerySchema, location="query")
@blp.response(200, JournalEntrySchema(many=True))
@blp.paginate(SelectPage, page_size=100, max_page_size=MAX_PAGE_SIZE)
def journal(query, account_id: int):
    session = tenant_db()
    statement = sides.book_entries(session, current_principal(), account_id, **query)
    return Selection(session, statement, rows=True)


@blp.route("/accounts/<int:account_id>/journal", methods=["POST"])
@blp.arguments(JournalEntryInSchema)
@blp.response(201, JournalEntrySchema)
def record_entry(data, account_id: int):
    """One bank journal entry by hand (+ in, − out)."""
    return imports.record_entry(tenant_db(), current_principal(), account_id, data)


@blp.route("/accounts/<int:account_id>/journal/imports", methods=["POST"])
@blp.response(201, JournalImportSchema)
def import_journal(account_id: int):
    """Journal lines exported from the accounting system (multipart CSV; a debit is money in)."""
    content, filename, mapping = uploaded_csv()
    return imports.import_journal(
        tenant_db(),
        current_principal(),
        account_id,
        content=content,
        filename=filename,
        mapping=mapping,
    )


# --- matching -----------------------------------------------------------------------------


@blp.route("/accounts/<int:account_id>/auto-match", methods=["POST"])
@blp.arguments(AutoMatchInSchema)
@blp.response(200, AutoMatchSchema)
def auto_match(data, account_id: int):
    """Match the unmatched: same amount, within the window (this run's, or the group's)."""
    return matching.auto_match(tenant_db(), current_principal(), account_id, data["window_days"])


@blp.route("/accounts/<int:account_id>/matches", methods=["POST"])
@blp.arguments(MatchInSchema)
@blp.response(201, MatchSchema)
def match(data, account_id: int):
    return matching.match(
        tenant_db(),
        current_principal(),
        account_id,
        data["statement_line_id"],
        data["book_entry_id"],
    )


@blp.route("/accounts/<int:account_id>/matches/<int:match_id>", methods=["DELETE"])
@blp.response(204)
def unmatch(account_id: int, match_id: int):
    matching.unmatch(tenant_db(), current_principal(), account_id, match_id)


# --- the monthly statement ----------------------------------------------------------------


@blp.route("/accounts/<int:account_id>/reconciliations")
@blp.response(200, ReconciliationSchema(many=True))
def reconciliations(account_id: int):
    session = tenant_db()
    account = read_account(session, current_principal(), account_id)
    return [_with_difference(rec) for rec in service.reconciliations_of(session, account.id)]


@blp.route("/accounts/<int:account_id>/reconciliations", methods=["POST"])
@blp.arguments(PrepareInSchema)
@blp.response(201, ReconciliationDetailSchema)
def prepare(data, account_id: int):
    """Draw up a month (``YYYY-MM``): 409 when it is reconciled already or out of order."""
    rec = service.prepare(
        tenant_db(), current_principal(), account_id, data["month"], data["bank_balance"]
    )
    return _detail(rec)


@blp.route("/reconciliations/<int:rec_id>")
@blp.response(200, ReconciliationDetailSchema)
def read(rec_id: int):
    return _detail(service.read_reconciliation(tenant_db(), current_principal(), rec_id)[0])


@blp.route("/reconciliations/<int:rec_id>", methods=["PUT"])
@blp.arguments(RefreshInSchema)
@blp.response(200, ReconciliationDetailSchema)
def refresh(data, rec_id: int):
    """Recompute a draft; ``bank_balance`` entered, or null for the statements' balance."""
    return _detail(service.refresh(tenant_db(), current_principal(), rec_id, data["bank_balance"]))


@blp.route("/reconciliations/<int:rec_id>/items", methods=["POST"])
@blp.arguments(ReconcilingItemInSchema)
@blp.response(201, ReconcilingItemSchema)
def add_item(data, rec_id: int):
    """A reconciling item by hand on the ``book`` or ``bank`` side, with its reason."""
    return service.add_item(tenant_db(), current_principal(), rec_id, **data)


@blp.route("/reconciliations/<int:rec_id>/items/<int:item_id>", methods=["DELETE"])
@blp.response(204)
def remove_item(rec_id: int, item_id: int):
    service.remove_item(tenant_db(), current_principal(), rec_id, item_id)


@blp.route("/reconciliations/<int:rec_id>/submit", methods=["POST"])
@blp.response(200, ReconciliationDetailSchema)
def submit(rec_id: int):
    """409 ``not_balanced`` with the difference while the adjusted balances disagree."""
    return _detail(service.submit(tenant_db(), current_principal(), rec_id))


@blp.route("/reconciliations/<int:rec_id>/send-back", methods=["POST"])
@blp.arguments(ReasonInSchema)
@blp.response(200, ReconciliationDetailSchema)
def send_back(data, rec_id: int):
    return _detail(service.send_back(tenant_db(), current_principal(), rec_id, data["reason"]))


@blp.route("/reconciliations/<int:rec_id>/signoff", methods=["POST"])
@blp.response(200, ReconciliationDetailSchema)
def sign_off(rec_id: int):
    """The finance manager's sign-off (banking:signoff, not the preparer); files it."""
    session = tenant_db()
    return _detail(service.sign_off(session, configured_store(), current_principal(), rec_id))


@blp.route("/reconciliations/<int:rec_id>/pdf")
def pdf(rec_id: int):
    """The statement as the paper form, in whatever state it is."""
    session = tenant_db()
    rec, account = service.read_reconciliation(session, current_principal(), rec_id)
    content = form_pdf(
        rec,
        account,
        org.get_unit(session, account.unit_id),
        service.items_of(session, rec),
        service.people_of(session, rec),
        tenant_zone(session),
    )
    return Response(
        content,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="reconciliation-{rec.id}.pdf"'},
    )


@blp.route("/overdue")
@blp.arguments(OverdueQuerySchema, location="query")
@blp.response(200, OverdueSchema(many=True))
def overdue_accounts(query):
    """Open accounts at the unit or below whose reconciliation is overdue (after the 5th)."""
    session, principal = tenant_db(), current_principal()
    unit = org.read_unit(session, principal, query["unit_id"])
    return [
        {
            "account_id": row.account.id,
            "bank": row.account.bank,
            "number": row.shown_number,
            "unit_id": row.unit.id,
            "unit_code": row.unit.code,
            "unit_name": row.unit.name,
            "due_month": label(row.due_month),
            "first_missing": label(row.first_missing),
            "months_behind": row.months_behind,
        }
        for row in overdue.overdue_under(session, principal, unit, today(session))
    ]
