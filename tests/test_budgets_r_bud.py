"""Plans on the demo group: versions through the approvals engine (R-BUD-2), line owners
(R-BUD-3), bad input that writes nothing, the season and its profit check (R-BUD-2)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from propgroup.approvals import service as approvals
from propgroup.approvals.models import ApprovalRequest
from propgroup.budgets import seasons
from propgroup.budgets import service as budgets
from propgroup.budgets.models import PlanLine, PlanVersion
from propgroup.errors import Conflict, Forbidden, InvalidInput
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from tests.support.budgets import (
    DIRECTOR,
    approve_all,
    approved_plan,
    ensure_season,
    lines,
    person,
    sent_plan,
)
from tests.support.groups import provision_demo

YEAR = 2031
ACCOUNTANT = "li.kuaiji"  # branch accountant at SH-XTD


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(
        control, "bud_demo", "预算", people={"su.staff": [("department_head", "SZ-NS")]}
    )
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


def unit_id(db, code):
    return org.get_unit_by_code(db, code).id


def open_unit_plan(db, year=YEAR, unit="SH-XTD", by=ACCOUNTANT, kind="expense"):
    return budgets.open_plan(
        db, person(db, by), unit_id=unit_id(db, unit), fiscal_year=year, plan_kind=kind
    )


def test_plan_goes_to_the_level_above_and_is_locked_r_bud_2(db):
    version = sent_plan(db, "SH-XTD", YEAR, "expense", {"ADM-OFFICE": "12000.00"}, by=ACCOUNTANT)
    assert version.status == "submitted"
    request = db.get(ApprovalRequest, version.approval_request_id)
    assert request.request_type == "budget_plan" and request.total_amount == Decimal("12000.00")
    approve_all(db, request, "branch")
    assert version.status == "approved"
    budgets.lock_version(db, person(db, DIRECTOR), version.id)
    assert version.status == "locked"
    with pytest.raises(Conflict) as refused:
        budgets.write_lines(db, person(db, ACCOUNTANT), version.id, [])
    assert refused.value.code == "version_not_draft"


def test_revision_opens_a_new_version_and_keeps_the_old_r_bud_2(db):
    first = approved_plan(db, "SH-LJZ", YEAR, "expense", {"ADM-TRAVEL": "1200.00"}, by=DIRECTOR)
    second = budgets.revise_plan(db, person(db, DIRECTOR), first.plan_id, note="mid-year")
    assert (second.number, second.status, second.based_on_id) == (2, "draft", first.id)
    copied = budgets.lines_of(db, second.id)
    assert copied == budgets.lines_of(db, first.id)
    changed = lines({"ADM-TRAVEL": "2400.00"}, "SH-LJZ-FIN")
    budgets.write_lines(db, person(db, DIRECTOR), second.id, changed)
    diff = budgets.compare_versions(db, person(db, DIRECTOR), first.id, second.id)
    assert [d["category"] for d in diff] == ["ADM-TRAVEL"]
    assert diff[0]["difference"] == [Decimal("100.00")] * 12
    assert budgets.lines_of(db, first.id)[0]["total"] == Decimal("1200.00")  # history stays
    with pytest.raises(Conflict):
        budgets.revise_plan(db, person(db, DIRECTOR), first.plan_id)  # one open version


def test_approval_supersedes_the_version_in_force_r_bud_2(db):
    first = approved_plan(db, "HZ-XH", YEAR, "expense", {"ADM-COMM": "600"}, by=DIRECTOR)
    second = budgets.revise_plan(db, person(db, DIRECTOR), first.plan_id)
    budgets.submit_version(db, person(db, DIRECTOR), second.id)
    approve_all(db, db.get(ApprovalRequest, second.approval_request_id), "branch")
    assert (first.status, second.status) == ("superseded", "approved")


def test_rejected_version_returns_to_draft_and_resubmits_as_next_revision_r_apr_4(db):
    version = sent_plan(db, "SH-XTD", YEAR + 5, "expense", {"ADM-OFFICE": "100"}, by=ACCOUNTANT)
    request = db.get(ApprovalRequest, version.approval_request_id)
    approvals.decide(db, person(db, "sun.diqucaiwu"), request.id, step=1, approve=False)
    assert version.status == "draft"
    budgets.write_lines(
        db, person(db, ACCOUNTANT), version.id, lines({"ADM-OFFICE": "80"}, "SH-XTD-FIN")
    )
    budgets.submit_version(db, person(db, ACCOUNTANT), version.id)
    assert (request.revision, request.status, request.total_amount) == (
        2,
        "in_approval",
        Decimal("80.00"),
    )
    with pytest.raises(Conflict) as by_hand:
        approvals.withdraw(db, person(db, ACCOUNTANT), request.id)
    assert by_hand.value.code == "subject_request"
    budgets.withdraw_version(db, person(db, ACCOUNTANT), version.id)
    assert (version.status, request.status) == ("draft", "withdrawn")


def test_line_without_owner_is_refused_at_submit_r_bud_3(db):
    ensure_season(db, YEAR)
    version = open_unit_plan(db, unit="GZ-TH", by=DIRECTOR)
    budgets.write_lines(
        db,
        person(db, DIRECTOR),
        version.id,
        [{"category": "ADM-OFFICE", "amounts": {"1": "10.00"}}],
    )
    with pytest.raises(InvalidInput) as refused:
        budgets.submit_version(db, person(db, DIRECTOR), version.id)
    assert "lines[0].owner_department" in refused.value.errors
    assert version.status == "draft"


def test_bad_lines_are_refused_together_and_write_nothing(db):
    version = open_unit_plan(db, unit="SH-XTD", year=YEAR + 1)
    good = lines({"ADM-OFFICE": "1200"}, "SH-XTD-FIN")
    budgets.write_lines(db, person(db, ACCOUNTANT), version.id, good)
    bad = [
        {"category": "ADM-OFFICE", "amounts": {"1": "abc", "2": "1.234", "3": "-5"}},
        {"category": "NOPE", "amounts": {}},
        {"category": "ADM", "amounts": {}},  # a heading
        {"category": "REV-FEE", "amounts": {}},  # the profit plan's
        {"category": "ADM-TRAVEL", "amounts": {"13": "1"}, "owner_department": "SZ-NS-FIN"},
    ]
    with pytest.raises(InvalidInput) as refused:
        budgets.write_lines(db, person(db, ACCOUNTANT), version.id, bad)
    errors = refused.value.errors
    assert set(errors) == {
        "lines[0].amounts.1",
        "lines[0].amounts.2",
        "lines[0].amounts.3",
        "lines[1].category",
        "lines[2].category",
        "lines[3].category",
        "lines[4].amounts.13",
        "lines[4].owner_department",
    }
    assert budgets.lines_of(db, version.id)[0]["total"] == Decimal("1200.00")
    assert (
        db.scalar(
            select(func.count()).select_from(PlanLine).where(PlanLine.version_id == version.id)
        )
        == 1
    )


def test_plan_for_a_unit_outside_your_subtree_is_forbidden_r_org_2(db):
    with pytest.raises(Forbidden):
        open_unit_plan(db, unit="SH-XTD", by="su.staff", year=YEAR + 2)


def test_submitting_outside_the_season_is_refused_r_bud_2(db):
    version = open_unit_plan(db, unit="SH-XTD", year=YEAR + 3)
    budgets.write_lines(
        db, person(db, ACCOUNTANT), version.id, lines({"ADM-OFFICE": "10"}, "SH-XTD-FIN")
    )
    with pytest.raises(Conflict) as refused:
        budgets.submit_version(db, person(db, ACCOUNTANT), version.id)
    assert refused.value.code == "season_closed" and version.status == "draft"
    assert db.scalar(select(func.count()).select_from(ApprovalRequest)) == 0


def test_surplus_must_agree_with_the_reported_profit_r_bud_2(db):
    year = YEAR + 4
    ensure_season(db, year, tolerance="1000.00")
    seasons.set_profit_target(
        db, person(db, DIRECTOR), fiscal_year=year, unit_id=unit_id(db, "SH-XTD"), profit="50000"
    )
    version = open_unit_plan(db, year=year, kind="profit")
    figures = {"REV-FEE": "100000.00", "COST-LABOR": "60000.00"}
    budgets.write_lines(db, person(db, ACCOUNTANT), version.id, lines(figures, "SH-XTD-FIN"))
    with pytest.raises(InvalidInput) as refused:
        budgets.submit_version(db, person(db, ACCOUNTANT), version.id)
    assert refused.value.code == "surplus_mismatch"
    assert refused.value.errors["difference"] == "-10000.00"
    figures["COST-LABOR"] = "50500.00"  # within the tolerance
    budgets.write_lines(db, person(db, ACCOUNTANT), version.id, lines(figures, "SH-XTD-FIN"))
    budgets.submit_version(db, person(db, ACCOUNTANT), version.id)
    assert version.status == "submitted"


def test_season_progress_shows_who_submitted_and_who_is_late_r_bud_2(db):
    sent_plan(db, "SH-XTD", YEAR, "expense", {"ADM-OFFICE": "10"}, by=ACCOUNTANT)
    rows = {r["unit"]: r for r in seasons.progress(db, person(db, DIRECTOR), YEAR)["units"]}
    assert rows["SH-XTD"]["submitted"] == ["expense"]
    assert rows["SH-LJZ"]["submitted"] == []
    assert db.scalar(select(func.count()).select_from(PlanVersion)) == 1


def test_a_colleague_carries_the_plan_on_after_its_first_sender_r_bud_2(db):
    """The branch head withdraws and resubmits what the accountant sent (both may plan there)."""
    version = sent_plan(db, "SH-XTD", YEAR + 6, "expense", {"ADM-OFFICE": "100"}, by=ACCOUNTANT)
    budgets.withdraw_version(db, person(db, "wang.xiangmu"), version.id)
    assert version.status == "draft"
    budgets.submit_version(db, person(db, "wang.xiangmu"), version.id)
    assert version.status == "submitted"


def test_only_hq_reopens_a_locked_plan_r_bud_2(db):
    version = approved_plan(db, "SH-XTD", YEAR + 7, "expense", {"ADM-OFFICE": "100"}, by=ACCOUNTANT)
    budgets.lock_version(db, person(db, DIRECTOR), version.id)
    with pytest.raises(Forbidden):
        budgets.revise_plan(db, person(db, ACCOUNTANT), version.plan_id)
    reopened = budgets.revise_plan(db, person(db, DIRECTOR), version.plan_id, note="HQ reopens")
    assert reopened.status == "draft" and version.status == "locked"


def test_surplus_counts_what_units_below_submitted_not_their_drafts_r_bud_2(db):
    year = YEAR + 8
    ensure_season(db, year)
    seasons.set_profit_target(
        db, person(db, DIRECTOR), fiscal_year=year, unit_id=unit_id(db, "EAST"), profit="1000"
    )
    branch_draft = open_unit_plan(db, year=year, kind="profit")
    budgets.write_lines(
        db, person(db, ACCOUNTANT), branch_draft.id, lines({"REV-FEE": "999999"}, "SH-XTD-FIN")
    )
    region = open_unit_plan(db, year=year, unit="EAST", by=DIRECTOR, kind="profit")
    budgets.write_lines(db, person(db, DIRECTOR), region.id, lines({"REV-FEE": "1000"}, "EAST-FIN"))
    budgets.submit_version(db, person(db, DIRECTOR), region.id)  # the branch's draft is no figure
    assert seasons.budgeted_surplus(db, org.get_unit_by_code(db, "EAST"), year) == Decimal(
        "1000.00"
    )


def test_line_owner_must_hold_a_role_at_the_unit_r_bud_3(db):
    version = open_unit_plan(db, year=YEAR + 9)
    with pytest.raises(InvalidInput) as refused:
        budgets.write_lines(
            db,
            person(db, ACCOUNTANT),
            version.id,
            [{"category": "ADM-OFFICE", "amounts": {"1": "1"}, "owner_login": "su.staff"}],
        )
    assert set(refused.value.errors) == {"lines[0].owner_login"}
    budgets.write_lines(
        db,
        person(db, ACCOUNTANT),
        version.id,
        [{"category": "ADM-OFFICE", "amounts": {"1": "1"}, "owner_login": "wang.xiangmu"}],
    )
    assert budgets.lines_of(db, version.id)[0]["owner_login"] == "wang.xiangmu"


def test_hq_locks_no_version_while_a_revision_is_open_r_bud_2(db):
    """A revision open when HQ locks would replace the locked target on its own approval."""
    version = approved_plan(
        db, "SH-XTD", YEAR + 12, "expense", {"ADM-OFFICE": "100"}, by=ACCOUNTANT
    )
    revision = budgets.revise_plan(db, person(db, ACCOUNTANT), version.plan_id)
    with pytest.raises(Conflict) as refused:
        budgets.lock_version(db, person(db, DIRECTOR), version.id)
    assert refused.value.code == "version_open" and version.status == "approved"
    budgets.submit_version(db, person(db, ACCOUNTANT), revision.id)
    with pytest.raises(Conflict):
        budgets.lock_version(db, person(db, DIRECTOR), version.id)
    approve_all(db, db.get(ApprovalRequest, revision.approval_request_id), "branch")
    budgets.lock_version(db, person(db, DIRECTOR), revision.id)
    assert (version.status, revision.status) == ("superseded", "locked")


def test_who_rewrites_and_resends_a_returned_plan_decides_none_of_its_steps_r_apr_3(db):
    """Regional finance plans at the region, so it may carry a branch's returned plan on; then
    it answers for what it sent, and its approval step is someone else's to take."""
    regional = "sun.diqucaiwu"
    version = sent_plan(db, "SH-XTD", YEAR + 13, "expense", {"ADM-OFFICE": "100"}, by=ACCOUNTANT)
    request = db.get(ApprovalRequest, version.approval_request_id)
    approvals.decide(db, person(db, regional), request.id, step=1, approve=False)
    budgets.write_lines(
        db, person(db, regional), version.id, lines({"ADM-OFFICE": "999999"}, "SH-XTD-FIN")
    )
    budgets.submit_version(db, person(db, regional), version.id)
    assert request.requester_id == person(db, regional).id
    with pytest.raises(Forbidden) as refused:
        approvals.decide(db, person(db, regional), request.id, step=1, approve=True)
    assert refused.value.code == "self_approval" and version.status == "submitted"
