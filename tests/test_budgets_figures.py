"""Consolidation up both trees (R-BUD-4) against an independent sum over random trees and every
source of actuals, plan vs actual from paid requests with its alerts (R-BUD-5), and what is left
on a budget line under concurrent spending (R-APR-7)."""

from __future__ import annotations

import threading
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from propgroup.approvals import service as approvals
from propgroup.approvals.models import ApprovalRequest, Payment, RequestLine
from propgroup.budgets import figures
from propgroup.budgets import service as budgets
from propgroup.budgets.checker import left_on_line
from propgroup.budgets.ledger import import_ledger
from propgroup.budgets.models import ActualEntry, BudgetCategory
from propgroup.db import tenant_session
from propgroup.org import service as org
from propgroup.org.models import OrgUnit
from propgroup.tenancy import service as tenancy
from tests.support.budgets import DIRECTOR, approved_plan, person
from tests.support.groups import demo_today, provision_demo

LEAVES = ["ADM-OFFICE", "ADM-TRAVEL", "COST-LABOR", "REV-FEE"]  # two plan kinds, both sides


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(
        control, "bud_fig", "预算数", people={"qian.staff": [("department_head", "SH-XTD")]}
    )
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


# --- R-BUD-4: consolidation equals an independent sum ------------------------------------

