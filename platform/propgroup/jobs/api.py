"""``/api/jobs``: the group's background jobs and their outcome, failed ones included."""

from __future__ import annotations

from propgroup.api import Blueprint
from propgroup.api.auth import current_principal
from propgroup.api.idempotency import idempotent
from propgroup.api.pagination import MAX_PAGE_SIZE, Selection, SelectPage
from propgroup.jobs import service
from propgroup.jobs.schemas import OutboxMessageSchema, OutboxQuerySchema
from propgroup.tenancy.middleware import tenant_db

blp = Blueprint("jobs", __name__, url_prefix="/api/jobs", description="Background jobs")


@blp.route("")
@blp.arguments(OutboxQuerySchema, location="query")
@blp.response(200, OutboxMessageSchema(many=True))
@blp.paginate(SelectPage, page_size=50, max_page_size=MAX_PAGE_SIZE)
def list_jobs(query):
    session = tenant_db()
    return Selection(
        session, service.jobs_query(session, current_principal(), status=query.get("status"))
    )


@blp.route("/<int:message_id>")
@blp.response(200, OutboxMessageSchema)
def get_job(message_id: int):
    return service.get_job(tenant_db(), current_principal(), message_id)


@blp.route("/ping", methods=["POST"])
@idempotent
@blp.response(202, OutboxMessageSchema)
def ping():
    return service.ping(tenant_db(), current_principal())
