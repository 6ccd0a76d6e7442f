"""API shapes of archives. Item specs pass through as given: the service's schema checks them, so
every caller (API, filing hooks) gets the same message for the same mistake."""

from __future__ import annotations

from marshmallow import fields, validate

from propgroup.api.schema import Schema
from propgroup.archives.models import ITEM_STATUSES
from propgroup.budgets.periods import FISCAL_YEARS

ID = validate.Range(min=1, max=2**63 - 1)
YEAR = validate.Range(min=FISCAL_YEARS[0], max=FISCAL_YEARS[1])


class RuleSchema(Schema):
    class_code = fields.String()
    name = fields.String()
    years = fields.Integer(allow_none=True)
    permanent = fields.Boolean()
    counted_from = fields.String()


class PeriodInSchema(Schema):
    years = fields.Raw(load_default=None)
    permanent = fields.Raw(load_default=False)


class RuleChangedSchema(RuleSchema):
    items_recomputed = fields.Integer()


class ItemInSchema(Schema):
    class_code = fields.Raw(required=True)
    unit_id = fields.Raw(required=True)
    fiscal_year = fields.Raw(required=True)
    period = fields.Raw(load_default=None)
    volume = fields.Raw(load_default=None)
    number_from = fields.Raw(load_default=None)
    number_to = fields.Raw(load_default=None)
    title = fields.Raw(required=True)
    disposed_on = fields.Raw(load_default=None)


class ItemSchema(Schema):
    id = fields.Integer()
    class_code = fields.String()
    unit_id = fields.Integer()
    fiscal_year = fields.Integer()
    period = fields.String(allow_none=True)
    volume = fields.String(allow_none=True)
    number_from = fields.Integer(allow_none=True)
    number_to = fields.Integer(allow_none=True)
    title = fields.String()
    disposed_on = fields.Date(allow_none=True)
    kept_until = fields.Date(allow_none=True)
    due_on = fields.Date(allow_none=True)
    status = fields.String()
    held = fields.Boolean()
    source_type = fields.String(allow_none=True)
    source_id = fields.Integer(allow_none=True)
    destruction_list_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class FileSchema(Schema):
    id = fields.Integer()
    document_id = fields.Integer()
    filename = fields.String()
    size_bytes = fields.Integer()
    sha256 = fields.String()
    filed_at = fields.DateTime()
    destroyed_at = fields.DateTime(allow_none=True)


class ItemDetailSchema(ItemSchema):
    files = fields.List(fields.Nested(FileSchema))


class ItemQuerySchema(Schema):
    class_code = fields.String()
    unit_id = fields.Integer(validate=ID)
    fiscal_year = fields.Integer(validate=YEAR)
    text = fields.String(validate=validate.Length(min=1, max=100))
    status = fields.String(validate=validate.OneOf(ITEM_STATUSES))
    due_by = fields.Date()


class DisposalInSchema(Schema):
    disposed_on = fields.Date(required=True)


class FileQuerySchema(Schema):
    filename = fields.String(required=True, validate=validate.Length(min=1, max=255))


class HoldInSchema(Schema):
    reason = fields.String(required=True)
    item_id = fields.Integer(load_default=None, strict=True, validate=ID)
    unit_id = fields.Integer(load_default=None, strict=True, validate=ID)
    fiscal_year = fields.Integer(load_default=None, strict=True, validate=YEAR)


class ReleaseInSchema(Schema):
    reason = fields.String(required=True)


class HoldSchema(Schema):
    id = fields.Integer()
    item_id = fields.Integer(allow_none=True)
    unit_id = fields.Integer(allow_none=True)
    fiscal_year = fields.Integer(allow_none=True)
    reason = fields.String()
    placed_by = fields.Integer()
    placed_at = fields.DateTime()
    released_by = fields.Integer(allow_none=True)
    released_at = fields.DateTime(allow_none=True)
    release_reason = fields.String(allow_none=True)


class HoldQuerySchema(Schema):
    active = fields.Boolean()


class AppraisalInSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["keep", "destroy"]))
    reason = fields.String(required=True)
    keep_until = fields.Date(load_default=None)


class ConfirmInSchema(Schema):
    agree = fields.Boolean(required=True)
    comment = fields.String(required=True)


