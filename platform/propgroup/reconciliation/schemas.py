"""API shapes of bank reconciliation. Amounts are strings (exact decimals), signed + in, − out."""

from __future__ import annotations

from marshmallow import fields, validate

from propgroup.api.schema import Schema

MONEY = fields.Decimal(as_string=True)
ID = validate.Range(min=1, max=2**63 - 1)


class MatchSettingsSchema(Schema):
    match_window_days = fields.Raw(required=True)


class StatementSchema(Schema):
    id = fields.Integer()
    account_id = fields.Integer()
    document_id = fields.Integer()
    filename = fields.String()
    sha256 = fields.String()
    first_day = fields.Date()
    last_day = fields.Date()
    line_count = fields.Integer()
    closing_balance = fields.Decimal(as_string=True, allow_none=True)
    archive_item_id = fields.Integer(allow_none=True)
    imported_at = fields.DateTime()


class JournalImportSchema(Schema):
    id = fields.Integer()
    account_id = fields.Integer()
    filename = fields.String()
    sha256 = fields.String()
    line_count = fields.Integer()
    imported_at = fields.DateTime()


class SideQuerySchema(Schema):
    matched = fields.Boolean(load_default=None)
    since = fields.Date(load_default=None)
    until = fields.Date(load_default=None)


class StatementLineSchema(Schema):
    id = fields.Integer()
    statement_id = fields.Integer()
    line_no = fields.Integer()
    value_date = fields.Date()
    amount = MONEY
    reference = fields.String(allow_none=True)
    counterparty = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    balance = fields.Decimal(as_string=True, allow_none=True)
    match_id = fields.Integer(allow_none=True)
    book_entry_id = fields.Integer(allow_none=True)
    method = fields.String(allow_none=True)


class JournalEntrySchema(Schema):
    id = fields.Integer()
    entry_date = fields.Date()
    amount = MONEY
    reference = fields.String(allow_none=True)
    counterparty = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    source = fields.String()
    match_id = fields.Integer(allow_none=True)
    statement_line_id = fields.Integer(allow_none=True)
    method = fields.String(allow_none=True)


class JournalEntryInSchema(Schema):
    """Checked by the service, so the API and the portal say the same about a mistake."""

    entry_date = fields.Raw(required=True)
    amount = fields.Raw(required=True)
    reference = fields.Raw(load_default=None)
    counterparty = fields.Raw(load_default=None)
    description = fields.Raw(load_default=None)
    opening = fields.Raw(load_default=False)


class AutoMatchInSchema(Schema):
    window_days = fields.Integer(load_default=None, strict=True)


class AutoMatchSchema(Schema):
    window_days = fields.Integer()
    lines = fields.Integer()
    entries = fields.Integer()
    matched = fields.Integer()
    by_reference = fields.Integer()


class MatchInSchema(Schema):
    statement_line_id = fields.Integer(required=True, strict=True, validate=ID)
    book_entry_id = fields.Integer(required=True, strict=True, validate=ID)


class MatchSchema(Schema):
    id = fields.Integer()
    account_id = fields.Integer()
    statement_line_id = fields.Integer()
    book_entry_id = fields.Integer()
    method = fields.String()
    matched_by = fields.Integer(allow_none=True)
    matched_at = fields.DateTime()


class PrepareInSchema(Schema):
    month = fields.Raw(required=True)
    bank_balance = fields.Raw(load_default=None)


class RefreshInSchema(Schema):
    bank_balance = fields.Raw(load_default=None)


class ReconcilingItemInSchema(Schema):
    side = fields.Raw(required=True)
    amount = fields.Raw(required=True)
    reason = fields.Raw(required=True)


class ReasonInSchema(Schema):
    reason = fields.Raw(required=True)


class ReconcilingItemSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    on_day = fields.Date()
    amount = MONEY
    book_entry_id = fields.Integer(allow_none=True)
    statement_line_id = fields.Integer(allow_none=True)
    reference = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)


class ReconciliationSchema(Schema):
    id = fields.Integer()
    account_id = fields.Integer()
    month = fields.String()  # YYYY-MM
    status = fields.String()
    book_balance = MONEY
    bank_balance = fields.Decimal(as_string=True, allow_none=True)
    bank_balance_entered = fields.Boolean()
    adjusted_book = MONEY
    adjusted_bank = fields.Decimal(as_string=True, allow_none=True)
    difference = fields.Decimal(as_string=True, allow_none=True)
    prepared_by = fields.Integer()
    prepared_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    signed_by = fields.Integer(allow_none=True)
    signed_at = fields.DateTime(allow_none=True)
    archive_item_id = fields.Integer(allow_none=True)


class ReconciliationDetailSchema(ReconciliationSchema):
    items = fields.List(fields.Nested(ReconcilingItemSchema))


class OverdueQuerySchema(Schema):
    unit_id = fields.Integer(required=True, strict=False, validate=ID)


class OverdueSchema(Schema):
    account_id = fields.Integer()
    bank = fields.String()
    number = fields.String(allow_none=True)
    unit_id = fields.Integer()
    unit_code = fields.String()
    unit_name = fields.String()
    due_month = fields.String()  # YYYY-MM
    first_missing = fields.String()
    months_behind = fields.Integer()
