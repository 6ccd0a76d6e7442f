"""Plans and their versions (R-BUD-1…3): compile, revise, send to the level above, lock.

A plan is a unit's plan of one kind for one fiscal year, in months, or for three years from it
in years (a medium-term plan). Its content lives in versions: one is open for editing at a
time, one is in force, earlier ones stay readable for comparison.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from functools import partial
from typing import Any

from sqlalchemy import Select, func, insert, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from propgroup.approvals import service as approvals
from propgroup.approvals.models import ApprovalRequest
from propgroup.audit.service import record
from propgroup.budgets import seasons
from propgroup.budgets.categories import leaf_by_code, tree_order
from propgroup.budgets.figures import chosen_versions
from propgroup.budgets.horizons import Periods, periods_of, years_of
from propgroup.budgets.models import (
    HORIZONS,
    IN_FORCE,
    MEDIUM_TERM_YEARS,
    OPEN,
    PLAN_KINDS,
    BudgetCategory,
    BudgetPlan,
    PlanLine,
    PlanVersion,
)
from propgroup.budgets.periods import DIGITS, check_year
from propgroup.budgets.sheets import UNWRITABLE
from propgroup.db import BIGINT_MAX
from propgroup.errors import Conflict, InvalidInput, NotFound
from propgroup.identity.authz import authorize, visible_units
from propgroup.identity.models import RoleAssignment, User
from propgroup.identity.principals import SYSTEM, Principal
from propgroup.money import amount_problem
from propgroup.org import service as org
from propgroup.org.models import OrgUnit

PLANNING_UNIT_KINDS = ("hq", "region", "branch")
NOTE_LENGTH = 500
ZERO = Decimal("0.00")
# Where a problem of a line is reported: (index of the line, its field) → the name in the
# errors, "lines[3].amounts.5" for the API, the row and column of a spreadsheet cell for a file.
Place = Callable[[int, str], str]


def line_field(index: int, field: str) -> str:
    return f"lines[{index}].{field}"


# --- reading ----------------------------------------------------------------------------


def _version(session: Session, version_id: int, *, lock: bool = False) -> PlanVersion:
    version = (
        session.get(PlanVersion, version_id, with_for_update=lock)
        if 0 < version_id <= BIGINT_MAX
        else None
    )
    if version is None:
        raise NotFound(f"plan version {version_id} does not exist", code="version_not_found")
    return version


def _plan_and_unit(
    session: Session, principal: Principal, plan_id: int, action: str
) -> tuple[BudgetPlan, OrgUnit]:
    plan = session.get(BudgetPlan, plan_id) if 0 < plan_id <= BIGINT_MAX else None
    if plan is None:
        raise NotFound(f"plan {plan_id} does not exist", code="plan_not_found")
    unit = org.get_unit(session, plan.unit_id)
    authorize(session, principal, action, unit)
    return plan, unit


def read_plan(session: Session, principal: Principal, plan_id: int) -> BudgetPlan:
    return _plan_and_unit(session, principal, plan_id, "budgets:read")[0]


def read_version(
    session: Session, principal: Principal, version_id: int, action: str = "budgets:read"
) -> PlanVersion:
    version = _version(session, version_id)
    _plan_and_unit(session, principal, version.plan_id, action)
    return version


def versions_of(session: Session, plan: BudgetPlan) -> Sequence[PlanVersion]:
    return session.scalars(
        select(PlanVersion).where(PlanVersion.plan_id == plan.id).order_by(PlanVersion.number)
    ).all()


def plan_of(session: Session, version: PlanVersion) -> BudgetPlan:
    return session.get(BudgetPlan, version.plan_id)


def version_periods(session: Session, version_id: int) -> Periods:
    """The months, or the years of a medium-term plan, that the version's lines have."""
    return periods_of(plan_of(session, _version(session, version_id)))


