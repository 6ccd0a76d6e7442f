"""API shapes of approval requests. Amounts travel as strings, never floats."""

from __future__ import annotations

from marshmallow import fields, validate

from propgroup.api.schema import Schema
from propgroup.approvals.models import REQUEST_STATUSES
from propgroup.approvals.policy import REQUEST_TYPES
from propgroup.approvals.service import PAYMENT_METHODS

MONEY = fields.Decimal(as_string=True)


class LineInSchema(Schema):
    category = fields.String(required=True, validate=validate.Length(min=1, max=60))
    description = fields.String(required=True, validate=validate.Length(min=1, max=500))
    # Checked by the service (positive, 2 decimals) so every caller gets the same message.
    amount = fields.Raw(required=True)
    budget_line = fields.String(load_default=None, validate=validate.Length(max=60))


class RequestInSchema(Schema):
    request_type = fields.String(required=True, validate=validate.OneOf(list(REQUEST_TYPES)))
    unit_id = fields.Integer(required=True, validate=validate.Range(min=1))
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    payee = fields.String(required=True, validate=validate.Length(min=1, max=200))
    lines = fields.List(fields.Nested(LineInSchema), required=True, validate=validate.Length(min=1))
    total = fields.Raw(load_default=None)
    amount_in_words = fields.String(load_default=None)


class LineSchema(Schema):
    category = fields.String()
    description = fields.String()
    amount = MONEY
    budget_line = fields.String(allow_none=True)


class StepSchema(Schema):
    revision = fields.Integer()
    seq = fields.Integer()
    role = fields.String()
    unit_id = fields.Integer()
    reason = fields.String(allow_none=True)
    status = fields.String()
    decided_by = fields.Integer(allow_none=True)
    acting_for = fields.Integer(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    comment = fields.String(allow_none=True)


class RequestSchema(Schema):
    id = fields.Integer()
    request_type = fields.String()
    unit_id = fields.Integer()
    requester_id = fields.Integer()
    title = fields.String()
    payee = fields.String()
    currency = fields.String()
    total_amount = MONEY
    status = fields.String()
    revision = fields.Integer()
    current_step = fields.Integer(allow_none=True)
    budget_overrun = fields.Boolean()
    created_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)


class RequestDetailSchema(RequestSchema):
    amount_in_words = fields.String()
    lines = fields.List(fields.Nested(LineSchema))
    steps = fields.List(fields.Nested(StepSchema))


class RequestQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(REQUEST_STATUSES))
    unit_id = fields.Integer(validate=validate.Range(min=1))
    mine = fields.Boolean(load_default=False)
    overdue = fields.Boolean(load_default=False)


class DecisionSchema(Schema):
    step = fields.Integer(required=True, validate=validate.Range(min=1))
    approve = fields.Boolean(required=True)
    comment = fields.String(load_default=None, validate=validate.Length(max=2000))


class PaymentInSchema(Schema):
    method = fields.String(required=True, validate=validate.OneOf(PAYMENT_METHODS))
    reference = fields.String(load_default=None, validate=validate.Length(max=60))


class PaymentSchema(Schema):
    id = fields.Integer()
    request_id = fields.Integer()
    method = fields.String()
    reference = fields.String(allow_none=True)
    amount = MONEY
    paid_by = fields.Integer()
    paid_at = fields.DateTime()


class DelegationInSchema(Schema):
    delegate_login = fields.String(required=True)
    starts_on = fields.Date(required=True)
    ends_on = fields.Date(required=True)
    request_types = fields.List(fields.String(), load_default=None)


class DelegationSchema(Schema):
    id = fields.Integer()
    delegate_id = fields.Integer()
    starts_on = fields.Date()
    ends_on = fields.Date()
    request_types = fields.List(fields.String(), allow_none=True)


class PolicyVersionSchema(Schema):
    version = fields.Integer()
    document = fields.Dict()
    note = fields.String(allow_none=True)
    created_by = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class PolicyInSchema(Schema):
    document = fields.Dict(required=True)
    note = fields.String(required=True, validate=validate.Length(min=1, max=500))