class AppraisalSchema(Schema):
    id = fields.Integer()
    item_id = fields.Integer()
    decision = fields.String()
    keep_until = fields.Date(allow_none=True)
    reason = fields.String()
    proposed_by = fields.Integer()
    proposed_at = fields.DateTime()
    confirmed_by = fields.Integer(allow_none=True)
    confirmed_at = fields.DateTime(allow_none=True)
    agreed = fields.Boolean(allow_none=True)


class ListInSchema(Schema):
    unit_id = fields.Integer(required=True, strict=True, validate=ID)
    item_ids = fields.List(
        fields.Integer(strict=True), required=True, validate=validate.Length(min=1, max=10000)
    )
    note = fields.String(load_default=None, validate=validate.Length(max=2000))


class CarryOutInSchema(Schema):
    archives_supervisor = fields.String(required=True)
    accounting_supervisor = fields.String(required=True)


class ListSchema(Schema):
    id = fields.Integer()
    unit_id = fields.Integer()
    status = fields.String()
    approval_request_id = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)
    created_by = fields.Integer()
    created_at = fields.DateTime()
    archives_supervisor = fields.Integer(allow_none=True)
    accounting_supervisor = fields.Integer(allow_none=True)
    destroyed_by = fields.Integer(allow_none=True)
    destroyed_at = fields.DateTime(allow_none=True)
    record_item_id = fields.Integer(allow_none=True)


class ListDetailSchema(ListSchema):
    items = fields.List(fields.Nested(ItemSchema))


class LoanInSchema(Schema):
    form = fields.String(required=True)
    borrower = fields.String(required=True, validate=validate.Length(max=200))
    purpose = fields.String(required=True, validate=validate.Length(max=2000))
    due_on = fields.Date(required=True)


class LoanSchema(Schema):
    id = fields.Integer()
    item_id = fields.Integer()
    borrower = fields.String()
    purpose = fields.String()
    issued_by = fields.Integer()
    issued_on = fields.Date()
    due_on = fields.Date()
    returned_on = fields.Date(allow_none=True)
    received_by = fields.Integer(allow_none=True)


class LoanQuerySchema(Schema):
    item_id = fields.Integer(validate=ID)
    unit_id = fields.Integer(validate=ID)
    overdue = fields.Boolean()


class HandoverLineSchema(Schema):
    kind = fields.String()
    description = fields.String()
    quantity = fields.Integer()
    item_id = fields.Integer(allow_none=True)


class HandoverInSchema(Schema):
    """Passed on as given: the service's schema names every wrong field."""

    unit_id = fields.Raw(required=True)
    leaving = fields.Raw(required=True)
    receiving = fields.Raw(required=True)
    supervisor = fields.Raw(required=True)
    reason = fields.Raw(required=True)
    lines = fields.Raw(required=True)


class HandoverRowSchema(Schema):
    """A handover as listed: without its lines."""

    id = fields.Integer()
    unit_id = fields.Integer()
    leaving_id = fields.Integer()
    receiving_id = fields.Integer()
    supervisor_id = fields.Integer()
    reason = fields.String()
    status = fields.String()
    created_at = fields.DateTime()
    leaving_signed_at = fields.DateTime(allow_none=True)
    receiving_signed_at = fields.DateTime(allow_none=True)
    supervisor_signed_at = fields.DateTime(allow_none=True)
    record_item_id = fields.Integer(allow_none=True)


class HandoverSchema(HandoverRowSchema):
    lines = fields.List(fields.Nested(HandoverLineSchema))


class CancelInSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class SettingsSchema(Schema):
    lock_mode = fields.String(required=True)


class AppraisalListSchema(Schema):
    id = fields.Integer()
    swept_on = fields.Date()
    found = fields.Integer()
    created_at = fields.DateTime()


class AppraisalLineQuerySchema(Schema):
    open = fields.Boolean()  # only the lines still waiting for appraisal


class AppraisalLineSchema(Schema):
    item_id = fields.Integer()
    title = fields.String()
    unit_id = fields.Integer()
    class_code = fields.String()
    fiscal_year = fields.Integer()
    due_on = fields.Date()  # the item's due date when the sweep found it
    settled_at = fields.DateTime(allow_none=True)
    appraisal_id = fields.Integer(allow_none=True)