def lines_of(session: Session, version_id: int) -> list[dict[str, Any]]:
    """A version's lines in chart order, each with an amount per period (missing ones are 0):
    twelve months and their quarters, or the years of a medium-term plan."""
    periods = version_periods(session, version_id)
    rows = session.execute(
        select(PlanLine, BudgetCategory.code, BudgetCategory.name)
        .join(BudgetCategory, BudgetCategory.id == PlanLine.category_id)
        .where(PlanLine.version_id == version_id)
        .order_by(tree_order(BudgetCategory.path))
    ).all()
    amounts: dict[int, dict[int, Decimal]] = {line.id: {} for line, _, _ in rows}
    table = periods.table
    for line_id, period, amount in session.execute(
        select(table.line_id, periods.column, table.amount).where(table.line_id.in_(list(amounts)))
    ):
        amounts[line_id][period] = amount
    return [
        _line_view(session, periods, line, code, name, amounts[line.id])
        for line, code, name in rows
    ]


def _line_view(
    session: Session,
    periods: Periods,
    line: PlanLine,
    code: str,
    name: str,
    by_period: dict[int, Decimal],
) -> dict[str, Any]:
    amounts = [by_period.get(period, ZERO) for period in periods.keys]
    return {
        "category": code,
        "name": name,
        "owner_department": org.get_unit(session, line.owner_unit_id).code
        if line.owner_unit_id
        else None,
        "owner_login": session.get(User, line.owner_user_id).login if line.owner_user_id else None,
        "note": line.note,
        "amounts": amounts,
        "quarters": [sum(amounts[q * 3 : q * 3 + 3], ZERO) for q in range(4)]
        if periods.monthly
        else None,
        "total": sum(amounts, ZERO),
    }


def compare_versions(
    session: Session, principal: Principal, version_id: int, other_id: int
) -> list[dict[str, Any]]:
    """Line by line, month by month: what ``other`` changes against ``version`` (R-BUD-5)."""
    version = read_version(session, principal, version_id)
    other = read_version(session, principal, other_id)
    if version.plan_id != other.plan_id:
        raise InvalidInput("only versions of one plan are compared", code="different_plans")
    before = {line["category"]: line for line in lines_of(session, version.id)}
    after = {line["category"]: line for line in lines_of(session, other.id)}
    periods = version_periods(session, version.id)
    absent = {"amounts": [ZERO] * len(periods.keys), "owner_department": None, "owner_login": None}
    changes = []
    for code in sorted(before.keys() | after.keys()):
        old, new = before.get(code, absent), after.get(code, absent)
        owners = [(line["owner_department"] or line["owner_login"]) for line in (old, new)]
        if old["amounts"] != new["amounts"] or owners[0] != owners[1]:
            changes.append(
                {
                    "category": code,
                    "before": old["amounts"],
                    "after": new["amounts"],
                    "difference": [
                        b - a for a, b in zip(old["amounts"], new["amounts"], strict=True)
                    ],
                    "owner_before": owners[0],
                    "owner_after": owners[1],
                }
            )
    return changes


def visible_plans(
    session: Session,
    principal: Principal,
    *,
    unit_id: int | None = None,
    fiscal_year: int | None = None,
    plan_kind: str | None = None,
    horizon: str | None = None,
) -> Select:
    """Plans of the units the principal may read, optionally of one unit's subtree."""
    query = (
        select(BudgetPlan)
        .join(OrgUnit, OrgUnit.id == BudgetPlan.unit_id)
        .where(visible_units(session, principal, "budgets:read"))
    )
    if unit_id is not None:
        top = org.get_unit(session, unit_id)
        query = query.where(OrgUnit.path.startswith(top.path))
    if fiscal_year is not None:
        query = query.where(BudgetPlan.fiscal_year == fiscal_year)
    if plan_kind is not None:
        query = query.where(BudgetPlan.plan_kind == plan_kind)
    if horizon is not None:
        query = query.where(BudgetPlan.horizon == horizon)
    return query.order_by(
        BudgetPlan.fiscal_year.desc(), OrgUnit.path, BudgetPlan.plan_kind, BudgetPlan.horizon
    )


