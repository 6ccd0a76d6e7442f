"""Consolidation (R-BUD-4) and plan versus actual (R-BUD-5), computed in SQL over both trees.

A figure of a unit is its own plus its whole subtree's (a region's is its branches' plus its
own, HQ's the regions'); a heading category's is the sum of its leaves. Both roll-ups expand
each row into its ancestors by splitting the materialised paths, so the database does every sum
in one pass, whatever the depth.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    any_,
    cast,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, distinct_on
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import TableValuedAlias

from propgroup.budgets import actuals
from propgroup.budgets.models import (
    IN_FORCE,
    SENT,
    BudgetCategory,
    BudgetPlan,
    PlanAmount,
    PlanLine,
    PlanVersion,
)
from propgroup.errors import InvalidInput
from propgroup.identity.authz import authorize
from propgroup.identity.principals import Principal
from propgroup.money import cents
from propgroup.org import service as org
from propgroup.org.models import OrgUnit

VERSION_SETS = ("approved", "latest")
ALERT_AT = (Decimal("0.8"), Decimal("1"))  # execution rate thresholds of R-BUD-5


def chosen_versions(versions: str) -> Select:
    """(id, plan_id) of the version each plan contributes: the one in force, or its newest."""
    if versions == "approved":
        return select(PlanVersion.id, PlanVersion.plan_id).where(PlanVersion.status.in_(IN_FORCE))
    if versions == "latest":
        return (
            select(PlanVersion.id, PlanVersion.plan_id)
            .ext(distinct_on(PlanVersion.plan_id))
            .order_by(PlanVersion.plan_id, PlanVersion.number.desc())
        )
    raise InvalidInput(f"versions is one of {VERSION_SETS}", code="bad_versions")


def sent_versions(own_unit_id: int) -> Select:
    """(id, plan_id) of what each unit has put before the level above (its newest version
    submitted, approved or locked), but the newest of whatever ``own_unit_id`` holds."""
    return (
        select(PlanVersion.id, PlanVersion.plan_id)
        .join(BudgetPlan, BudgetPlan.id == PlanVersion.plan_id)
        .where(or_(PlanVersion.status.in_(SENT), BudgetPlan.unit_id == own_unit_id))
        .ext(distinct_on(PlanVersion.plan_id))
        .order_by(PlanVersion.plan_id, PlanVersion.number.desc())
    )


def planned(year: int, versions: str | Select, plan_kinds: Sequence[str] | None = None) -> Select:
    """(unit_id, category_id, month, amount) of the chosen versions of ``year``'s plans:
    a version set by name, or a select of (id, plan_id). Medium-term plans have no months
    (their lines hold years), so they never count in a year's figures."""
    chosen = (versions if isinstance(versions, Select) else chosen_versions(versions)).subquery()
    query = (
        select(BudgetPlan.unit_id, PlanLine.category_id, PlanAmount.month, PlanAmount.amount)
        .join(chosen, chosen.c.plan_id == BudgetPlan.id)
        .join(PlanLine, PlanLine.version_id == chosen.c.id)
        .join(PlanAmount, PlanAmount.line_id == PlanLine.id)
        .where(BudgetPlan.fiscal_year == year)
    )
    if plan_kinds:
        query = query.where(BudgetPlan.plan_kind.in_(plan_kinds))
    return query


def _ids_on(path: ColumnElement[str], name: str) -> TableValuedAlias:
    """A row per id on a materialised path, the node and every ancestor. In FROM (where a
    function may read the rows before it): two in one select list would pair up, not multiply."""
    ids = func.string_to_array(func.trim(path, "/"), "/").cast(ARRAY(BigInteger))
    return func.unnest(ids).table_valued("id").render_derived(name=name)


def _within(unit_id: ColumnElement[int], top: OrgUnit) -> ColumnElement[bool]:
    """``unit_id`` lies in ``top``'s subtree. The subtree is one array computed once (the
    index finds a region's rows by it; a join instead lets a misjudged plan rescan the year's
    figures per unit); under HQ everything does, and comparing 2M rows to the whole tree's
    ids would cost more than the sums."""
    if top.parent_id is None:
        return true()
    subtree = select(func.array_agg(OrgUnit.id)).where(OrgUnit.path.startswith(top.path))
    return unit_id == any_(cast(subtree.scalar_subquery(), ARRAY(BigInteger)))


def _summed(rows: Select, top: OrgUnit, *, column: str, own_only: bool) -> Select:
    """(unit_id, category_id, plan, actual) of one source, its sums in ``column``; with
    ``own_only`` the whole subtree's sums are ``top``'s (only its own figures are asked)."""
    source = rows.subquery()
    total, zero = func.sum(source.c.amount), literal(Decimal("0.00"))
    unit = literal(top.id) if own_only else source.c.unit_id
    return (
        select(
            unit.label("unit_id"),
            source.c.category_id,
            (total if column == "plan" else zero).label("plan"),
            (zero if column == "plan" else total).label("actual"),
        )
        .where(_within(source.c.unit_id, top))
        .group_by(*([] if own_only else [source.c.unit_id]), source.c.category_id)
    )


