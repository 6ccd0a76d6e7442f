"""The approval matrix (R-APR-2): request type × amount band × unit kind → ordered steps.

It is tenant data: loaded from the template, replaced by a group admin as a new version. Bands of
one request type and unit kind must cover every positive amount exactly once; a gap would leave
some amount with no approver and an overlap would make the chain ambiguous.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from propgroup.errors import InvalidInput
from propgroup.identity.roles import ROLES

# Raised by people; the subject types by the capability whose record they approve (subjects.py).
REQUEST_TYPES = {"expense_claim": "报销单", "advance": "借款单", "supplier_payment": "付款申请"}
SUBJECT_TYPES = {
    "budget_plan": "预算申报",
    "destruction_list": "会计档案销毁清册",
    "bank_account": "银行账户申请",
}
ALL_REQUEST_TYPES = {**REQUEST_TYPES, **SUBJECT_TYPES}
# Types whose amount counts items (件), not money: a destruction list's bands count its items, a
# bank account request's amount is the one account it is about.
COUNTED_TYPES = frozenset({"destruction_list", "bank_account"})
REQUESTING_UNIT_KINDS = ("branch", "region", "hq")
LEVELS = ("unit", "region", "hq")

DEFAULT_STEP_DAYS = 2  # working days a step has, where a policy names none


class StepSchema(Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    department = fields.String(load_default=None, validate=validate.Regexp(r"^[A-Z0-9]{1,7}$"))


class RuleSchema(Schema):
    request_types = fields.List(
        fields.String(validate=validate.OneOf(list(ALL_REQUEST_TYPES))),
        required=True,
        validate=validate.Length(min=1),
    )
    unit_kind = fields.String(required=True, validate=validate.OneOf(REQUESTING_UNIT_KINDS))
    above = fields.Decimal(required=True, places=2, as_string=True, validate=validate.Range(min=0))
    up_to = fields.Decimal(load_default=None, allow_none=True, places=2, as_string=True)
    steps = fields.List(fields.Nested(StepSchema), required=True, validate=validate.Length(min=1))


class PolicySchema(Schema):
    overrun_step = fields.Nested(StepSchema, required=True)
    payer = fields.Nested(StepSchema, required=True)
    rules = fields.List(fields.Nested(RuleSchema), required=True, validate=validate.Length(min=1))
    step_working_days = fields.Integer(
        load_default=DEFAULT_STEP_DAYS, strict=True, validate=validate.Range(min=1, max=30)
    )

    @validates_schema
    def _bands_cover_every_amount_once(self, data: dict[str, Any], **_: Any) -> None:
        problems = band_problems(data["rules"])
        if problems:
            raise ValidationError(problems, "rules")


def band_problems(rules: list[dict[str, Any]]) -> list[str]:
    bands: dict[tuple[str, str], list[tuple[Decimal, Decimal | None]]] = defaultdict(list)
    for rule in rules:
        for request_type in rule["request_types"]:
            bands[(request_type, rule["unit_kind"])].append((rule["above"], rule["up_to"]))
    problems = []
    for (request_type, kind), ranges in sorted(bands.items()):
        ranges.sort(key=lambda band: band[0])
        expected: Decimal | None = Decimal("0")
        for above, up_to in ranges:
            where = f"{request_type} at a {kind}"
            if up_to is not None and up_to <= above:
                problems.append(f"{where}: band above {above} up to {up_to} is empty")
            if expected is None:
                problems.append(f"{where}: band above {above} overlaps the open-ended band")
            elif above < expected:
                problems.append(f"{where}: bands overlap at {above} (previous ends at {expected})")
            elif above > expected:
                problems.append(f"{where}: no band covers amounts above {expected} up to {above}")
            expected = up_to
        if expected is not None:
            problems.append(f"{where}: no band covers amounts above {expected}")
    return problems


def parse_policy(document: dict[str, Any]) -> dict[str, Any]:
    """A checked policy; InvalidInput naming every gap, overlap or bad field."""
    try:
        return PolicySchema().load(document)
    except ValidationError as exc:
        raise InvalidInput(
            "the approval policy is not valid", code="bad_policy", errors=exc.messages
        ) from exc


def stored_form(policy: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe (amounts as strings) for the policy table."""
    return PolicySchema().dump(policy)


def rule_for(
    policy: dict[str, Any], request_type: str, unit_kind: str, amount: Decimal
) -> dict[str, Any]:
    for rule in policy["rules"]:
        if request_type in rule["request_types"] and rule["unit_kind"] == unit_kind:
            above, up_to = Decimal(rule["above"]), rule["up_to"]
            if amount > above and (up_to is None or amount <= Decimal(up_to)):
                return rule
    kind = ALL_REQUEST_TYPES.get(request_type, request_type)
    raise InvalidInput(
        f"the approval policy has no rule for a {kind} of {amount} at a {unit_kind}",
        code="no_policy_rule",
    )
