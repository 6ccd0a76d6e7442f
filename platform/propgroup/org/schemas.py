"""API shapes of org units."""

from __future__ import annotations

from marshmallow import fields, validate

from propgroup.api.schema import Schema
from propgroup.org.kinds import UNIT_KINDS

CODE = validate.Regexp(r"^[A-Z0-9][A-Z0-9_-]{0,39}$", error="code must be 1-40 of A-Z 0-9 _ -")


class UnitSchema(Schema):
    id = fields.Integer(dump_only=True)
    parent_id = fields.Integer(dump_only=True, allow_none=True)
    kind = fields.String(dump_only=True)
    code = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    depth = fields.Integer(dump_only=True)
    active = fields.Boolean(dump_only=True)


class UnitQuerySchema(Schema):
    under = fields.Integer(validate=validate.Range(min=1))
    kind = fields.String(validate=validate.OneOf(UNIT_KINDS))


class UnitCreateSchema(Schema):
    code = fields.String(required=True, validate=CODE)
    kind = fields.String(required=True, validate=validate.OneOf(UNIT_KINDS))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    parent_id = fields.Integer(required=True, validate=validate.Range(min=1))


class UnitRenameSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class UnitMoveSchema(Schema):
    parent_id = fields.Integer(required=True, validate=validate.Range(min=1))
