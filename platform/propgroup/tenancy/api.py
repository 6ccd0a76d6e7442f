"""``GET /api/tenant``: which group this address belongs to (public: a sign-in page shows it)."""

from __future__ import annotations

from marshmallow import fields

from propgroup.api import Blueprint
from propgroup.api.schema import Schema
from propgroup.tenancy.middleware import current_tenant

blp = Blueprint("tenant", __name__, url_prefix="/api/tenant", description="The current tenant")


class TenantInfoSchema(Schema):
    slug = fields.String()
    name = fields.String()
    status = fields.String()


@blp.route("")
@blp.response(200, TenantInfoSchema)
def tenant_info():
    return current_tenant()
