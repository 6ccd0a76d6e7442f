"""Budget set-ups walked through the real services: a season, a plan, its approval."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from propgroup.approvals import service as approvals
from propgroup.approvals.models import ApprovalRequest
from propgroup.budgets import seasons
from propgroup.budgets import service as budgets
from propgroup.budgets.models import BudgetSeason, PlanVersion
from propgroup.identity import service as identity
from propgroup.identity.models import User
from propgroup.identity.principals import Principal
from propgroup.org import service as org

DIRECTOR = "wu.caiwuzongjian"  # finance director at HQ: opens seasons, locks versions
# Who approves a unit's plan (the level above), by the demo tree's unit kinds.
PLAN_APPROVERS = {
    "branch": ["sun.diqucaiwu", "zhou.zongjingli"],
    "region": [DIRECTOR],
    "hq": ["zheng.guanliyuan"],
}


def person(session, login: str) -> Principal:
    return identity.user_principal(session.scalar(select(User).where(User.login == login)))


def ensure_season(session, year: int, tolerance: str = "0.00") -> BudgetSeason:
    found = session.scalar(select(BudgetSeason).where(BudgetSeason.fiscal_year == year))
    if found is not None and found.closed_at is None:
        return found
    return seasons.open_season(
        session,
        person(session, DIRECTOR),
        fiscal_year=year,
        deadline=approvals.today(session),
        tolerance=tolerance,
    )


def lines(amounts: dict[str, object], owner: str) -> list[dict]:
    """One line per category, the yearly figure spread as 12 equal months (cents to December)."""
    out = []
    for code, yearly in amounts.items():
        total = Decimal(str(yearly))
        month = (total / 12).quantize(Decimal("0.01"), rounding="ROUND_DOWN")
        out.append(
            {
                "category": code,
                "owner_department": owner,
                "amounts": [month] * 11 + [total - month * 11],
            }
        )
    return out


def sent_plan(
    session, unit_code: str, year: int, kind: str, amounts: dict[str, object], *, by: str
) -> PlanVersion:
    """A plan's first version compiled by ``by`` (the unit's finance department answering for
    every line) and submitted to the level above, in an open season."""
    ensure_season(session, year)
    unit = org.get_unit_by_code(session, unit_code)
    version = budgets.open_plan(
        session, person(session, by), unit_id=unit.id, fiscal_year=year, plan_kind=kind
    )
    budgets.write_lines(
        session, person(session, by), version.id, lines(amounts, f"{unit_code}-FIN")
    )
    budgets.submit_version(session, person(session, by), version.id)
    return version


def approved_plan(
    session, unit_code: str, year: int, kind: str, amounts: dict[str, object], *, by: str
) -> PlanVersion:
    """A plan version in force: compiled by ``by``, approved by the level above."""
    version = sent_plan(session, unit_code, year, kind, amounts, by=by)
    unit_kind = org.get_unit_by_code(session, unit_code).kind
    approve_all(session, session.get(ApprovalRequest, version.approval_request_id), unit_kind)
    return version


def approve_all(session, request: ApprovalRequest, unit_kind: str) -> None:
    for step, login in enumerate(PLAN_APPROVERS[unit_kind], start=1):
        approvals.decide(session, person(session, login), request.id, step=step, approve=True)