def rolled_up(
    session: Session,
    top: OrgUnit,
    year: int,
    *,
    versions: str,
    months: tuple[int, int],
    depth: int | None = None,
) -> list[dict[str, Any]]:
    """Plan and actual of every unit of ``top``'s subtree (down to ``depth`` levels below it)
    and every category, each the sum of everything below it in both trees, for the months
    ``months[0]``–``months[1]``."""
    plan = planned(year, versions).subquery()
    in_months = select(plan.c.unit_id, plan.c.category_id, plan.c.amount).where(
        plan.c.month.between(*months)
    )
    # Each source summed per unit and category where it is read (a sum over a union would be
    # planned blind, and sorted on disk), then once more across sources, before the roll-up
    # multiplies the rows.
    own_only = depth == 0
    figures = union_all(
        _summed(in_months, top, column="plan", own_only=own_only),
        *(
            _summed(rows, top, column="actual", own_only=own_only)
            for rows in actuals.sources(year, months)
        ),
    ).subquery()
    own = (
        select(
            figures.c.unit_id,
            figures.c.category_id,
            func.sum(figures.c.plan).label("plan"),
            func.sum(figures.c.actual).label("actual"),
        )
        .group_by(figures.c.unit_id, figures.c.category_id)
        .cte("own")
        .prefix_with("MATERIALIZED")
    )
    unit_up, category_up = _ids_on(OrgUnit.path, "unit_up"), _ids_on(BudgetCategory.path, "up")
    expanded = (
        select(
            unit_up.c.id.label("unit_id"),
            category_up.c.id.label("category_id"),
            own.c.plan,
            own.c.actual,
        )
        .select_from(own)
        .join(OrgUnit, OrgUnit.id == own.c.unit_id)
        .join(BudgetCategory, BudgetCategory.id == own.c.category_id)
        .join(unit_up, true())
        .join(category_up, true())
        .subquery()
    )
    above = OrgUnit.__table__.alias("above")
    wanted = above.c.depth >= top.depth  # ancestors of ``top`` are outside the question
    if depth is not None:
        wanted &= above.c.depth <= top.depth + depth
    rows = session.execute(
        select(
            expanded.c.unit_id,
            expanded.c.category_id,
            func.sum(expanded.c.plan),
            func.sum(expanded.c.actual),
        )
        .join(above, above.c.id == expanded.c.unit_id)
        .where(wanted)
        .group_by(expanded.c.unit_id, expanded.c.category_id)
    ).all()
    return [_figure(*row) for row in rows]


def _figure(unit_id: int, category_id: int, plan: Decimal, actual: Decimal) -> dict[str, Any]:
    plan, actual = cents(plan), cents(actual)
    rate = (actual / plan).quantize(Decimal("0.0001")) if plan else None
    return {
        "unit_id": unit_id,
        "category_id": category_id,
        "plan": plan,
        "actual": actual,
        "variance": actual - plan,
        "rate": rate,
    }


def alert_level(side: str, plan: Decimal, actual: Decimal) -> str | None:
    """R-BUD-5: spending past 80 % of its plan is a warning, past 100 % an overrun."""
    if side != "expense" or actual <= 0:
        return None
    if plan <= 0 or actual > plan * ALERT_AT[1]:
        return "over_100"
    return "over_80" if actual >= plan * ALERT_AT[0] else None


def plan_vs_actual(
    session: Session,
    principal: Principal,
    unit_id: int,
    year: int,
    *,
    versions: str = "approved",
    months: tuple[int, int] = (1, 12),
    depth: int = 1,
) -> dict[str, Any]:
    """The unit's figures by category with its subtree ``depth`` levels down, each rolled up."""
    top = org.get_unit(session, unit_id)
    authorize(session, principal, "budgets:read", top)
    if not 1 <= months[0] <= months[1] <= 12:
        raise InvalidInput("months run from 1 to 12, first before last", code="bad_months")
    figures = rolled_up(session, top, year, versions=versions, months=months, depth=depth)
    units = {
        u.id: u
        for u in session.scalars(
            select(OrgUnit).where(
                OrgUnit.path.startswith(top.path),
                OrgUnit.depth <= top.depth + depth,
                OrgUnit.kind != "department",
            )
        )
    }
    categories = {c.id: c for c in session.scalars(select(BudgetCategory))}
    rows = []
    for figure in figures:
        unit, category = units.get(figure["unit_id"]), categories[figure["category_id"]]
        if unit is None:
            continue
        rows.append(
            {
                **figure,
                "unit": unit.code,
                "category": category.code,
                "side": category.side,
                "plan_kind": category.plan_kind,
                "alert": alert_level(category.side, figure["plan"], figure["actual"]),
            }
        )
    rows.sort(key=lambda r: (units[r["unit_id"]].path, categories[r["category_id"]].path))
    return {"unit": top.code, "year": year, "versions": versions, "months": months, "rows": rows}
