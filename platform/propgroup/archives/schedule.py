"""The retention schedule (保管期限表) as tenant data, and due dates computed from it.

A period runs from the first day after the fiscal year in which the record closes, so a record
of fiscal year Y kept N years may be destroyed from 1 January of Y + 1 + N. An asset card closes
when its asset is disposed of; until then its period has not started (no due date).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import ColumnElement, case, extract, func, select, update
from sqlalchemy.orm import Session

from propgroup.archives import appraisal_lists, locks
from propgroup.archives.models import COUNTED_FROM, ArchiveItem, RetentionRule
from propgroup.audit.service import record
from propgroup.errors import InvalidInput, NotFound
from propgroup.identity.authz import authorize
from propgroup.identity.principals import Principal
from propgroup.org import service as org
from propgroup.tenancy.models import TenantSettings

CLASS_CODE = validate.Regexp(r"^[a-z][a-z0-9_]{1,39}$", error="code must be 2-40 of a-z 0-9 _")
YEARS = validate.Range(min=1, max=100)
LOCK_MODES = ("governance", "compliance")


class PeriodSchema(Schema):
    """Years or permanent, never neither: a class without a period is refused."""

    years = fields.Integer(load_default=None, strict=True, validate=YEARS)
    permanent = fields.Boolean(load_default=False)

    @validates_schema
    def _one_period(self, data: dict[str, Any], **_: Any) -> None:
        if (data["years"] is None) != data["permanent"]:
            raise ValidationError("give years or permanent = true (exactly one)", "years")


class RuleSpecSchema(PeriodSchema):
    code = fields.String(required=True, validate=CLASS_CODE)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    counted_from = fields.String(load_default="fiscal_year", validate=validate.OneOf(COUNTED_FROM))


class ArchivesTemplateSchema(Schema):
    """The template's ``[archives]``: the schedule, and the S3 Object Lock mode (governance by
    default; compliance cannot be shortened or lifted by anyone, the bucket's owner included)."""

    lock_mode = fields.String(load_default="governance", validate=validate.OneOf(LOCK_MODES))
    retention = fields.List(fields.Nested(RuleSpecSchema), load_default=list)

    @validates_schema
    def _codes_unique(self, data: dict[str, Any], **_: Any) -> None:
        seen: set[str] = set()
        for index, spec in enumerate(data["retention"]):
            if spec["code"] in seen:
                raise ValidationError({index: {"code": [f"duplicate code {spec['code']!r}"]}})
            seen.add(spec["code"])


def checked_by(schema: Schema, data: object, message: str, code: str) -> dict[str, Any]:
    """``data`` loaded by ``schema``, or InvalidInput naming every field that is wrong."""
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise InvalidInput(message, code=code, errors=exc.messages) from exc


def install_schedule(session: Session, specs: list[dict[str, Any]]) -> None:
    """The template's schedule, at provisioning."""
    for spec in specs:
        session.add(
            RetentionRule(
                class_code=spec["code"],
                name=spec["name"],
                years=spec["years"],
                permanent=spec["permanent"],
                counted_from=spec["counted_from"],
            )
        )
    session.flush()


def install_missing_classes(session: Session, specs: list[dict[str, Any]]) -> list[str]:
    """Classes of the template the group's schedule has not got (one that came with a later
    capability, as ``bank_account_file`` did); a class the group has keeps its own period.
    Returns the codes added."""
    have = set(session.scalars(select(RetentionRule.class_code)))
    missing = [spec for spec in specs if spec["code"] not in have]
    install_schedule(session, missing)
    return [spec["code"] for spec in missing]


def rule_for(session: Session, class_code: object, *, to_compute: bool = False) -> RetentionRule:
    """The class's rule. ``to_compute``: a due date is about to be stored from it, so the row is
    held (FOR SHARE) until commit: a schedule change waits for that date and then recomputes it,
    instead of missing it."""
    rule = (
        session.get(
            RetentionRule, class_code, with_for_update={"read": True} if to_compute else None
        )
        if isinstance(class_code, str)
        else None
    )
    if rule is None:
        raise InvalidInput(
            f"{str(class_code)[:40]!r} is no class of the retention schedule",
            code="unknown_class",
            errors={"class_code": ["unknown class"]},
        )
    return rule


