"""Marshmallow schemas for tenant templates (policy packs) and group files such as the demo."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from propgroup.approvals.policy import PolicySchema
from propgroup.archives.schedule import ArchivesTemplateSchema
from propgroup.budgets.categories import ChartSchema
from propgroup.identity.roles import ROLES
from propgroup.org.kinds import UNIT_KINDS
from propgroup.tenancy.settings import DEFAULT_TIMEZONE, is_iana_zone

# A unit's departments get the code "<unit>-<department>", which must fit org_units.code (40).
UNIT_CODE = validate.Regexp(r"^[A-Z0-9][A-Z0-9_-]{0,31}$", error="code must be 1-32 of A-Z 0-9 _ -")
DEPARTMENT_CODE = validate.Regexp(r"^[A-Z0-9]{1,7}$", error="code must be 1-7 of A-Z 0-9")


def _iana_zone(name: str) -> None:
    if not is_iana_zone(name):
        raise ValidationError(f"not an IANA timezone name (such as {DEFAULT_TIMEZONE})")


class TemplateInfoSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]{1,80}$"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    locale = fields.String(load_default="zh_CN", validate=validate.OneOf(["zh_CN", "en"]))
    timezone = fields.String(load_default=DEFAULT_TIMEZONE, validate=_iana_zone)
    currency = fields.String(load_default="CNY", validate=validate.Regexp(r"^[A-Z]{3}$"))


class DepartmentSchema(Schema):
    code = fields.String(required=True, validate=DEPARTMENT_CODE)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    name_en = fields.String(load_default=None, validate=validate.Length(max=200))


def _unique(items: list[dict[str, Any]], key: str, field: str) -> None:
    seen: set[Any] = set()
    for index, item in enumerate(items):
        if item[key] in seen:
            raise ValidationError({index: {key: [f"duplicate {key} {item[key]!r}"]}}, field)
        seen.add(item[key])


class TemplateSchema(Schema):
    """A policy pack under ``tenants/templates/``: what every new group of this kind starts with."""

    template = fields.Nested(TemplateInfoSchema, required=True)
    departments = fields.List(fields.Nested(DepartmentSchema), load_default=list)
    approvals = fields.Nested(PolicySchema, load_default=None)
    budgets = fields.Nested(ChartSchema, load_default=lambda: {"categories": []})
    archives = fields.Nested(
        ArchivesTemplateSchema, load_default=lambda: {"lock_mode": "governance", "retention": []}
    )

    @validates_schema
    def _departments_unique(self, data: dict[str, Any], **_: Any) -> None:
        _unique(data.get("departments", []), "code", "departments")


class UnitSpecSchema(Schema):
    code = fields.String(required=True, validate=UNIT_CODE)
    kind = fields.String(required=True, validate=validate.OneOf(UNIT_KINDS))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    parent = fields.String(load_default=None, validate=UNIT_CODE)


class RoleSpecSchema(Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    unit = fields.String(required=True, validate=UNIT_CODE)


class UserSpecSchema(Schema):
    login = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9._-]{2,63}$"))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True)
    roles = fields.List(fields.Nested(RoleSpecSchema), load_default=list)


class GroupInfoSchema(Schema):
    slug = fields.String(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    template = fields.String(required=True)
    demo_password = fields.String(load_default=None, validate=validate.Length(min=10, max=128))


class GroupSchema(Schema):
    """A whole group to provision: its tree and its people (``tenants/demo.toml``)."""

    tenant = fields.Nested(GroupInfoSchema, required=True)
    units = fields.List(fields.Nested(UnitSpecSchema), load_default=list)
    users = fields.List(fields.Nested(UserSpecSchema), load_default=list)

    @validates_schema
    def _references_resolve(self, data: dict[str, Any], **_: Any) -> None:
        units, users = data.get("units", []), data.get("users", [])
        _unique(units, "code", "units")
        _unique(users, "login", "users")
        codes = {unit["code"] for unit in units}
        for index, unit in enumerate(units):
            if unit["parent"] is not None and unit["parent"] not in codes:
                raise ValidationError({index: {"parent": ["unknown unit code"]}}, "units")
        if users and not data["tenant"].get("demo_password"):
            raise ValidationError(["users need tenant.demo_password to sign in"], "tenant")
