"""API shapes of the weekly fund report."""

from __future__ import annotations

from marshmallow import fields, validate

from propgroup.api.schema import Schema

MONEY = fields.Decimal(as_string=True)
ID = validate.Range(min=1, max=2**63 - 1)


class WeekSchema(Schema):
    week_ending = fields.Date()
    revision = fields.Integer()
    generated_at = fields.DateTime()
    generated_by = fields.String()


class FlowsSchema(Schema):
    opening = MONEY
    receipts = MONEY
    payments = MONEY
    closing = MONEY


class TypeTotalSchema(FlowsSchema):
    account_type = fields.String()


class CurrencyTotalSchema(FlowsSchema):
    currency = fields.String()
    by_type = fields.List(fields.Nested(TypeTotalSchema))


class AccountWeekSchema(FlowsSchema):
    account_id = fields.Integer()
    bank = fields.String()
    bank_branch = fields.String()
    account_name = fields.String()
    number = fields.String(allow_none=True)  # masked unless banking:numbers
    account_type = fields.String()
    currency = fields.String()


class SubmissionSchema(Schema):
    expected = fields.Boolean()
    confirmed_at = fields.DateTime(allow_none=True)
    confirmed_by = fields.String(allow_none=True)
    late = fields.Boolean()


class UnitWeekSchema(Schema):
    unit_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    kind = fields.String()
    parent_id = fields.Integer(allow_none=True)
    level = fields.Integer()
    totals = fields.List(fields.Nested(CurrencyTotalSchema))
    accounts = fields.List(fields.Nested(AccountWeekSchema))
    submission = fields.Nested(SubmissionSchema)


class WaitingSchema(Schema):
    unit_id = fields.Integer()
    code = fields.String()
    name = fields.String()
    late = fields.Boolean()


class ReportSchema(WeekSchema):
    week_starting = fields.Date()
    confirm_by = fields.DateTime()
    units = fields.List(fields.Nested(UnitWeekSchema))
    not_submitted = fields.List(fields.Nested(WaitingSchema))


class ReportQuerySchema(Schema):
    unit = fields.Integer(load_default=None, validate=ID)


class RegenerationInSchema(Schema):
    reason = fields.Raw(required=True)


class ConfirmationInSchema(Schema):
    unit_id = fields.Integer(required=True, strict=True, validate=ID)


class ConfirmationSchema(Schema):
    week_id = fields.Integer()
    unit_id = fields.Integer()
    confirmed_at = fields.DateTime()
