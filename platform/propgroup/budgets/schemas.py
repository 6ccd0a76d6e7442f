"""API shapes of budgets. Amounts travel as strings, never floats; the service checks them, so
every caller (API, portal, import) gets the same message for the same mistake."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from propgroup.api.schema import Schema
from propgroup.budgets.figures import VERSION_SETS
from propgroup.budgets.models import HORIZONS, PLAN_KINDS, VERSION_STATUSES
from propgroup.budgets.periods import FISCAL_YEARS

MONEY = fields.Decimal(as_string=True)
YEAR = validate.Range(min=FISCAL_YEARS[0], max=FISCAL_YEARS[1])
ID = validate.Range(min=1, max=2**63 - 1)


class CategorySchema(Schema):
    code = fields.String()
    name = fields.String()
    parent_id = fields.Integer(allow_none=True)
    plan_kind = fields.String()
    side = fields.String()
    is_leaf = fields.Boolean()
    depth = fields.Integer()


class CategoryInSchema(Schema):
    """Passed on as given: the chart's own schema checks it, for templates and callers alike."""

    code = fields.String(required=True)
    name = fields.String(required=True)
    parent = fields.String(load_default=None)
    plan_kind = fields.String(load_default=None)
    side = fields.String(load_default=None)


class SeasonInSchema(Schema):
    fiscal_year = fields.Integer(required=True, strict=True, validate=YEAR)
    deadline = fields.Date(required=True)
    tolerance = fields.Raw(load_default="0.00")


class SeasonSchema(Schema):
    fiscal_year = fields.Integer()
    deadline = fields.Date()
    tolerance = MONEY
    closed_at = fields.DateTime(allow_none=True)


class ProgressSchema(Schema):
    fiscal_year = fields.Integer()
    deadline = fields.Date()
    open = fields.Boolean()
    units = fields.List(fields.Dict())


class TargetInSchema(Schema):
    profit = fields.Raw(required=True)


class TargetSchema(Schema):
    unit_id = fields.Integer()
    profit = MONEY


class PlanInSchema(Schema):
    unit_id = fields.Integer(required=True, strict=True, validate=ID)
    # A medium-term plan's first year; the service checks its last one.
    fiscal_year = fields.Integer(required=True, strict=True, validate=YEAR)
    plan_kind = fields.String(required=True, validate=validate.OneOf(list(PLAN_KINDS)))
    horizon = fields.String(load_default="annual", validate=validate.OneOf(list(HORIZONS)))


class PlanQuerySchema(Schema):
    unit_id = fields.Integer(validate=ID)
    fiscal_year = fields.Integer(validate=YEAR)
    plan_kind = fields.String(validate=validate.OneOf(list(PLAN_KINDS)))
    horizon = fields.String(validate=validate.OneOf(list(HORIZONS)))


class VersionSchema(Schema):
    id = fields.Integer()
    plan_id = fields.Integer()
    number = fields.Integer()
    status = fields.String(validate=validate.OneOf(VERSION_STATUSES))
    based_on_id = fields.Integer(allow_none=True)
    approval_request_id = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)
    created_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    approved_at = fields.DateTime(allow_none=True)
    locked_at = fields.DateTime(allow_none=True)


class PlanSchema(Schema):
    id = fields.Integer()
    unit_id = fields.Integer()
    fiscal_year = fields.Integer()
    plan_kind = fields.String()
    horizon = fields.String()
    created_at = fields.DateTime()


class PlanDetailSchema(PlanSchema):
    versions = fields.List(fields.Nested(VersionSchema))


class PlanLineSchema(Schema):
    category = fields.String()
    name = fields.String()
    owner_department = fields.String(allow_none=True)
    owner_login = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    amounts = fields.List(MONEY)  # one per period of the version
    quarters = fields.List(MONEY, allow_none=True)  # none in a medium-term plan
    total = MONEY


