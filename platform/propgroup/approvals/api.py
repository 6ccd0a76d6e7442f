"""``/api/approvals``: raise, submit, decide, withdraw and pay requests; list and read them."""

from __future__ import annotations

from sqlalchemy import inspect

from propgroup.api import Blueprint
from propgroup.api.auth import current_principal
from propgroup.api.idempotency import idempotent
from propgroup.api.pagination import MAX_PAGE_SIZE, Selection, SelectPage
from propgroup.approvals import service
from propgroup.approvals.schemas import (
    DecisionSchema,
    DelegationInSchema,
    DelegationSchema,
    PaymentInSchema,
    PaymentSchema,
    PolicyInSchema,
    PolicyVersionSchema,
    RequestDetailSchema,
    RequestInSchema,
    RequestQuerySchema,
    RequestSchema,
)
from propgroup.approvals.words import amount_in_words
from propgroup.tenancy.middleware import tenant_db

blp = Blueprint("approvals", __name__, url_prefix="/api/approvals", description="Approvals")


def _detail(request):
    session = tenant_db()
    columns = {
        attribute.key: getattr(request, attribute.key)
        for attribute in inspect(request).mapper.column_attrs
    }
    return {
        **columns,
        "amount_in_words": amount_in_words(request.total_amount),
        "lines": service.lines_of(session, request),
        "steps": service.steps_of(session, request),
    }


@blp.route("")
@blp.arguments(RequestQuerySchema, location="query")
@blp.response(200, RequestSchema(many=True))
@blp.paginate(SelectPage, page_size=50, max_page_size=MAX_PAGE_SIZE)
def list_requests(query):
    session = tenant_db()
    return Selection(session, service.visible_requests(session, current_principal(), **query))


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
    return _detail(service.decide(tenant_db(), current_principal(), request_id, **data))


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