amounts = st.dictionaries(
    st.sampled_from(LEAVES),
    st.dictionaries(
        st.integers(1, 12), st.decimals(0, 99999, places=2, allow_nan=False), max_size=3
    ),
    max_size=3,
)
trees = st.lists(st.integers(0, 3), min_size=1, max_size=3)  # branches under each region
months = st.integers(1, 12)
spent = st.decimals(Decimal("0.01"), 9999, places=2, allow_nan=False)
signed = st.decimals(-999, 9999, places=2, allow_nan=False)
SPENDING = ["ADM-OFFICE", "ADM-TRAVEL"]
# What happened at a unit in the year: (line, month, amount) of paid claims and ledger rows,
# (month, amount) of recorded income, (line, month, amount, claim) of paid advances, ``claim``
# the (month, amount) of the paid claim reporting it, if one does.
activity = st.fixed_dictionaries(
    {
        "claims": st.lists(st.tuples(st.sampled_from(SPENDING), months, spent), max_size=3),
        "ledger": st.lists(st.tuples(st.sampled_from(LEAVES), months, signed), max_size=3),
        "income": st.lists(st.tuples(months, signed), max_size=2),
        "advances": st.lists(
            st.tuples(
                st.sampled_from(SPENDING), months, spent, st.none() | st.tuples(months, spent)
            ),
            max_size=2,
        ),
    }
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(shape=trees, data=st.data())
def test_consolidation_equals_an_independent_sum_r_bud_4(db, shape, data):
    savepoint = db.begin_nested()
    try:
        _check_random_tree(db, shape, data)
    finally:
        savepoint.rollback()


def _check_random_tree(db, shape, data):
    """Plans, paid requests, income and ledger rows over a random tree and random months; the
    figures of every unit and category, and what is left on a line, against sums made here by
    the rule of R-BUD-5: a unit-month the ledger has booked counts its ledger rows only, any
    other its paid claims and income; advances are never spent, only held until reported."""
    year, director = 2040, person(db, DIRECTOR)
    window = tuple(sorted(data.draw(st.tuples(months, months))))
    hq = org.get_root(db)
    top = org.create_unit(db, code="R-TOP", kind="region", name="top", parent=hq)
    units = [top]
    for r, branches in enumerate(shape):
        parent = top
        if r:
            parent = org.create_unit(db, code=f"R{r}", kind="region", name="r", parent=hq)
            units.append(parent)
        units += [
            org.create_unit(db, code=f"R{r}-B{b}", kind="branch", name="b", parent=parent)
            for b in range(branches)
        ]
    # (unit id, line, month) → amount, for each source; months the ledger holds per unit.
    planned, ledger, stand_in = defaultdict(Decimal), defaultdict(Decimal), defaultdict(Decimal)
    held, booked, ledger_rows = defaultdict(Decimal), set(), []
    for unit in units:
        by_kind = defaultdict(list)
        for code, by_month in data.draw(amounts).items():
            kind = "expense" if code.startswith("ADM") else "profit"
            by_kind[kind].append(
                {"category": code, "amounts": {str(m): a for m, a in by_month.items()}}
            )
            for month, amount in by_month.items():
                planned[(unit.id, code, month)] += amount
        for kind, lines in by_kind.items():
            version = budgets.open_plan(
                db, director, unit_id=unit.id, fiscal_year=year, plan_kind=kind
            )
            budgets.write_lines(db, director, version.id, lines)
        happened = data.draw(activity)
        for code, month, amount in happened["claims"]:
            _paid(db, director, unit, code, year, month, amount)
            stand_in[(unit.id, code, month)] += amount
        for month, amount in happened["income"]:
            db.add(_income(unit, db, year, month, amount))
            stand_in[(unit.id, "REV-FEE", month)] += amount
        for code, month, amount, claim in happened["advances"]:
            advance = _paid(db, director, unit, code, year, month, amount, "advance")
            if claim is None:
                held[(unit.id, code)] += amount
            else:
                _paid(db, director, unit, code, year, *claim, settles=advance.id)
                stand_in[(unit.id, code, claim[0])] += claim[1]
        for code, month, amount in happened["ledger"]:
            ledger_rows.append((code, unit.code, year, month, amount))
            ledger[(unit.id, code, month)] += amount
            booked.add((unit.id, month))
    if ledger_rows:
        body = "category,unit,year,month,amount\n" + "".join(
            ",".join(map(str, row)) + "\n" for row in ledger_rows
        )
        import_ledger(db, director, filename="random.csv", data=body.encode())
    db.flush()

    def actual(unit_id, code, month):
        source = ledger if (unit_id, month) in booked else stand_in
        return source[(unit_id, code, month)]

    rows = figures.rolled_up(db, hq, year, versions="latest", months=window)
    got = {(r["unit_id"], r["category_id"]): (r["plan"], r["actual"]) for r in rows}
    only_hq = figures.rolled_up(db, hq, year, versions="latest", months=window, depth=0)
    assert {(r["unit_id"], r["category_id"]): (r["plan"], r["actual"]) for r in only_hq} == {
        key: value for key, value in got.items() if key[0] == hq.id
    }
    in_window = range(window[0], window[1] + 1)
    every_unit = db.scalars(select(OrgUnit).where(OrgUnit.kind != "department")).all()
    for unit in every_unit:
        below = [u.id for u in units if u.path.startswith(unit.path)]
        for code in [*LEAVES, "ADM", "COST", "REV"]:
            cells = [
                (u, c, m) for u in below for c in LEAVES if c.startswith(code) for m in in_window
            ]
            expected = (
                sum((planned[cell] for cell in cells), Decimal(0)),
                sum((actual(*cell) for cell in cells), Decimal(0)),
            )
            assert got.get((unit.id, _category(db, code).id), (0, 0)) == expected, (unit.code, code)
    for unit in units:  # no plan in force: what is left is minus what was spent and is held
        for code in SPENDING:
            spent_in_year = sum((actual(unit.id, code, m) for m in range(1, 13)), Decimal(0))
            left = left_on_line(db, unit.id, _category(db, code).id, year)
            assert left == -spent_in_year - held[(unit.id, code)], (unit.code, code)


def _paid(db, by, unit, code, year, month, amount, request_type="expense_claim", settles=None):
    """A request paid mid-month (local time), written as the approvals engine leaves one: the
    engine's own path is walked in the tests below; here it would cost seconds per example."""
    paid_at = datetime(year, month, 15, 4, tzinfo=UTC)
    request = ApprovalRequest(
        request_type=request_type,
        unit_id=unit.id,
        requester_id=by.id,
        title="t",
        payee="p",
        total_amount=amount,
        status="paid",
        settles_request_id=settles,
        submitted_at=paid_at,
    )
    db.add(request)
    db.flush()
    db.add(
        RequestLine(
            request_id=request.id, category="c", description="d", amount=amount, budget_line=code
        )
    )
    db.add(
        Payment(
            request_id=request.id, method="transfer", amount=amount, paid_by=by.id, paid_at=paid_at
        )
    )
    return request


def _income(unit, db, year, month, amount):
    return ActualEntry(
        unit_id=unit.id,
        category_id=_category(db, "REV-FEE").id,
        fiscal_year=year,
        month=month,
        amount=amount,
        source="income",
    )


def _category(db, code):
    return db.scalar(select(BudgetCategory).where(BudgetCategory.code == code))


# --- R-BUD-5: actuals from paid requests, alerts -----------------------------------------


def _claim(session, amount, line="ADM-TRAVEL"):
    request = approvals.create_request(
        session,
        person(session, "qian.staff"),
        request_type="expense_claim",
        unit_id=org.get_unit_by_code(session, "SH-XTD").id,
        title="trip",
        payee="qian",
        lines=[{"category": "travel", "description": "d", "amount": amount, "budget_line": line}],
    )
    approvals.submit(session, person(session, "qian.staff"), request.id)
    return request


def test_paid_requests_are_actuals_rolled_up_with_alerts_r_bud_5(db):
    year = approvals.today(db).year
    approved_plan(db, "SH-XTD", year, "expense", {"ADM-TRAVEL": "1000.00"}, by="li.kuaiji")
    request = _claim(db, "850.00")
    for step, login in enumerate(["li.kuaiji", "wang.xiangmu"], start=1):
        approvals.decide(db, person(db, login), request.id, step=step, approve=True)
    approvals.pay(db, person(db, "zhao.chuna"), request.id, method="transfer", reference=None)
    report = figures.plan_vs_actual(db, person(db, DIRECTOR), org.get_root(db).id, year, depth=2)
    rows = {(r["unit"], r["category"]): r for r in report["rows"]}
    for unit in ("SH-XTD", "EAST", "HQ"):  # accumulated at every parent
        travel = rows[(unit, "ADM-TRAVEL")]
        assert (travel["plan"], travel["actual"]) == (Decimal("1000.00"), Decimal("850.00"))
        assert (travel["variance"], travel["rate"], travel["alert"]) == (
            Decimal("-150.00"),
            Decimal("0.8500"),
            "over_80",
        )
        assert rows[(unit, "ADM")]["actual"] == Decimal("850.00")
    assert left_on_line(
        db, org.get_unit_by_code(db, "SH-XTD").id, _category(db, "ADM-TRAVEL").id, year
    ) == Decimal("150.00")


# --- R-APR-7: remaining budget under concurrent spending ---------------------------------


def test_remaining_budget_holds_under_concurrent_submissions_r_apr_7(control, group):
    year = demo_today().year
    with tenant_session(control, group.schema_name) as session:
        approved_plan(session, "SH-LJZ", year, "expense", {"ADM-COMM": "1000.00"}, by=DIRECTOR)
        session.commit()
    results, barrier = [], threading.Barrier(10)

    def submit_one():
        with tenant_session(control, group.schema_name) as session:
            request = approvals.create_request(
                session,
                person(session, DIRECTOR),
                request_type="expense_claim",
                unit_id=org.get_unit_by_code(session, "SH-LJZ").id,
                title="phone",
                payee="carrier",
                lines=[
                    {
                        "category": "comm",
                        "description": "d",
                        "amount": "150.00",
                        "budget_line": "ADM-COMM",
                    }
                ],
            )
            session.commit()
            barrier.wait()
            approvals.submit(session, person(session, DIRECTOR), request.id)
            session.commit()
            results.append(request.budget_overrun)

    threads = [threading.Thread(target=submit_one) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 6 × 150 fit in 1000; every later one finds what the others hold.
    assert sorted(results) == [False] * 6 + [True] * 4
    with tenant_session(control, group.schema_name) as session:
        unit = org.get_unit_by_code(session, "SH-LJZ")
        assert left_on_line(session, unit.id, _category(session, "ADM-COMM").id, year) == Decimal(
            "-500.00"
        )


def test_a_hold_from_last_year_still_holds_after_new_year_r_apr_7(db):
    """A claim sent on 31 December and still in approval keeps its hold in January."""
    year = approvals.today(db).year
    approved_plan(db, "HZ-XH", year, "expense", {"ADM-VEHICLE": "1000.00"}, by=DIRECTOR)
    unit = org.get_unit_by_code(db, "HZ-XH")
    request = approvals.create_request(
        db,
        person(db, DIRECTOR),
        request_type="expense_claim",
        unit_id=unit.id,
        title="fuel",
        payee="station",
        lines=[
            {
                "category": "car",
                "description": "d",
                "amount": "800.00",
                "budget_line": "ADM-VEHICLE",
            }
        ],
    )
    approvals.submit(db, person(db, DIRECTOR), request.id)
    request.submitted_at = request.submitted_at.replace(year=year - 1, month=12, day=31)
    db.flush()
    assert left_on_line(db, unit.id, _category(db, "ADM-VEHICLE").id, year) == Decimal("200.00")
