"""The tenant's chart of budget categories (预算科目): checked as a whole, stored as a tree."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import BigInteger, ColumnElement, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from propgroup.audit.service import record
from propgroup.budgets.models import PLAN_KINDS, SIDES, ActualEntry, BudgetCategory, PlanLine
from propgroup.errors import Conflict, InvalidInput, NotFound
from propgroup.identity.authz import authorize, authorize_somewhere
from propgroup.identity.principals import SYSTEM, Principal
from propgroup.org import service as org

CATEGORY_CODE = validate.Regexp(
    r"^[A-Z0-9][A-Z0-9_-]{0,59}$", error="code must be 1-60 of A-Z 0-9 _ -"
)


class CategorySpecSchema(Schema):
    """A top category names its plan kind and side; the ones below take their parent's."""

    code = fields.String(required=True, validate=CATEGORY_CODE)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    parent = fields.String(load_default=None, validate=CATEGORY_CODE)
    plan_kind = fields.String(load_default=None, validate=validate.OneOf(list(PLAN_KINDS)))
    side = fields.String(load_default=None, validate=validate.OneOf(SIDES))

    @validates_schema
    def _top_says_where(self, data: dict[str, Any], **_: Any) -> None:
        if data["parent"] is None and not (data["plan_kind"] and data["side"]):
            raise ValidationError("a top category needs plan_kind and side", "plan_kind")
        if data["parent"] is not None and (data["plan_kind"] or data["side"]):
            raise ValidationError("only a top category names plan_kind and side", "plan_kind")


class ChartSchema(Schema):
    categories = fields.List(fields.Nested(CategorySpecSchema), load_default=list)

    @validates_schema
    def _tree(self, data: dict[str, Any], **_: Any) -> None:
        seen: set[str] = set()
        for index, spec in enumerate(data["categories"]):
            if spec["code"] in seen:
                raise ValidationError({index: {"code": [f"duplicate code {spec['code']!r}"]}})
            if spec["parent"] is not None and spec["parent"] not in seen:
                raise ValidationError(
                    {index: {"parent": [f"{spec['parent']!r} must come before its children"]}}
                )
            seen.add(spec["code"])


def add_category(
    session: Session,
    *,
    code: str,
    name: str,
    parent: BudgetCategory | None = None,
    plan_kind: str | None = None,
    side: str | None = None,
) -> BudgetCategory:
    """A new leaf; its parent, if it was a leaf, becomes a heading once it holds no amounts."""
    if session.scalar(select(BudgetCategory.id).where(BudgetCategory.code == code)):
        raise Conflict(f"budget category {code!r} exists", code="duplicate_category")
    if parent is not None:
        _check_no_amounts(session, parent)
        plan_kind, side = parent.plan_kind, parent.side
        parent.is_leaf = False
    category = BudgetCategory(
        code=code,
        name=name,
        parent_id=parent.id if parent else None,
        plan_kind=plan_kind,
        side=side,
        depth=parent.depth + 1 if parent else 0,
        path="",
    )
    session.add(category)
    session.flush()
    category.path = f"{parent.path if parent else '/'}{category.id}/"
    return category


def _check_no_amounts(session: Session, category: BudgetCategory) -> None:
    used = session.scalar(
        select(PlanLine.id).where(PlanLine.category_id == category.id).limit(1)
    ) or session.scalar(
        select(ActualEntry.id).where(ActualEntry.category_id == category.id).limit(1)
    )
    if used:
        raise Conflict(
            f"{category.code} already holds amounts; it cannot become a heading",
            code="category_in_use",
        )


def install_chart(session: Session, specs: Sequence[dict[str, Any]]) -> None:
    """The template's chart, parents before children (checked by ``ChartSchema``)."""
    by_code: dict[str, BudgetCategory] = {}
    for spec in specs:
        by_code[spec["code"]] = add_category(
            session,
            code=spec["code"],
            name=spec["name"],
            parent=by_code.get(spec["parent"]) if spec["parent"] else None,
            plan_kind=spec["plan_kind"],
            side=spec["side"],
        )


def install_missing_chart(session: Session, specs: Sequence[dict[str, Any]]) -> bool:
    """The template's chart for a group that has none (one provisioned before budgets); a
    group with any category keeps its own. Whether it was installed."""
    _lock_chart(session)
    if not specs or session.scalar(select(BudgetCategory.id).limit(1)) is not None:
        return False
    install_chart(session, specs)
    record(
        session,
        SYSTEM,
        "budgets.chart_installed",
        "budget_category",
        after={"categories": [spec["code"] for spec in specs]},
    )
    return True


def _lock_chart(session: Session) -> None:
    # Codes are unique and a parent turns into a heading: one chart writer at a time.
    session.execute(text("lock table budget_categories in share row exclusive mode"))


def category_by_code(session: Session, code: str) -> BudgetCategory:
    category = session.scalar(select(BudgetCategory).where(BudgetCategory.code == code))
    if category is None:
        raise NotFound(f"budget category {code!r} does not exist", code="unknown_category")
    return category


def leaf_by_code(session: Session, code: str) -> BudgetCategory:
    """A category that takes amounts; headings are sums and are refused."""
    category = category_by_code(session, code)
    if not category.is_leaf:
        raise InvalidInput(
            f"{code} is a heading: plan on the categories below it", code="category_not_leaf"
        )
    return category


def chart(session: Session, principal: Principal) -> Sequence[BudgetCategory]:
    """The whole chart, for anyone who may read some unit's budgets."""
    authorize_somewhere(session, principal, "budgets:read")
    return session.scalars(select(BudgetCategory).order_by(tree_order(BudgetCategory.path))).all()


def tree_order(path: ColumnElement[str]) -> ColumnElement[list[int]]:
    """Parents before children, siblings in the order they were made (paths hold ids)."""
    return func.string_to_array(func.trim(path, "/"), "/").cast(ARRAY(BigInteger))


def create_category(session: Session, principal: Principal, **spec: Any) -> BudgetCategory:
    """A group admin extends the chart (a tenant migrated from before budgets starts empty)."""
    authorize(session, principal, "budgets:admin", org.get_root(session))
    _lock_chart(session)
    try:
        checked = CategorySpecSchema().load(spec)
    except ValidationError as exc:
        raise InvalidInput(
            "the category was refused", code="bad_category", errors=exc.messages
        ) from exc
    parent = category_by_code(session, checked["parent"]) if checked["parent"] else None
    category = add_category(
        session,
        code=checked["code"],
        name=checked["name"],
        parent=parent,
        plan_kind=checked["plan_kind"],
        side=checked["side"],
    )
    record(
        session,
        principal,
        "budgets.category_added",
        "budget_category",
        category.id,
        after={**checked},
    )
    return category
