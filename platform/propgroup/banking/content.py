"""What the bank account request form (开设/变更/注销银行账户申请表, R-BNK-1) says, per kind,
checked by schema; stored as JSON (dates as ISO strings, people by login)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from propgroup.banking.banks import canonical
from propgroup.banking.models import ACCOUNT_TYPES, REQUEST_KINDS
from propgroup.errors import InvalidInput

REASON = fields.String(required=True, validate=validate.Length(min=1, max=2000))


def _login(required: bool = True) -> fields.String:
    return fields.String(required=required, validate=validate.Length(min=1, max=64))


class SealsSchema(Schema):
    """Seal kind → login of its keeper (R-BNK-2)."""

    finance_seal = _login()
    head_name_seal = _login()
    finance_head_name_seal = _login()


class SealChangesSchema(Schema):
    """The seals whose keeper changes; the others stay with theirs."""

    finance_seal = _login(required=False)
    head_name_seal = _login(required=False)
    finance_head_name_seal = _login(required=False)


def _signatories(required: bool) -> fields.List:
    return fields.List(
        _login(),
        required=required,
        validate=validate.Length(min=1, max=20),
        metadata={"description": "logins of the people the bank takes instructions from"},
    )


class OpenFormSchema(Schema):
    bank = fields.String(required=True, validate=validate.Length(min=1, max=100))
    bank_branch = fields.String(required=True, validate=validate.Length(min=1, max=200))
    account_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    account_type = fields.String(required=True, validate=validate.OneOf(list(ACCOUNT_TYPES)))
    currency = fields.String(load_default="CNY", validate=validate.Regexp(r"^[A-Z]{3}$"))
    purpose = fields.String(required=True, validate=validate.Length(min=1, max=500))
    single_purpose = fields.Boolean(load_default=False)
    seals = fields.Nested(SealsSchema, required=True)
    signatories = _signatories(required=True)
    reason = REASON

    @validates_schema
    def _signatories_once(self, data: dict[str, Any], **_: Any) -> None:
        if len(set(data["signatories"])) != len(data["signatories"]):
            raise ValidationError("a signatory is named once", "signatories")

    @post_load
    def _bank_as_recorded(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        return {**data, "bank": canonical(data["bank"])}


class ChangesSchema(Schema):
    seals = fields.Nested(SealChangesSchema)
    signatories = _signatories(required=False)
    purpose = fields.String(validate=validate.Length(min=1, max=500))
    bank_branch = fields.String(validate=validate.Length(min=1, max=200))
    account_name = fields.String(validate=validate.Length(min=1, max=200))
    purpose_finished_on = fields.Date()

    @validates_schema
    def _something_changes(self, data: dict[str, Any], **_: Any) -> None:
        if not data or data.get("seals") == {}:
            raise ValidationError("a change request names what changes", "changes")
        if len(set(data.get("signatories", []))) != len(data.get("signatories", [])):
            raise ValidationError("a signatory is named once", "signatories")


class ChangeFormSchema(Schema):
    """What finance writes. The departure a system draft names (R-BNK-3) is not part of it: it
    is the system's record (keepers.py), and a form cannot claim one."""

    changes = fields.Nested(ChangesSchema, required=True)
    reason = REASON


class CloseFormSchema(Schema):
    reason = REASON
    dormant_since = fields.Date(load_default=None)  # the dormancy job's finding (R-BNK-4)


FORMS: dict[str, type[Schema]] = {
    "open": OpenFormSchema,
    "change": ChangeFormSchema,
    "close": CloseFormSchema,
}


def checked_form(kind: object, form: object) -> dict[str, Any]:
    """The form of a kind, checked and in its stored (JSON) shape; InvalidInput naming every
    wrong field."""
    if kind not in REQUEST_KINDS:
        raise InvalidInput(
            f"a request is one of {', '.join(REQUEST_KINDS)}",
            code="bad_request",
            errors={"kind": ["unknown"]},
        )
    schema = FORMS[kind]()
    try:
        return schema.dump(schema.load(form if isinstance(form, dict) else {}))
    except ValidationError as exc:
        raise InvalidInput(
            f"the {kind} form was refused", code="bad_form", errors={"form": exc.messages}
        ) from exc