# --- compiling ----------------------------------------------------------------------------


def _planning_unit(session: Session, principal: Principal, unit_id: int) -> OrgUnit:
    unit = org.get_unit(session, unit_id)
    if unit.kind not in PLANNING_UNIT_KINDS:
        raise InvalidInput(
            "plans are made by HQ, a region or a branch; a department owns lines of one (R-BUD-3)",
            code="bad_unit",
        )
    authorize(session, principal, "budgets:write", unit)
    return unit


def open_plan(
    session: Session,
    principal: Principal,
    *,
    unit_id: int,
    fiscal_year: int,
    plan_kind: str,
    horizon: str = "annual",
) -> PlanVersion:
    """A unit's plan of a kind for a year (or, medium-term, for three years from it), with its
    first version as an empty draft."""
    if plan_kind not in PLAN_KINDS:
        raise InvalidInput(f"plan kind is one of {list(PLAN_KINDS)}", code="bad_plan_kind")
    if horizon not in HORIZONS:
        raise InvalidInput(f"horizon is one of {list(HORIZONS)}", code="bad_horizon")
    check_year(fiscal_year)
    if horizon == "medium_term":
        check_year(fiscal_year + MEDIUM_TERM_YEARS - 1)
    unit = _planning_unit(session, principal, unit_id)
    plan = BudgetPlan(
        unit_id=unit.id,
        fiscal_year=fiscal_year,
        plan_kind=plan_kind,
        horizon=horizon,
        created_by=principal.id,
    )
    try:
        with session.begin_nested():  # a concurrent open of the same plan loses here, cleanly
            session.add(plan)
    except IntegrityError as exc:
        raise Conflict(
            f"{unit.code} has its {years_of(plan)} {plan_kind} plan ({horizon}) already: revise it",
            code="plan_exists",
        ) from exc
    version = PlanVersion(plan_id=plan.id, number=1, status="draft", created_by=principal.id)
    session.add(version)
    session.flush()
    record(
        session,
        principal,
        "budgets.plan_opened",
        "budget_plan",
        plan.id,
        after={"unit": unit.code, "year": fiscal_year, "kind": plan_kind, "horizon": horizon},
    )
    return version


def revise_plan(
    session: Session, principal: Principal, plan_id: int, *, note: str | None = None
) -> PlanVersion:
    """The next version, a draft copy of the one in force (or of the latest); the rest stay."""
    plan, unit = _plan_and_unit(session, principal, plan_id, "budgets:write")
    session.execute(select(BudgetPlan.id).where(BudgetPlan.id == plan.id).with_for_update())
    versions = versions_of(session, plan)
    if any(v.status in OPEN for v in versions):
        raise Conflict(
            "this plan has a version open already: change or withdraw that one",
            code="version_open",
        )
    base = next((v for v in versions if v.status in IN_FORCE), versions[-1])
    if base.status == "locked":  # HQ fixed it as the year's target: only HQ reopens it
        authorize(session, principal, "budgets:admin", unit)
    version = PlanVersion(
        plan_id=plan.id,
        number=versions[-1].number + 1,
        status="draft",
        based_on_id=base.id,
        note=note,
        created_by=principal.id,
    )
    session.add(version)
    session.flush()
    _copy_lines(session, periods_of(plan), base.id, version.id)
    record(
        session,
        principal,
        "budgets.plan_revised",
        "budget_plan",
        plan.id,
        after={"version": version.number, "based_on": base.number, "note": note},
    )
    return version


def _copy_lines(session: Session, periods: Periods, source_id: int, target_id: int) -> None:
    # Two set-based copies: lines, then their amounts matched by category (unique per version).
    session.execute(
        insert(PlanLine).from_select(
            ["version_id", "category_id", "owner_unit_id", "owner_user_id", "note"],
            select(
                literal(target_id),
                PlanLine.category_id,
                PlanLine.owner_unit_id,
                PlanLine.owner_user_id,
                PlanLine.note,
            ).where(PlanLine.version_id == source_id),
        )
    )
    old, new = PlanLine.__table__.alias("old"), PlanLine.__table__.alias("new")
    table = periods.table
    session.execute(
        insert(table).from_select(
            ["line_id", periods.column.key, "amount"],
            select(new.c.id, periods.column, table.amount)
            .join(old, old.c.id == table.line_id)
            .join(new, new.c.category_id == old.c.category_id)
            .where(old.c.version_id == source_id, new.c.version_id == target_id),
        )
    )


