"""``/api/org/units``: the unit tree, as far as the caller may see it."""

from __future__ import annotations

from propgroup.api import Blueprint
from propgroup.api.auth import current_principal
from propgroup.api.idempotency import idempotent
from propgroup.api.pagination import MAX_PAGE_SIZE, Selection, SelectPage
from propgroup.org import service
from propgroup.org.schemas import (
    UnitCreateSchema,
    UnitMoveSchema,
    UnitQuerySchema,
    UnitRenameSchema,
    UnitSchema,
)
from propgroup.tenancy.middleware import tenant_db

blp = Blueprint("org", __name__, url_prefix="/api/org", description="Organisation units")


@blp.route("/units")
@blp.arguments(UnitQuerySchema, location="query")
@blp.response(200, UnitSchema(many=True))
@blp.paginate(SelectPage, page_size=50, max_page_size=MAX_PAGE_SIZE)
def list_units(query):
    session, principal = tenant_db(), current_principal()
    under = service.read_unit(session, principal, query["under"]) if "under" in query else None
    units = service.visible_units_query(
        session, principal, under=under, kind=query.get("kind"), rows=True
    )
    return Selection(session, units, rows=True)


@blp.route("/units", methods=["POST"])
@idempotent
@blp.arguments(UnitCreateSchema)
@blp.response(201, UnitSchema)
def create_unit(data):
    return service.add_unit(tenant_db(), current_principal(), **data)


@blp.route("/units/<int:unit_id>")
@blp.response(200, UnitSchema)
def get_unit(unit_id: int):
    return service.read_unit(tenant_db(), current_principal(), unit_id)


@blp.route("/units/<int:unit_id>", methods=["PATCH"])
@blp.arguments(UnitRenameSchema)
@blp.response(200, UnitSchema)
def rename_unit(data, unit_id: int):
    return service.rename_unit(tenant_db(), current_principal(), unit_id, data["name"])


@blp.route("/units/<int:unit_id>/move", methods=["POST"])
@idempotent
@blp.arguments(UnitMoveSchema)
@blp.response(200, UnitSchema)
def move_unit(data, unit_id: int):
    return service.relocate_unit(tenant_db(), current_principal(), unit_id, data["parent_id"])
