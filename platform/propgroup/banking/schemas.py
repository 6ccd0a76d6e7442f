"""API shapes of bank accounts and their requests. Numbers travel as shown to the caller (clear
or masked), never as stored; amounts as strings."""

from __future__ import annotations

from marshmallow import fields, validate

from propgroup.api.schema import Schema
from propgroup.banking.models import ACCOUNT_STATUSES, REQUEST_KINDS, REQUEST_STATUSES
from propgroup.db import BIGINT_MAX

ID = validate.Range(min=1, max=BIGINT_MAX)  # an id beyond a bigint is a 422, not a 500


class AccountSchema(Schema):
    id = fields.Integer()
    unit_id = fields.Integer()
    bank = fields.String()
    bank_branch = fields.String()
    account_name = fields.String()
    account_type = fields.String()
    currency = fields.String()
    purpose = fields.String()
    single_purpose = fields.Boolean()
    purpose_finished_on = fields.Date(allow_none=True)
    number = fields.String(
        allow_none=True, metadata={"description": "masked unless banking:numbers"}
    )
    status = fields.String()
    opened_on = fields.Date(allow_none=True)
    closed_on = fields.Date(allow_none=True)
    dormant_since = fields.Date(allow_none=True)


class SealSchema(Schema):
    kind = fields.String()
    keeper = fields.String()
    keeper_name = fields.String()
    since = fields.Date()


class SignatorySchema(Schema):
    login = fields.String()
    name = fields.String()
    since = fields.Date()


class AccountRequestSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    unit_id = fields.Integer()
    account_id = fields.Integer(allow_none=True)
    form = fields.Dict()
    origin = fields.String()
    status = fields.String()
    approval_request_id = fields.Integer(allow_none=True)
    departed_user_id = fields.Integer(allow_none=True)
    created_by = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)


class AccountDetailSchema(AccountSchema):
    book_balance = fields.Decimal(as_string=True)
    seals = fields.List(fields.Nested(SealSchema))
    signatories = fields.List(fields.Nested(SignatorySchema))
    requests = fields.List(fields.Nested(AccountRequestSchema))
    closing_problems = fields.List(fields.String())


class AccountQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(ACCOUNT_STATUSES))


class AccountRequestQuerySchema(Schema):
    status = fields.String(validate=validate.OneOf(REQUEST_STATUSES))
    account_id = fields.Integer(validate=ID)


class AccountRequestInSchema(Schema):
    """Passed on as given: the service checks the form of its kind and names every wrong field."""

    kind = fields.String(required=True, validate=validate.OneOf(list(REQUEST_KINDS)))
    unit_id = fields.Raw(load_default=None)
    account_id = fields.Raw(load_default=None)
    form = fields.Raw(required=True)


class FormInSchema(Schema):
    form = fields.Raw(required=True)


class OpeningInSchema(Schema):
    number = fields.Raw(required=True, metadata={"description": "8 to 32 digits"})
    opened_on = fields.Date(required=True)
    document_ids = fields.List(fields.Integer(strict=True, validate=ID), load_default=list)


class ExistingInSchema(Schema):
    """Passed on as given (see registration.ExistingAccountSchema)."""

    class Meta:
        unknown = "include"


class BankingSettingsSchema(Schema):
    dormancy_months = fields.Integer(required=True, strict=True, validate=validate.Range(1, 120))