def _locked_version(
    session: Session, principal: Principal, version_id: int, action: str, *, lock: bool = True
) -> tuple[PlanVersion, BudgetPlan, OrgUnit]:
    version = _version(session, version_id, lock=lock)
    plan, unit = _plan_and_unit(session, principal, version.plan_id, action)
    return version, plan, unit


def draft_version(
    session: Session, principal: Principal, version_id: int, *, lock: bool = True
) -> tuple[PlanVersion, BudgetPlan, OrgUnit]:
    """The version (locked for editing) if the principal may write it and it is a draft;
    ``lock=False`` only asks, as before an upload that takes its time."""
    version, plan, unit = _locked_version(
        session, principal, version_id, "budgets:write", lock=lock
    )
    if version.status != "draft":
        raise Conflict(
            f"version {version.number} is {version.status}: only a draft is edited; "
            "revise the plan for a new version",
            code="version_not_draft",
            errors={"status": version.status},
        )
    return version, plan, unit


def write_lines(
    session: Session,
    principal: Principal,
    version_id: int,
    lines: Sequence[dict[str, Any]],
    *,
    place: Place = line_field,
) -> PlanVersion:
    """Replace a draft's lines. Every line is checked first; one bad value writes nothing.
    ``place`` names where each problem is (a spreadsheet names row and column)."""
    version, plan, unit = draft_version(session, principal, version_id)
    periods = periods_of(plan)
    checked = _checked_lines(session, plan, unit, lines, periods, place)
    before = _totals(session, periods, version.id)
    session.execute(PlanLine.__table__.delete().where(PlanLine.version_id == version.id))
    for line, _ in checked:
        line.version_id = version.id
        session.add(line)
    session.flush()
    amounts = [
        periods.row(line.id, period, amount)
        for line, by_period in checked
        for period, amount in by_period.items()
    ]
    if amounts:
        session.execute(insert(periods.table), amounts)
    record(
        session,
        principal,
        "budgets.lines_written",
        "budget_plan_version",
        version.id,
        before=before,
        after=_totals(session, periods, version.id),
    )
    return version


def _totals(session: Session, periods: Periods, version_id: int) -> dict[str, str]:
    """Each category's total (its year, or a medium-term plan's years): what an audit event
    keeps of a version's content."""
    table = periods.table
    rows = session.execute(
        select(BudgetCategory.code, func.coalesce(func.sum(table.amount), 0))
        .join(PlanLine, PlanLine.category_id == BudgetCategory.id)
        .outerjoin(table, table.line_id == PlanLine.id)
        .where(PlanLine.version_id == version_id)
        .group_by(BudgetCategory.code)
    ).all()
    return {code: str(total) for code, total in rows}


