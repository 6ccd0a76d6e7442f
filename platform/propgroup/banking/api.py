"""``/api/banking``: accounts (numbers masked unless banking:numbers at the unit), their
lifecycle requests (R-BNK-1), number registration, and the dormancy setting (R-BNK-4). Requests
are decided in the approvals API like any other; there is no endpoint that sets a status."""

from __future__ import annotations

from typing import Any

from flask import request
from sqlalchemy import func, select

from propgroup.api import Blueprint
from propgroup.api.auth import current_principal
from propgroup.api.idempotency import idempotent
from propgroup.api.pagination import MAX_PAGE_SIZE, Selection, SelectPage
from propgroup.approvals.schemas import AttachmentQuerySchema
from propgroup.banking import checks, documents, lifecycle, registration
from propgroup.banking.dormancy import change_dormancy_months
from propgroup.banking.models import BankAccount, BankAccountRequest
from propgroup.banking.schemas import (
    AccountDetailSchema,
    AccountQuerySchema,
    AccountRequestInSchema,
    AccountRequestQuerySchema,
    AccountRequestSchema,
    AccountSchema,
    BankingSettingsSchema,
    ExistingInSchema,
    FormInSchema,
    OpeningInSchema,
)
from propgroup.banking.service import book_balance, read_account, shown_number, visible_accounts
from propgroup.errors import TooLarge
from propgroup.identity.authz import authorize_somewhere
from propgroup.storage.schemas import DocumentSchema
from propgroup.storage.settings import configured_store, max_upload_bytes
from propgroup.tenancy.middleware import tenant_db
from propgroup.tenancy.settings import dormancy_months

blp = Blueprint("banking", __name__, url_prefix="/api/banking", description="Bank accounts")


def shown(account: BankAccount) -> dict[str, Any]:
    """The account as the caller may see it."""
    session = tenant_db()
    return {
        **{key: getattr(account, key) for key in AccountSchema().fields if key != "number"},
        "number": shown_number(session, current_principal(), account),
    }


def detail(account: BankAccount) -> dict[str, Any]:
    session = tenant_db()
    return {
        **shown(account),
        "book_balance": book_balance(session, account.id),
        "seals": [
            {"kind": s.kind, "keeper": u.login, "keeper_name": u.display_name, "since": s.since}
            for s, u in checks.seals_of(session, account.id)
        ],
        "signatories": [
            {"login": u.login, "name": u.display_name, "since": s.since}
            for s, u in checks.signatories_of(session, account.id)
        ],
        "requests": session.scalars(
            lifecycle.visible_requests(session, current_principal(), account.id)
        ).all(),
        "closing_problems": checks.closing_problems(session, account),
    }


@blp.route("/accounts")
@blp.arguments(AccountQuerySchema, location="query")
@blp.response(200, AccountSchema(many=True))
@blp.paginate(page_size=50, max_page_size=MAX_PAGE_SIZE)
def list_accounts(query, pagination_parameters):
    """Accounts of the units the caller may read; each number masked unless the caller may
    read numbers at the account's unit."""
    session = tenant_db()
    statement = visible_accounts(session, current_principal())
    if query.get("status"):
        statement = statement.where(BankAccount.status == query["status"])
    pagination_parameters.item_count = session.scalar(
        select(func.count()).select_from(statement.subquery())
    )
    page = statement.offset(pagination_parameters.first_item).limit(pagination_parameters.page_size)
    return [shown(account) for account in session.scalars(page)]


@blp.route("/accounts/<int:account_id>")
@blp.response(200, AccountDetailSchema)
def read(account_id: int):
    """The account with its seals, signatories, book balance and request history."""
    return detail(read_account(tenant_db(), current_principal(), account_id))


@blp.route("/accounts/<int:account_id>/opening", methods=["POST"])
@blp.arguments(OpeningInSchema)
@blp.response(200, AccountDetailSchema)
def register_opening(data, account_id: int):
    """The number the bank gave an approved opening: the account is open (banking:write)."""
    return detail(
        registration.register_opening(tenant_db(), current_principal(), account_id, **data)
    )


