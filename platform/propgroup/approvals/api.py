"""``/api/approvals``: raise, submit, decide, withdraw and pay requests; list and read them."""

from __future__ import annotations

from flask import request

from propgroup.api import Blueprint
from propgroup.api.auth import current_principal
from propgroup.api.idempotency import idempotent
from propgroup.api.pagination import MAX_PAGE_SIZE, Selection, SelectPage
from propgroup.api.schema import columns_of
from propgroup.approvals import service
from propgroup.approvals.models import ApprovalRequest
from propgroup.approvals.schemas import (
    AttachmentQuerySchema,
    DecisionSchema,
    DelegationInSchema,
    DelegationSchema,
    PaymentInSchema,
    PaymentSchema,
    PolicyInSchema,
    PolicyVersionSchema,
    RequestContentSchema,
    RequestDetailSchema,
    RequestInSchema,
    RequestQuerySchema,
    RequestSchema,
)
from propgroup.approvals.words import amount_in_words
from propgroup.errors import TooLarge
from propgroup.storage.schemas import DocumentSchema
from propgroup.storage.settings import configured_store, max_upload_bytes
from propgroup.tenancy.middleware import tenant_db

blp = Blueprint("approvals", __name__, url_prefix="/api/approvals", description="Approvals")


def _detail(req, steps=None):
    """The request as the API shows it; ``steps`` when the caller has them already."""
    session = tenant_db()
    lines = service.lines_of(session, req)
    return {
        **columns_of(req),
        "amount_in_words": amount_in_words(req.total_amount),
        "lines": lines,
        "line_history": (
            service.lines_of(session, req, every_revision=True) if req.revision > 1 else lines
        ),
        "steps": service.steps_of(session, req) if steps is None else steps,
        "advance_overdue": service.advance_overdue(session, req),
        "attachments": service.vouchers_of(session, req),
    }


@blp.route("")
@blp.arguments(RequestQuerySchema, location="query")
@blp.response(200, RequestSchema(many=True))
@blp.paginate(SelectPage, page_size=50, max_page_size=MAX_PAGE_SIZE)
def list_requests(query):
    session = tenant_db()
    requests = service.visible_requests(session, current_principal(), **query)
    return Selection(
        session, requests.with_only_columns(*ApprovalRequest.__table__.columns), rows=True
    )


@blp.route("", methods=["POST"])
@idempotent
@blp.arguments(RequestInSchema)
@blp.response(201, RequestDetailSchema)
def create(data):
    return _detail(service.create_request(tenant_db(), current_principal(), **data))


@blp.route("/<int:request_id>")
@blp.response(200, RequestDetailSchema)
def read(request_id: int):
    return _detail(service.read_request(tenant_db(), current_principal(), request_id))


@blp.route("/<int:request_id>", methods=["PUT"])
@blp.arguments(RequestContentSchema)
@blp.response(200, RequestDetailSchema)
def revise(data, request_id: int):
    """Rewrite a draft, or a returned request as its next revision (the requester only)."""
    return _detail(service.revise_request(tenant_db(), current_principal(), request_id, **data))


@blp.route("/<int:request_id>/attachments", methods=["POST"])
@blp.arguments(AttachmentQuerySchema, location="query")
@blp.response(201, DocumentSchema)
def attach(query, request_id: int):
    """A voucher (原始凭证) as the raw request body, streamed to storage."""
    limit = max_upload_bytes()
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"the file is larger than the {limit} byte limit", code="upload_too_large")
    session, principal = tenant_db(), current_principal()
    service.check_attach(session, principal, request_id)
    session.commit()  # no transaction stays open while the body streams in
    return service.attach_voucher(
        session,
        configured_store(),
        principal,
        request_id,
        stream=request.stream,
        filename=query["filename"],
        max_bytes=limit,
    )


@blp.route("/<int:request_id>/submit", methods=["POST"])
@idempotent
@blp.response(200, RequestDetailSchema)
def submit(request_id: int):
    return _detail(service.submit(tenant_db(), current_principal(), request_id))


@blp.route("/<int:request_id>/decisions", methods=["POST"])
@idempotent
@blp.arguments(DecisionSchema)
@blp.response(200, RequestDetailSchema)
def decide(data, request_id: int):
    decision = service.decision(tenant_db(), current_principal(), request_id, **data)
    return _detail(decision.request, decision.steps)


@blp.route("/<int:request_id>/withdraw", methods=["POST"])
@blp.response(200, RequestDetailSchema)
def withdraw(request_id: int):
    return _detail(service.withdraw(tenant_db(), current_principal(), request_id))


@blp.route("/<int:request_id>/payment", methods=["POST"])
@idempotent
@blp.arguments(PaymentInSchema)
@blp.response(201, PaymentSchema)
def pay(data, request_id: int):
    return service.pay(tenant_db(), current_principal(), request_id, **data)


@blp.route("/delegations", methods=["POST"])
@idempotent
@blp.arguments(DelegationInSchema)
@blp.response(201, DelegationSchema)
def delegate(data):
    return service.delegate(tenant_db(), current_principal(), **data)


@blp.route("/policy")
@blp.response(200, PolicyVersionSchema)
def current_policy():
    """The matrix in force; every member of the group may read it."""
    current_principal()
    return service.current_policy(tenant_db())


@blp.route("/policy", methods=["PUT"])
@blp.arguments(PolicyInSchema)
@blp.response(200, PolicyVersionSchema)
def replace_policy(data):
    """A new version (group admins); requests already submitted keep the one they started with."""
    return service.replace_policy(tenant_db(), current_principal(), data["document"], data["note"])
