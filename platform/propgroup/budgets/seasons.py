"""The budget season (R-BUD-2): HQ opens next year's round with a deadline, the units submit,
the group sees who has and who is late, and a unit's budgeted surplus must agree with the
profit it reported to the group (此预算的收支结余应与上报集团的利润计划基本一致, §7.4)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from propgroup.approvals.service import now, today
from propgroup.audit.service import record
from propgroup.budgets.categories import tree_order
from propgroup.budgets.figures import planned, sent_versions
from propgroup.budgets.models import (
    IN_FORCE,
    BudgetCategory,
    BudgetPlan,
    BudgetSeason,
    PlanVersion,
    ProfitTarget,
)
from propgroup.budgets.periods import check_year
from propgroup.errors import Conflict, InvalidInput, NotFound
from propgroup.identity.authz import authorize, visible_units
from propgroup.identity.principals import Principal
from propgroup.money import cents, to_money
from propgroup.org import service as org
from propgroup.org.models import OrgUnit

SURPLUS_KINDS = ("profit", "expense")  # 收支预算: income and spending; the fund plan is cash


def _admin(session: Session, principal: Principal) -> OrgUnit:
    root = org.get_root(session)
    authorize(session, principal, "budgets:admin", root)
    return root


def season_of(session: Session, fiscal_year: int) -> BudgetSeason:
    check_year(fiscal_year)
    season = session.scalar(select(BudgetSeason).where(BudgetSeason.fiscal_year == fiscal_year))
    if season is None:
        raise NotFound(f"no budget season for {fiscal_year}", code="season_not_found")
    return season


def open_season(
    session: Session,
    principal: Principal,
    *,
    fiscal_year: int,
    deadline: date,
    tolerance: object = "0.00",
) -> BudgetSeason:
    """HQ opens the round for ``fiscal_year``; opening it again after closing reopens it."""
    _admin(session, principal)
    check_year(fiscal_year)
    amount = to_money(tolerance, "tolerance", allow_zero=True)
    # Two admins opening the same year at once: one inserts, both then update the one row.
    session.execute(
        pg_insert(BudgetSeason)
        .values(
            fiscal_year=fiscal_year, deadline=deadline, tolerance=amount, opened_by=principal.id
        )
        .on_conflict_do_nothing(index_elements=["fiscal_year"])
    )
    season = session.scalar(
        select(BudgetSeason).where(BudgetSeason.fiscal_year == fiscal_year).with_for_update()
    )
    season.deadline, season.tolerance, season.closed_at = deadline, amount, None
    session.flush()
    record(
        session,
        principal,
        "budgets.season_opened",
        "budget_season",
        season.id,
        after={"year": fiscal_year, "deadline": deadline.isoformat(), "tolerance": amount},
    )
    return season


def close_season(session: Session, principal: Principal, fiscal_year: int) -> BudgetSeason:
    _admin(session, principal)
    season = season_of(session, fiscal_year)
    season.closed_at = now()
    session.flush()
    record(session, principal, "budgets.season_closed", "budget_season", season.id)
    return season


def check_open(session: Session, fiscal_year: int) -> BudgetSeason:
    season = session.scalar(select(BudgetSeason).where(BudgetSeason.fiscal_year == fiscal_year))
    if season is None or season.closed_at is not None:
        raise Conflict(
            f"the {fiscal_year} budget season is not open: plans are submitted while it is",
            code="season_closed",
        )
    return season


def set_profit_target(
    session: Session, principal: Principal, *, fiscal_year: int, unit_id: int, profit: object
) -> ProfitTarget:
    """The profit a unit reported to the group; its budget's surplus must agree with it."""
    _admin(session, principal)
    season = season_of(session, fiscal_year)
    unit = org.get_unit(session, unit_id)
    if unit.kind == "department":
        raise InvalidInput("a department reports no profit of its own", code="bad_unit")
    amount = to_money(profit, "profit", allow_zero=True, signed=True)  # a loss is a target too
    session.execute(
        pg_insert(ProfitTarget)
        .values(season_id=season.id, unit_id=unit.id, profit=amount)
        .on_conflict_do_nothing(index_elements=["season_id", "unit_id"])
    )
    target = session.scalar(
        select(ProfitTarget)
        .where(ProfitTarget.season_id == season.id, ProfitTarget.unit_id == unit.id)
        .with_for_update()
    )
    before = {"profit": target.profit}
    target.profit = amount
    session.flush()
    record(
        session,
        principal,
        "budgets.profit_target_set",
        "budget_season",
        season.id,
        before=before,
        after={"unit": unit.code, "profit": amount},
    )
    return target


