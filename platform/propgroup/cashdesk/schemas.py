"""API shapes of the cash desk. Inputs pass through as given (fields.Raw) where the service
checks them, so the API and the portal get the same message for the same mistake."""

from __future__ import annotations

from marshmallow import fields, validate

from propgroup.api.schema import Schema

ID = validate.Range(min=1, max=2**63 - 1)


def _money() -> fields.Decimal:
    return fields.Decimal(as_string=True, allow_none=True)


class BookInSchema(Schema):
    account_id = fields.Integer(required=True, validate=ID)
    received_on = fields.Date(required=True)
    bank = fields.Raw(required=True)
    cheque_type = fields.Raw(required=True)
    first_number = fields.Raw(required=True)
    last_number = fields.Raw(required=True)


class BookSchema(Schema):
    id = fields.Integer()
    account_id = fields.Integer()
    received_on = fields.Date()
    bank = fields.String()
    cheque_type = fields.String()
    first_number = fields.String()
    last_number = fields.String()
    registered_by = fields.Integer()


class ChequeInSchema(Schema):
    account_id = fields.Integer(required=True, validate=ID)
    cheque_type = fields.Raw(required=True)
    purpose = fields.Raw(required=True)
    request_id = fields.Integer(load_default=None, validate=ID)
    blank_approval_id = fields.Integer(load_default=None, validate=ID)
    holder = fields.Raw(load_default=None)
    amount = fields.Raw(load_default=None)
    payee = fields.Raw(load_default=None)


class ChequeSchema(Schema):
    id = fields.Integer()
    account_id = fields.Integer()
    book_id = fields.Integer()
    number = fields.String()
    state = fields.String()
    holder_id = fields.Integer()
    request_id = fields.Integer(allow_none=True)
    blank_approval_id = fields.Integer(allow_none=True)
    limit_amount = _money()
    amount = _money()
    payee = fields.String(allow_none=True)
    purpose = fields.String()
    issued_on = fields.Date()
    accounted_on = fields.Date(allow_none=True)
    book_entry_id = fields.Integer(allow_none=True)
    void_reason = fields.String(allow_none=True)
    voided_on = fields.Date(allow_none=True)
    overdue = fields.Boolean()


class ChequeQuerySchema(Schema):
    account_id = fields.Integer(validate=ID)
    state = fields.String(validate=validate.OneOf(("issued", "accounted", "voided")))
    overdue = fields.Boolean()


class AccountForInSchema(Schema):
    """A blank cheque's amount and payee; a request cheque keeps those it was written with."""

    amount = fields.Raw(load_default=None)
    payee = fields.Raw(load_default=None)
    paid_on = fields.Date(required=True)


class VoidInSchema(Schema):
    reason = fields.Raw(required=True)


class BlankInSchema(Schema):
    account_id = fields.Integer(required=True, validate=ID)
    holder = fields.Raw(required=True)
    limit_amount = fields.Raw(required=True)
    purpose = fields.Raw(required=True)


class DecisionInSchema(Schema):
    approve = fields.Boolean(required=True)
    comment = fields.Raw(load_default=None)


class BlankSchema(Schema):
    id = fields.Integer()
    account_id = fields.Integer()
    holder_id = fields.Integer()
    limit_amount = _money()
    purpose = fields.String()
    status = fields.String()
    requested_by = fields.Integer()
    decided_by = fields.Integer(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    comment = fields.String(allow_none=True)


class CashUnitQuerySchema(Schema):
    unit_id = fields.Integer(validate=ID)


class CashEntryInSchema(Schema):
    unit_id = fields.Integer(required=True, validate=ID)
    entry_date = fields.Date(required=True)
    amount = fields.Raw(required=True)
    description = fields.Raw(required=True)
    reference = fields.Raw(load_default=None)


class CashEntrySchema(Schema):
    id = fields.Integer()
    unit_id = fields.Integer()
    entry_date = fields.Date()
    amount = _money()
    reference = fields.String(allow_none=True)
    description = fields.String()
    source = fields.String()


class CountInSchema(Schema):
    unit_id = fields.Integer(required=True, validate=ID)
    kind = fields.Raw(required=True)
    counted_on = fields.Date(required=True)
    lines = fields.Raw(required=True)
    explanation = fields.Raw(load_default=None)


class CountLineSchema(Schema):
    denomination = _money()
    quantity = fields.Integer()


class CountSchema(Schema):
    id = fields.Integer()
    unit_id = fields.Integer()
    kind = fields.String()
    counted_on = fields.Date()
    counted_total = _money()
    book_balance = _money()
    explanation = fields.String(allow_none=True)
    counted_by = fields.Integer()
    reviewed_by = fields.Integer(allow_none=True)
    reviewed_at = fields.DateTime(allow_none=True)
    lines = fields.List(fields.Nested(CountLineSchema))


class CountQuerySchema(CashUnitQuerySchema):
    unreviewed = fields.Boolean()


class AlertSchema(Schema):
    id = fields.Integer()
    unit_id = fields.Integer()
    raised_on = fields.Date()
    balance = _money()
    cash_limit = _money()


class AdvanceInSchema(Schema):
    """Petty cash is lent against an approved advance request: its amount, to its requester."""

    unit_id = fields.Integer(required=True, validate=ID)
    request_id = fields.Integer(required=True, validate=ID)


class AdvanceSchema(Schema):
    id = fields.Integer()
    unit_id = fields.Integer()
    holder_id = fields.Integer()
    request_id = fields.Integer(allow_none=True)
    amount = _money()
    purpose = fields.String()
    advanced_on = fields.Date()
    due_on = fields.Date()
    returned_on = fields.Date(allow_none=True)


class AdvanceQuerySchema(CashUnitQuerySchema):
    open_only = fields.Boolean()


class CashdeskSettingsSchema(Schema):
    cash_limit = fields.Raw(required=True)
    reminder_days = fields.Raw(required=True)