class VersionDetailSchema(VersionSchema):
    horizon = fields.String()
    periods = fields.List(fields.Integer())  # months 1-12, or a medium-term plan's years
    lines = fields.List(fields.Nested(PlanLineSchema))


class PlanLineInSchema(Schema):
    category = fields.String(required=True)
    # An amount per period (12 months, or a medium-term plan's 3 years) as a list, or
    # {month or year: amount}; the service checks every value.
    amounts = fields.Raw(required=True)
    owner_department = fields.String(load_default=None)
    owner_login = fields.String(load_default=None)
    note = fields.String(load_default=None, validate=validate.Length(max=500))


class LinesInSchema(Schema):
    lines = fields.List(fields.Nested(PlanLineInSchema), required=True)


class RevisionInSchema(Schema):
    note = fields.String(load_default=None, validate=validate.Length(max=2000))


class ChangeSchema(Schema):
    category = fields.String()
    before = fields.List(MONEY)
    after = fields.List(MONEY)
    difference = fields.List(MONEY)
    owner_before = fields.String(allow_none=True)
    owner_after = fields.String(allow_none=True)


class FiguresQuerySchema(Schema):
    unit_id = fields.Integer(required=True, validate=ID)
    fiscal_year = fields.Integer(required=True, validate=YEAR)
    versions = fields.String(load_default="approved", validate=validate.OneOf(VERSION_SETS))
    month_from = fields.Integer(load_default=1, validate=validate.Range(min=1, max=12))
    month_to = fields.Integer(load_default=12, validate=validate.Range(min=1, max=12))
    depth = fields.Integer(load_default=1, validate=validate.Range(min=0, max=3))

    @validates_schema
    def _months_in_order(self, data: dict[str, Any], **_: Any) -> None:
        if data["month_from"] > data["month_to"]:
            raise ValidationError("month_from comes before month_to", "month_from")


class FigureSchema(Schema):
    unit = fields.String()
    category = fields.String()
    side = fields.String()
    plan_kind = fields.String()
    plan = MONEY
    actual = MONEY
    variance = MONEY
    rate = fields.Decimal(as_string=True, allow_none=True)
    alert = fields.String(allow_none=True)


class FiguresSchema(Schema):
    unit = fields.String()
    year = fields.Integer()
    versions = fields.String()
    months = fields.List(fields.Integer())
    rows = fields.List(fields.Nested(FigureSchema))


class ImportQuerySchema(Schema):
    filename = fields.String(required=True, validate=validate.Length(min=1, max=255))


class ImportSchema(Schema):
    id = fields.Integer()
    filename = fields.String()
    sha256 = fields.String()
    row_count = fields.Integer()
    total = MONEY
    imported_at = fields.DateTime()
    reversed_at = fields.DateTime(allow_none=True)
    reversed_by = fields.Integer(allow_none=True)
    reversal_reason = fields.String(allow_none=True)


class ReversalInSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class IncomeInSchema(Schema):
    unit_id = fields.Integer(required=True, strict=True, validate=ID)
    category = fields.String(required=True)
    fiscal_year = fields.Integer(required=True, strict=True, validate=YEAR)
    month = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=12))
    amount = fields.Raw(required=True)
    note = fields.String(load_default=None, validate=validate.Length(max=500))


class ActualSchema(Schema):
    id = fields.Integer()
    unit_id = fields.Integer()
    category_id = fields.Integer()
    fiscal_year = fields.Integer()
    month = fields.Integer()
    amount = MONEY
    source = fields.String()
    reverses_id = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)


class RemainingQuerySchema(Schema):
    unit_id = fields.Integer(required=True, validate=ID)
    budget_line = fields.String(required=True, validate=validate.Length(min=1, max=60))


class RemainingSchema(Schema):
    unit_id = fields.Integer()
    budget_line = fields.String()
    fiscal_year = fields.Integer()
    remaining = MONEY