class _Problems:
    """Every problem of an input, each under the field it is about, refused together."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def raise_any(self, what: str) -> None:
        if self.errors:
            first = next(iter(self.errors.items()))
            raise InvalidInput(
                f"{what}: {len(self.errors)} problem(s), first {first[0]}: {first[1]}",
                code="invalid_lines",
                errors=self.errors,
            )


def _checked_lines(
    session: Session,
    plan: BudgetPlan,
    unit: OrgUnit,
    lines: Sequence[dict[str, Any]],
    periods: Periods,
    place: Place,
) -> list[tuple[PlanLine, dict[int, Decimal]]]:
    problems, seen, checked = _Problems(), set(), []
    for index, spec in enumerate(lines):
        where = partial(place, index)
        category = _line_category(session, plan, spec.get("category"), where, problems)
        if category is not None and category.id in seen:
            problems.add(where("category"), f"{category.code} is planned twice")
        amounts = _line_amounts(spec.get("amounts"), periods, where, problems)
        owner_unit, owner_user = _line_owner(session, unit, spec, where, problems)
        note = _line_note(spec.get("note"), where, problems)
        if category is not None:
            seen.add(category.id)
            line = PlanLine(
                category_id=category.id,
                owner_unit_id=owner_unit,
                owner_user_id=owner_user,
                note=note,
            )
            checked.append((line, amounts))
    problems.raise_any("the plan's lines were refused")
    return checked


def _line_note(note: object, where: Callable[[str], str], problems: _Problems) -> str | None:
    """A note as a spreadsheet gives it back: line breaks as \\n, no control characters."""
    if not note:
        return None
    note = str(note).replace("\r\n", "\n").replace("\r", "\n")
    if len(note) > NOTE_LENGTH:
        problems.add(where("note"), f"a note holds at most {NOTE_LENGTH} characters")
    elif UNWRITABLE.search(note):
        problems.add(where("note"), "a note holds no control characters")
    return note


def _line_category(
    session: Session,
    plan: BudgetPlan,
    code: object,
    where: Callable[[str], str],
    problems: _Problems,
) -> BudgetCategory | None:
    try:
        category = leaf_by_code(session, str(code))
    except (NotFound, InvalidInput) as exc:
        problems.add(where("category"), exc.message)
        return None
    if category.plan_kind != plan.plan_kind:
        problems.add(where("category"), f"{category.code} belongs to the {category.plan_kind} plan")
        return None
    return category


def _line_amounts(
    raw: object, periods: Periods, where: Callable[[str], str], problems: _Problems
) -> dict[int, Decimal]:
    """An amount per period as a list, or some of them as {period: amount} (months 1-12, or
    the years of a medium-term plan); blanks are left out."""
    count, unit = len(periods.keys), periods.unit
    if isinstance(raw, list | tuple):
        if len(raw) != count:
            problems.add(where("amounts"), f"give {count} amounts, one per {unit}")
            return {}
        raw = dict(zip(periods.keys, raw, strict=True))
    if not isinstance(raw, dict):
        problems.add(where("amounts"), f"give {count} amounts, one per {unit}")
        return {}
    amounts = {}
    for key, value in raw.items():
        period = int(key) if DIGITS.fullmatch(str(key)) else 0
        if period not in periods.keys:
            problems.add(
                where(f"amounts.{key}"), f"a {unit} is {periods.keys[0]} to {periods.keys[-1]}"
            )
        elif value not in (None, ""):
            checked = amount_problem(value, allow_zero=True)
            if isinstance(checked, str):
                problems.add(where(f"amounts.{period}"), f"the amount {checked}")
            else:
                amounts[period] = checked
    return amounts


def _line_owner(
    session: Session,
    unit: OrgUnit,
    spec: dict[str, Any],
    where: Callable[[str], str],
    problems: _Problems,
) -> tuple[int | None, int | None]:
    """R-BUD-3: a department of the plan's unit, or a person, answers for the line."""
    department, login = spec.get("owner_department"), spec.get("owner_login")
    if department and login:
        problems.add(where("owner_department"), "a line has one owner: a department or a person")
        return None, None
    if department:
        owner = session.scalar(
            select(OrgUnit.id).where(
                OrgUnit.code == department,
                OrgUnit.parent_id == unit.id,
                OrgUnit.kind == "department",
            )
        )
        if owner is None:
            problems.add(where("owner_department"), f"{department} is no department of {unit.code}")
        return owner, None
    if login:  # someone holding a role in the unit's subtree, not any user of the group
        owner = session.scalar(people_at(unit).where(User.login == login).limit(1))
        if owner is None:
            problems.add(where("owner_login"), f"{login} holds no role at {unit.code}")
        return None, owner.id if owner else None
    return None, None


# --- to the level above and back --------------------------------------------------------