# Not @idempotent: the stored response would hold the clear number; a retry is refused as a
# duplicate number (409) instead.
@blp.route("/accounts/existing", methods=["POST"])
@blp.arguments(ExistingInSchema)
@blp.response(201, AccountDetailSchema)
def register_existing(data):
    """An account opened before the system, with its opening balance (banking:admin, audited)."""
    return detail(registration.register_existing(tenant_db(), current_principal(), data))


def _attach(entity_type: str, entity_id: int, filename: str):
    limit = max_upload_bytes()
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"the file is larger than the {limit} byte limit", code="upload_too_large")
    session, principal = tenant_db(), current_principal()
    documents.check_attach(session, principal, entity_type, entity_id)
    session.commit()  # no transaction stays open while the body streams in
    return documents.attach(
        session,
        configured_store(),
        principal,
        entity_type,
        entity_id,
        stream=request.stream,
        filename=filename,
        max_bytes=limit,
    )


@blp.route("/accounts/<int:account_id>/documents", methods=["POST"])
@blp.arguments(AttachmentQuerySchema, location="query")
@blp.response(201, DocumentSchema)
def attach_to_account(query, account_id: int):
    """A paper of the account (raw request body), filed with it when it closes (banking:write)."""
    return _attach(documents.ACCOUNT_ENTITY, account_id, query["filename"])


@blp.route("/requests/<int:request_id>/documents", methods=["POST"])
@blp.arguments(AttachmentQuerySchema, location="query")
@blp.response(201, DocumentSchema)
def attach_to_request(query, request_id: int):
    """A paper of a request under way (raw request body), e.g. the signed form."""
    return _attach(documents.REQUEST_ENTITY, request_id, query["filename"])


@blp.route("/requests")
@blp.arguments(AccountRequestQuerySchema, location="query")
@blp.response(200, AccountRequestSchema(many=True))
@blp.paginate(SelectPage, page_size=50, max_page_size=MAX_PAGE_SIZE)
def list_requests(query):
    session = tenant_db()
    statement = lifecycle.visible_requests(session, current_principal(), query.get("account_id"))
    if query.get("status"):
        statement = statement.where(BankAccountRequest.status == query["status"])
    return Selection(session, statement)


@blp.route("/requests", methods=["POST"])
@idempotent
@blp.arguments(AccountRequestInSchema)
@blp.response(201, AccountRequestSchema)
def raise_request(data):
    """A draft open / change / close request (banking:write at the unit)."""
    return lifecycle.raise_request(tenant_db(), current_principal(), **data)


@blp.route("/requests/<int:request_id>")
@blp.response(200, AccountRequestSchema)
def read_request(request_id: int):
    return lifecycle.read_request(tenant_db(), current_principal(), request_id)


@blp.route("/requests/<int:request_id>", methods=["PUT"])
@blp.arguments(FormInSchema)
@blp.response(200, AccountRequestSchema)
def revise(data, request_id: int):
    """A draft's or returned request's form, rewritten."""
    return lifecycle.revise(tenant_db(), current_principal(), request_id, data["form"])


@blp.route("/requests/<int:request_id>/submit", methods=["POST"])
@blp.response(200, AccountRequestSchema)
def submit(request_id: int):
    """Into the approval chain (the approvals API decides it)."""
    return lifecycle.submit(tenant_db(), current_principal(), request_id)


@blp.route("/requests/<int:request_id>/withdraw", methods=["POST"])
@blp.response(200, AccountRequestSchema)
def withdraw(request_id: int):
    return lifecycle.withdraw(tenant_db(), current_principal(), request_id)


@blp.route("/settings")
@blp.response(200, BankingSettingsSchema)
def settings():
    session = tenant_db()
    authorize_somewhere(session, current_principal(), "banking:read")
    return {"dormancy_months": dormancy_months(session)}


@blp.route("/settings", methods=["PUT"])
@blp.arguments(BankingSettingsSchema)
@blp.response(200, BankingSettingsSchema)
def change_settings(data):
    """Months without a journal entry after which an account is dormant (banking:admin)."""
    months = change_dormancy_months(tenant_db(), current_principal(), data["dormancy_months"])
    return {"dormancy_months": months}