def budgeted_surplus(session: Session, unit: OrgUnit, fiscal_year: int) -> Decimal:
    """Income less spending of the unit's subtree: its own newest versions, and what the units
    below it have submitted (their drafts are nobody's figures yet)."""
    plan = planned(fiscal_year, sent_versions(unit.id), SURPLUS_KINDS).subquery()
    signed = case((BudgetCategory.side == "income", plan.c.amount), else_=-plan.c.amount)
    total = session.scalar(
        select(func.coalesce(func.sum(signed), 0))
        .select_from(plan)
        .join(BudgetCategory, BudgetCategory.id == plan.c.category_id)
        .join(OrgUnit, OrgUnit.id == plan.c.unit_id)
        .where(OrgUnit.path.startswith(unit.path))
    )
    return cents(total)


def check_profit(session: Session, unit: OrgUnit, plan: BudgetPlan, version: PlanVersion) -> None:
    """Refuse a profit or expense plan whose surplus strays from the reported profit (a
    year's figure: medium-term plans are not checked against it)."""
    if plan.plan_kind not in SURPLUS_KINDS or plan.horizon != "annual":
        return
    season = season_of(session, plan.fiscal_year)
    target = session.scalar(
        select(ProfitTarget).where(
            ProfitTarget.season_id == season.id, ProfitTarget.unit_id == unit.id
        )
    )
    if target is None:
        return
    surplus = budgeted_surplus(session, unit, plan.fiscal_year)
    difference = surplus - target.profit
    if abs(difference) > season.tolerance:
        raise InvalidInput(
            f"the budgeted surplus {surplus} differs from the profit reported to the group "
            f"{target.profit} by {difference} (tolerance {season.tolerance})",
            code="surplus_mismatch",
            errors={
                "surplus": str(surplus),
                "target": str(target.profit),
                "difference": str(difference),
                "tolerance": str(season.tolerance),
                "version": version.number,
            },
        )


def _submitted(kinds: dict[str, set[str]]) -> list[str]:
    return sorted(kind for kind, statuses in kinds.items() if statuses - {"draft"})


def progress(session: Session, principal: Principal, fiscal_year: int) -> dict[str, Any]:
    """Every planning unit in the reader's view: which plans it has submitted, which are in
    force, and whether it is late (nothing submitted by the deadline); its medium-term plans
    starting in the year are listed apart (``medium_term_submitted``)."""
    season = season_of(session, fiscal_year)
    units = session.scalars(
        select(OrgUnit)
        .where(
            OrgUnit.kind != "department",
            OrgUnit.active,
            visible_units(session, principal, "budgets:read"),
        )
        .order_by(tree_order(OrgUnit.path))
    ).all()
    sent = session.execute(
        select(BudgetPlan.unit_id, BudgetPlan.horizon, BudgetPlan.plan_kind, PlanVersion.status)
        .join(PlanVersion, PlanVersion.plan_id == BudgetPlan.id)
        .where(BudgetPlan.fiscal_year == fiscal_year)
    ).all()
    by_unit: dict[tuple[int, str], dict[str, set[str]]] = {}
    for unit_id, horizon, kind, status in sent:
        by_unit.setdefault((unit_id, horizon), {}).setdefault(kind, set()).add(status)
    rows = []
    for unit in units:
        kinds = by_unit.get((unit.id, "annual"), {})
        submitted = _submitted(kinds)
        rows.append(
            {
                "unit": unit.code,
                "name": unit.name,
                "kind": unit.kind,
                "submitted": submitted,
                "approved": sorted(k for k, s in kinds.items() if s & set(IN_FORCE)),
                "late": not submitted and today(session) > season.deadline,
                "medium_term_submitted": _submitted(by_unit.get((unit.id, "medium_term"), {})),
            }
        )
    return {
        "fiscal_year": fiscal_year,
        "deadline": season.deadline,
        "open": season.closed_at is None,
        "units": rows,
    }


def working_year(session: Session) -> int:
    """The year planners work on: the newest open season's, else the current year."""
    newest = session.scalar(
        select(func.max(BudgetSeason.fiscal_year)).where(BudgetSeason.closed_at.is_(None))
    )
    return newest or today(session).year