def submit_version(session: Session, principal: Principal, version_id: int) -> PlanVersion:
    """Send a draft to the level above through the approvals engine (R-BUD-2, §7.2)."""
    version, plan, unit = draft_version(session, principal, version_id)
    seasons.check_open(session, plan.fiscal_year)
    lines = lines_of(session, version.id)
    _check_complete(lines)
    seasons.check_profit(session, unit, plan, version)
    request_lines = _request_lines(session, periods_of(plan), lines)
    kind = PLAN_KINDS[plan.plan_kind] if plan.horizon == "annual" else HORIZONS[plan.horizon]
    title = f"{years_of(plan)} {kind} v{version.number} · {unit.name}"[:200]
    request = (
        session.get(ApprovalRequest, version.approval_request_id)
        if version.approval_request_id
        else None
    )
    if request is not None and request.status == "rejected":  # sent back: its next revision
        approvals.revise_request(
            session,
            principal,
            request.id,
            title=title,
            payee=unit.name,
            lines=request_lines,
            by_owner=True,
        )
    else:
        request = approvals.create_request(
            session,
            principal,
            request_type="budget_plan",
            unit_id=unit.id,
            title=title,
            payee=unit.name,
            lines=request_lines,
            by_owner=True,
        )
    version.approval_request_id = request.id
    version.status, version.submitted_at = "submitted", approvals.now()
    approvals.submit(session, principal, request.id, by_owner=True)
    record(
        session,
        principal,
        "budgets.version_submitted",
        "budget_plan_version",
        version.id,
        after={"plan": plan.id, "number": version.number, "request": request.id},
    )
    return version


def _check_complete(lines: Sequence[dict[str, Any]]) -> None:
    problems = _Problems()
    if not any(line["total"] for line in lines):
        problems.add("lines", "the plan has no amounts")
    for index, line in enumerate(lines):
        if line["total"] and not (line["owner_department"] or line["owner_login"]):
            problems.add(
                f"lines[{index}].owner_department",
                f"{line['category']}: a department or a person answers for each line (R-BUD-3)",
            )
    problems.raise_any("the plan is not ready to submit")