def schedule(session: Session) -> list[RetentionRule]:
    return list(session.scalars(select(RetentionRule).order_by(RetentionRule.class_code)))


def due_date(
    rule: RetentionRule,
    fiscal_year: int,
    disposed_on: date | None = None,
    kept_until: date | None = None,
) -> date | None:
    """The first day the record may be destroyed; None while permanent or not yet running.
    A confirmed appraisal's ``kept_until`` is never cut short by the schedule."""
    if rule.permanent:
        return None
    if rule.counted_from == "disposal":
        if disposed_on is None:
            return None
        closes = disposed_on.year
    else:
        closes = fiscal_year
    due = date(closes + 1 + rule.years, 1, 1)
    return max(due, kept_until) if kept_until else due


def _due_sql(rule: RetentionRule) -> ColumnElement[date | None]:
    """``due_date`` over the items table, for a set-based recomputation."""
    if rule.permanent:
        return func.cast(None, ArchiveItem.due_on.type)
    closes = (
        extract("year", ArchiveItem.disposed_on).cast(ArchiveItem.fiscal_year.type)
        if rule.counted_from == "disposal"
        else ArchiveItem.fiscal_year
    )
    due = func.make_date(closes + 1 + rule.years, 1, 1)
    return func.greatest(due, ArchiveItem.kept_until)  # greatest ignores NULLs


def change_rule(
    session: Session, principal: Principal, class_code: str, period: dict[str, Any], today: date
) -> tuple[RetentionRule, int]:
    """A group admin changes a class's period; every item of the class not yet destroyed gets
    its due date again, in one statement, and the change is audited with the count."""
    authorize(session, principal, "archives:admin", org.get_root(session))
    checked = checked_by(PeriodSchema(), period, "the retention period was refused", "bad_period")
    appraisal_lists.hold_off_sweep(session)
    rule = session.get(RetentionRule, class_code, with_for_update=True)
    if rule is None:
        raise NotFound(f"no retention class {class_code!r}", code="unknown_class")
    before = {"years": rule.years, "permanent": rule.permanent}
    rule.years, rule.permanent = checked["years"], checked["permanent"]
    session.flush()
    due = _due_sql(rule)
    of_class = (ArchiveItem.class_code == rule.class_code, ArchiveItem.stage != "destroyed")
    changed = session.execute(
        update(ArchiveItem)
        .where(*of_class)
        .values(
            due_on=due,
            # No longer due after all: back in custody, an appraisal for destruction with it
            # (it judged a period that is no longer the rule). Listed items stay on their list,
            # which checks again when it is carried out.
            stage=case(
                (
                    (ArchiveItem.stage == "to_destroy") & (func.coalesce(due, date.max) > today),
                    "kept",
                ),
                else_=ArchiveItem.stage,
            ),
        )
        .execution_options(synchronize_session=False)  # callers reload what they hold
    ).rowcount
    # Items due for appraisal whose new date is still to come are kept, not due, any longer.
    appraisal_lists.settle(
        session,
        select(ArchiveItem.id).where(
            *of_class, func.coalesce(ArchiveItem.due_on, date.max) > today
        ),
    )
    locks.sync_later(session, class_code=rule.class_code)  # locks only ever lengthen
    record(
        session,
        principal,
        "archives.retention_changed",
        "archive_retention",
        rule.class_code,
        before=before,
        after={**checked, "items_recomputed": changed},
    )
    return rule, changed


def change_lock_mode(session: Session, principal: Principal, mode: object) -> str:
    """The Object Lock mode of files locked from now on (locks already set keep theirs: S3 lets
    nobody weaken a compliance lock, and a governance one is only ever lengthened here)."""
    authorize(session, principal, "archives:admin", org.get_root(session))
    if mode not in LOCK_MODES:
        raise InvalidInput(
            f"lock_mode is one of {', '.join(LOCK_MODES)}",
            code="bad_lock_mode",
            errors={"lock_mode": [f"one of {', '.join(LOCK_MODES)}"]},
        )
    settings = session.scalar(select(TenantSettings).with_for_update())
    before = settings.archive_lock_mode
    settings.archive_lock_mode = mode
    session.flush()
    record(
        session,
        principal,
        "archives.lock_mode_changed",
        "tenant_settings",
        settings.id,
        before={"lock_mode": before},
        after={"lock_mode": mode},
    )
    return mode
