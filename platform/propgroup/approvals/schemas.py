"""API shapes of approval requests. Amounts travel as strings, never floats."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema
from marshmallow.utils import get_value

from propgroup.api.schema import Schema
from propgroup.approvals import deadlines
from propgroup.approvals.models import BUSINESS_KINDS, REQUEST_STATUSES
from propgroup.approvals.policy import ALL_REQUEST_TYPES, REQUEST_TYPES
from propgroup.approvals.service import PAYMENT_METHODS
from propgroup.storage.schemas import DocumentSchema

MONEY = fields.Decimal(as_string=True)


class LineInSchema(Schema):
    category = fields.String(required=True, validate=validate.Length(min=1, max=60))
    description = fields.String(required=True, validate=validate.Length(min=1, max=500))
    # Checked by the service (positive, 2 decimals) so every caller gets the same message.
    amount = fields.Raw(required=True)
    budget_line = fields.String(load_default=None, validate=validate.Length(max=60))


class RequestContentSchema(Schema):
    """What the requester writes, on a new request and on every revision of it."""

    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    payee = fields.String(required=True, validate=validate.Length(min=1, max=200))
    lines = fields.List(fields.Nested(LineInSchema), required=True, validate=validate.Length(min=1))
    total = fields.Raw(load_default=None)
    amount_in_words = fields.String(load_default=None)
    # R-CASH-3: the business the money is for; an expense claim may name the advance it reports.
    business_kind = fields.String(load_default=None, validate=validate.OneOf(BUSINESS_KINDS))
    business_ended_on = fields.Date(load_default=None)
    settles_request_id = fields.Integer(
        load_default=None, validate=validate.Range(min=1, max=2**63 - 1)
    )


class RequestInSchema(RequestContentSchema):
    request_type = fields.String(required=True, validate=validate.OneOf(list(REQUEST_TYPES)))
    unit_id = fields.Integer(required=True, validate=validate.Range(min=1))


class LineSchema(Schema):
    revision = fields.Integer()
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


def _report_due_on(request: Any) -> str | None:
    due = deadlines.report_due_on(
        get_value(request, "business_kind"), get_value(request, "business_ended_on")
    )
    return due.isoformat() if due else None


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
    business_kind = fields.String(allow_none=True)
    business_ended_on = fields.Date(allow_none=True)
    report_due_on = fields.Function(_report_due_on)
    reported_late = fields.Boolean()
    settles_request_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)


class AttachmentQuerySchema(Schema):
    filename = fields.String(required=True, validate=validate.Length(min=1, max=255))


class RequestDetailSchema(RequestSchema):
    amount_in_words = fields.String()
    lines = fields.List(fields.Nested(LineSchema))
    line_history = fields.List(fields.Nested(LineSchema))
    steps = fields.List(fields.Nested(StepSchema))
    advance_overdue = fields.Boolean()
    attachments = fields.List(fields.Nested(DocumentSchema))


def _in_cents(amount: Decimal) -> None:
    try:
        in_cents = amount.is_finite() and amount == amount.quantize(Decimal("0.01"))
    except InvalidOperation:  # too many digits to quantize
        in_cents = False
    if not in_cents:
        raise ValidationError("an amount with at most 2 decimals")


class RequestQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(REQUEST_STATUSES))
    request_type = fields.String(validate=validate.OneOf(list(ALL_REQUEST_TYPES)))
    unit_id = fields.Integer(validate=validate.Range(min=1))
    mine = fields.Boolean(load_default=False)
    overdue = fields.Boolean(load_default=False)
    advances_overdue = fields.Boolean(load_default=False)
    submitted_from = fields.Date()
    submitted_to = fields.Date()
    amount_min = fields.Decimal(validate=[validate.Range(min=0), _in_cents])
    amount_max = fields.Decimal(validate=[validate.Range(min=0), _in_cents])

    @validates_schema
    def _ranges_in_order(self, data: dict[str, Any], **_kwargs: Any) -> None:
        for low, high in (("submitted_from", "submitted_to"), ("amount_min", "amount_max")):
            if low in data and high in data and data[low] > data[high]:
                raise ValidationError(f"{low} is after {high}", field_name=low)


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