def _request_lines(
    session: Session, periods: Periods, lines: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """What the approvers sign: the annual figure of each top category, year by year for a
    medium-term plan."""
    chart = {c.code: c for c in session.scalars(select(BudgetCategory))}
    by_id = {c.id: c for c in chart.values()}
    tops: dict[tuple[str, str], Decimal] = {}
    for line in lines:
        top = by_id[int(chart[line["category"]].path.strip("/").split("/")[0])]
        figures = (
            [("", line["total"])]
            if periods.monthly
            else [
                (f" {year}", amount)
                for year, amount in zip(periods.keys, line["amounts"], strict=True)
            ]
        )
        for year, amount in figures:
            tops[(top.code, year)] = tops.get((top.code, year), ZERO) + amount
    return [
        {"category": code, "description": chart[code].name + year, "amount": total}
        for (code, year), total in tops.items()
        if total > 0
    ]


def withdraw_version(session: Session, principal: Principal, version_id: int) -> PlanVersion:
    """Take a submitted version back to draft (its approval request is withdrawn). The request
    is locked before the version, in the order a decision takes them."""
    version = read_version(session, principal, version_id, "budgets:write")
    if version.status != "submitted":
        raise Conflict(
            f"version {version.number} is {version.status}, not submitted", code="not_submitted"
        )
    approvals.withdraw(session, principal, version.approval_request_id, by_owner=True)
    session.refresh(version)
    return version


def plan_request_settled(session: Session, request: ApprovalRequest) -> None:
    """The engine's word on a version: approved puts it in force, anything else back to draft."""
    version = session.scalar(
        select(PlanVersion).where(PlanVersion.approval_request_id == request.id).with_for_update()
    )
    if version is None or version.status != "submitted":
        return
    superseded = []
    if request.status == "approved":
        for in_force in session.scalars(
            select(PlanVersion).where(
                PlanVersion.plan_id == version.plan_id, PlanVersion.status.in_(IN_FORCE)
            )
        ):
            in_force.status = "superseded"
            superseded.append(in_force.number)
        session.flush()  # one version in force: the old one steps down first
        version.status, version.approved_at = "approved", request.decided_at
    else:
        version.status = "draft"
    session.flush()
    record(
        session,
        SYSTEM,
        f"budgets.version_{version.status}",
        "budget_plan_version",
        version.id,
        after={"request": request.id, "request_status": request.status, "superseded": superseded},
    )


def lock_version(session: Session, principal: Principal, version_id: int) -> PlanVersion:
    """HQ fixes an approved version as the year's operating target (经营指标, §7.4)."""
    version, plan, _ = _locked_version(session, principal, version_id, "budgets:admin")
    if version.status != "approved":
        raise Conflict(
            f"version {version.number} is {version.status}; only an approved one is locked",
            code="not_approved",
        )
    # The plan row, as revise_plan takes it: no revision opens while this one is judged, and
    # one already open would replace the locked target on its approval, HQ unasked.
    session.execute(select(BudgetPlan.id).where(BudgetPlan.id == plan.id).with_for_update())
    pending = [v.number for v in versions_of(session, plan) if v.status in OPEN]
    if pending:
        raise Conflict(
            f"version {pending[0]} of this plan is open: it is approved or withdrawn first, "
            "then the one in force is locked",
            code="version_open",
        )
    version.status, version.locked_at = "locked", approvals.now()
    session.flush()
    record(session, principal, "budgets.version_locked", "budget_plan_version", version.id)
    return version


# --- what the portal lists ----------------------------------------------------------------


def people_at(unit: OrgUnit) -> Select[tuple[User]]:
    """Active people holding a role at ``unit`` or below it: who may answer for a line."""
    return (
        select(User)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .join(OrgUnit, OrgUnit.id == RoleAssignment.unit_id)
        .where(User.active, OrgUnit.path.startswith(unit.path))
        .distinct()
    )


def line_owners(
    session: Session, principal: Principal, unit: OrgUnit
) -> tuple[Sequence[OrgUnit], Sequence[User]]:
    """The departments of ``unit`` and the people who may answer for its lines (R-BUD-3)."""
    authorize(session, principal, "budgets:read", unit)
    departments = session.scalars(
        select(OrgUnit)
        .where(OrgUnit.parent_id == unit.id, OrgUnit.kind == "department", OrgUnit.active)
        .order_by(OrgUnit.id)
    ).all()
    return departments, session.scalars(people_at(unit).order_by(User.login)).all()


def planning_units(
    session: Session,
    principal: Principal,
    action: str = "budgets:read",
    *,
    children_of: OrgUnit | None = None,
) -> Sequence[OrgUnit]:
    """Active HQ, regions and branches where ``principal`` may ``action``, in tree order;
    only the direct sub-units of ``children_of`` when given."""
    query = select(OrgUnit).where(
        OrgUnit.kind.in_(PLANNING_UNIT_KINDS),
        OrgUnit.active,
        visible_units(session, principal, action),
    )
    if children_of is not None:
        query = query.where(OrgUnit.parent_id == children_of.id)
    return session.scalars(query.order_by(tree_order(OrgUnit.path))).all()


def newest_versions(
    session: Session, principal: Principal, fiscal_year: int
) -> Sequence[tuple[BudgetPlan, PlanVersion]]:
    """Each of the year's plans (not the medium-term ones) the principal may read, with its
    newest version, in one query."""
    check_year(fiscal_year)
    newest = chosen_versions("latest").subquery()
    query = (
        visible_plans(session, principal, fiscal_year=fiscal_year, horizon="annual")
        .add_columns(PlanVersion)
        .join(newest, newest.c.plan_id == BudgetPlan.id)
        .join(PlanVersion, PlanVersion.id == newest.c.id)
    )
    return [(plan, version) for plan, version in session.execute(query)]
