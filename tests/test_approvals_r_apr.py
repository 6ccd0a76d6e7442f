"""The approvals engine on the demo group: the seed's chain per amount band (R-APR-1), the
refusals of R-APR-3 and R-ORG-3, delegation (R-APR-5), rejection and resubmission (R-APR-4),
one decision and one payment under concurrency (R-APR-6), budget overruns (R-APR-7), and
bad input that writes nothing (R-APR-8)."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from propgroup.approvals import service as approvals
from propgroup.approvals.models import ApprovalRequest, Payment, RequestStep
from propgroup.approvals.words import amount_in_words, words_match
from propgroup.audit.models import AuditEvent
from propgroup.db import tenant_session
from propgroup.errors import Conflict, Forbidden, InvalidInput
from propgroup.identity import service as identity
from propgroup.identity.models import User
from propgroup.identity.principals import Principal
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from tests.support.budgets import approved_plan
from tests.support.groups import PASSWORD, provision_demo

SMALL = ["branch_accountant", "branch_head"]
MIDDLE = [*SMALL, "department_head", "regional_finance", "regional_gm"]
LARGE = [*MIDDLE, "finance_director"]
# The demo user holding each role over branch SH-XTD (tenants/demo.toml).
HOLDER = {
    "branch_accountant": "li.kuaiji",
    "branch_head": "wang.xiangmu",
    "department_head": "chen.bumen",
    "regional_finance": "sun.diqucaiwu",
    "regional_gm": "zhou.zongjingli",
    "finance_director": "wu.caiwuzongjian",
}


@pytest.fixture(scope="module")
def group(control):
    # A requester at the branch who is in none of its chains, and a few extra people.
    tenant = provision_demo(
        control,
        "apr_demo",
        "审批",
        people={
            "qian.staff": [("department_head", "SH-XTD")],
            "dual.hq": [("branch_accountant", "HZ-XH"), ("branch_head", "HZ-XH")],
            "su.gm": [("regional_gm", "SOUTH"), ("cashier", "SZ-NS")],
            "su.staff": [("department_head", "SZ-NS")],
            "hz.staff": [("department_head", "HZ-XH")],
            "deputy": [],
        },
    )
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


def person(session, login):
    user = session.scalar(select(User).where(User.login == login))
    return identity.user_principal(user)


def draft(
    session,
    *,
    amount="1200.00",
    unit="SH-XTD",
    requester="qian.staff",
    request_type="expense_claim",
    **extra,
):
    return approvals.create_request(
        session,
        person(session, requester),
        request_type=request_type,
        unit_id=org.get_unit_by_code(session, unit).id,
        title="差旅报销",
        payee="钱员工",
        lines=[{"category": "travel", "description": "上海-杭州 高铁", "amount": amount}],
        **extra,
    )


def delegate_today(session, delegator, delegate, **extra):
    today = approvals.today(session)
    return approvals.delegate(
        session,
        person(session, delegator),
        delegate_login=delegate,
        starts_on=extra.pop("starts_on", today),
        ends_on=extra.pop("ends_on", today),
        **extra,
    )


def chain_roles(session, request):
    return [s.role for s in approvals.steps_of(session, request, request.revision)]


def walk(session, request, holders=HOLDER):
    for step in approvals.steps_of(session, request, request.revision):
        approvals.decide(
            session, person(session, holders[step.role]), request.id, step=step.seq, approve=True
        )
    return request


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("1200.00", SMALL),
        ("5000.00", SMALL),
        ("5000.01", MIDDLE),
        ("200000.00", MIDDLE),
        ("200000.01", LARGE),
    ],
)
def test_the_seed_chain_for_each_band_r_apr_1(db, amount, expected):
    request = draft(db, amount=amount)
    approvals.submit(db, person(db, "qian.staff"), request.id)
    assert chain_roles(db, request) == expected
    walk(db, request)
    assert request.status == "approved"
    payment = approvals.pay(
        db, person(db, "zhao.chuna"), request.id, method="transfer", reference="TX-1"
    )
    assert request.status == "paid" and payment.amount == Decimal(amount)
    db.commit()


def test_regional_steps_land_on_the_region_and_its_finance_department(db):
    request = draft(db, amount="8000.00")
    approvals.submit(db, person(db, "qian.staff"), request.id)
    units = [org.get_unit(db, s.unit_id).code for s in approvals.steps_of(db, request)]
    assert units == ["SH-XTD", "SH-XTD", "EAST-FIN", "EAST", "EAST"]


def test_nobody_approves_their_own_request_r_apr_3(db):
    request = draft(db, unit="HZ-XH", requester="dual.hq")
    approvals.submit(db, person(db, "dual.hq"), request.id)
    with pytest.raises(Forbidden, match="own request"):
        approvals.decide(db, person(db, "dual.hq"), request.id, step=1, approve=True)


def test_one_person_never_decides_two_steps_r_apr_3(db):
    request = draft(db, unit="HZ-XH", requester="hz.staff")
    approvals.submit(db, person(db, "hz.staff"), request.id)
    approvals.decide(db, person(db, "dual.hq"), request.id, step=1, approve=True)
    with pytest.raises(Forbidden, match="one step"):
        approvals.decide(db, person(db, "dual.hq"), request.id, step=2, approve=True)


def test_an_approver_does_not_also_pay_r_org_3(db):
    request = draft(db, amount="9000.00", unit="SZ-NS", requester="su.staff")
    approvals.submit(db, person(db, "su.staff"), request.id)
    db.flush()
    holders = {**HOLDER, "branch_accountant": None, "branch_head": None, "regional_gm": "su.gm"}
    # The SZ-NS branch has no accountant or head in the demo; let HQ-wide people stand in.
    for login, role in (
        ("sz.acct", "branch_accountant"),
        ("sz.head", "branch_head"),
        ("su.fin", "regional_finance"),
        ("su.dept", "department_head"),
    ):
        user = identity.create_user(
            db, login=login, display_name=login, email=f"{login}@x.test", password=PASSWORD
        )
        identity.assign_role(
            db,
            user,
            role,
            org.get_unit_by_code(
                db,
                "SOUTH-FIN"
                if role == "department_head"
                else ("SOUTH" if role == "regional_finance" else "SZ-NS"),
            ),
        )
        holders[role] = login
    walk(db, request, holders)
    with pytest.raises(Forbidden, match="R-ORG-3"):
        approvals.pay(db, person(db, "su.gm"), request.id, method="cash", reference=None)


def test_someone_without_the_role_cannot_decide(db):
    request = draft(db)
    approvals.submit(db, person(db, "qian.staff"), request.id)
    with pytest.raises(Forbidden, match="not branch_accountant"):
        approvals.decide(db, person(db, "sun.diqucaiwu"), request.id, step=1, approve=True)


def test_a_stale_step_is_a_conflict_with_the_current_state(db):
    request = draft(db)
    approvals.submit(db, person(db, "qian.staff"), request.id)
    approvals.decide(db, person(db, "li.kuaiji"), request.id, step=1, approve=True)
    with pytest.raises(Conflict) as caught:
        approvals.decide(db, person(db, "li.kuaiji"), request.id, step=1, approve=True)
    assert caught.value.errors == {"status": "in_approval", "current_step": 2, "revision": 1}


def test_delegate_decides_and_the_record_shows_both_names_r_apr_5(db):
    delegate_today(
        db,
        "wang.xiangmu",
        "deputy",
        ends_on=approvals.today(db) + timedelta(days=3),
    )
    request = draft(db)
    approvals.submit(db, person(db, "qian.staff"), request.id)
    approvals.decide(db, person(db, "li.kuaiji"), request.id, step=1, approve=True)
    approvals.decide(db, person(db, "deputy"), request.id, step=2, approve=True, comment="代签")
    step = approvals.steps_of(db, request)[1]
    assert (
        step.decided_by == person(db, "deputy").id
        and step.acting_for == person(db, "wang.xiangmu").id
    )
    db.commit()  # audit events are linked and written at commit
    event = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "approvals.approved", AuditEvent.entity_id == str(request.id))
        .order_by(AuditEvent.id.desc())
    ).first()
    assert (event.actor_name, event.acting_for) == ("deputy", "wang.xiangmu")


def test_delegation_is_bounded_by_dates_and_request_types_r_apr_5(db):
    delegate_today(
        db,
        "li.kuaiji",
        "deputy",
        starts_on=approvals.today(db) - timedelta(days=10),
        ends_on=approvals.today(db) - timedelta(days=1),
    )
    delegate_today(
        db,
        "li.kuaiji",
        "deputy",
        ends_on=approvals.today(db),
        request_types=["advance"],
    )
    request = draft(db)
    approvals.submit(db, person(db, "qian.staff"), request.id)
    with pytest.raises(Forbidden, match="delegated"):
        approvals.decide(db, person(db, "deputy"), request.id, step=1, approve=True)
    advance = draft(
        db,
        request_type="advance",
        business_kind="travel",
        business_ended_on=approvals.today(db) + timedelta(days=3),
    )
    approvals.submit(db, person(db, "qian.staff"), advance.id)
    approvals.decide(db, person(db, "deputy"), advance.id, step=1, approve=True)


def test_a_delegate_cannot_approve_their_own_request_through_delegation_r_apr_5(db):
    delegate_today(
        db,
        "li.kuaiji",
        "qian.staff",
        ends_on=approvals.today(db),
    )
    request = draft(db)
    approvals.submit(db, person(db, "qian.staff"), request.id)
    with pytest.raises(Forbidden, match="own request"):
        approvals.decide(db, person(db, "qian.staff"), request.id, step=1, approve=True)


def test_rejection_returns_it_and_a_resubmission_keeps_the_history_r_apr_4(db):
    request = draft(db, amount="6000.00")
    approvals.submit(db, person(db, "qian.staff"), request.id)
    approvals.decide(db, person(db, "li.kuaiji"), request.id, step=1, approve=True)
    approvals.decide(
        db, person(db, "wang.xiangmu"), request.id, step=2, approve=False, comment="缺发票"
    )
    assert request.status == "rejected" and request.current_step is None
    approvals.submit(db, person(db, "qian.staff"), request.id)
    assert request.revision == 2 and request.status == "in_approval" and request.current_step == 1
    history = approvals.steps_of(db, request)
    assert [(s.revision, s.status) for s in history[:2]] == [(1, "approved"), (1, "rejected")]
    assert history[1].comment == "缺发票"
    assert all(s.status == "pending" for s in history if s.revision == 2)
    walk(db, request)
    assert request.status == "approved"


def test_withdrawn_requests_take_no_decisions(db):
    request = draft(db)
    approvals.submit(db, person(db, "qian.staff"), request.id)
    approvals.withdraw(db, person(db, "qian.staff"), request.id)
    with pytest.raises(Conflict):
        approvals.decide(db, person(db, "li.kuaiji"), request.id, step=1, approve=True)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"amount": "-5.00"}, "bad_amount"),
        ({"amount": "0"}, "bad_amount"),
        ({"amount": "10.001"}, "bad_amount"),
        ({"amount": "NaN"}, "bad_amount"),
        ({"amount": "abc"}, "bad_amount"),
        ({"total": "99.00"}, "total_mismatch"),
        ({"amount_in_words": "人民币壹仟元整"}, "words_mismatch"),
        ({"unit": "SH-XTD-FIN"}, "bad_unit"),
        ({"request_type": "bribe"}, "bad_request_type"),
    ],
)
def test_bad_requests_are_refused_and_nothing_is_written_r_apr_8(db, changes, code):
    before = db.scalar(select(func.count()).select_from(ApprovalRequest))
    with pytest.raises(InvalidInput) as caught:
        draft(db, **changes)
    assert caught.value.code == code
    db.rollback()
    assert db.scalar(select(func.count()).select_from(ApprovalRequest)) == before


def test_amount_in_words_that_agrees_is_accepted_r_apr_8(db):
    request = draft(db, amount="1200.00", amount_in_words="人民币壹仟贰佰元整")
    assert request.total_amount == Decimal("1200.00")


def test_unknown_budget_line_is_refused_r_apr_7(db):
    with pytest.raises(InvalidInput, match="unknown budget line"):
        approvals.create_request(
            db,
            person(db, "qian.staff"),
            request_type="expense_claim",
            unit_id=org.get_unit_by_code(db, "SH-XTD").id,
            title="t",
            payee="p",
            lines=[
                {
                    "category": "travel",
                    "description": "d",
                    "amount": "10.00",
                    "budget_line": "B-404",
                }
            ],
        )


def office_budget(session, yearly="100.00"):
    """SH-XTD's expense plan in force this year: ``yearly`` on office costs (办公费)."""
    approved_plan(
        session,
        "SH-XTD",
        approvals.today(session).year,
        "expense",
        {"ADM-OFFICE": yearly},
        by="li.kuaiji",
    )


def office_claim(session, amount):
    return approvals.create_request(
        session,
        person(session, "qian.staff"),
        request_type="expense_claim",
        unit_id=org.get_unit_by_code(session, "SH-XTD").id,
        title="t",
        payee="p",
        lines=[
            {
                "category": "office",
                "description": "d",
                "amount": amount,
                "budget_line": "ADM-OFFICE",
            }
        ],
    )


def test_overrun_is_flagged_and_adds_the_policy_step_r_apr_7(db):
    office_budget(db)
    within = office_claim(db, "100.00")
    approvals.submit(db, person(db, "qian.staff"), within.id)
    over = office_claim(db, "0.01")  # the first one holds all 100.00 of the line
    approvals.submit(db, person(db, "qian.staff"), over.id)
    assert not within.budget_overrun and chain_roles(db, within) == SMALL
    assert over.budget_overrun and chain_roles(db, over) == [*SMALL, "finance_director"]
    assert approvals.steps_of(db, over)[-1].reason == "budget_overrun"


def test_policy_with_a_gap_or_overlap_is_refused_r_apr_2(db):
    base = {
        "overrun_step": {"role": "finance_director", "level": "hq"},
        "payer": {"role": "cashier", "level": "unit"},
    }
    steps = [{"role": "branch_head", "level": "unit"}]
    gap = {
        **base,
        "rules": [
            {
                "request_types": ["advance"],
                "unit_kind": "branch",
                "above": "0",
                "up_to": "100",
                "steps": steps,
            },
            {"request_types": ["advance"], "unit_kind": "branch", "above": "200", "steps": steps},
        ],
    }
    overlap = {
        **base,
        "rules": [
            {
                "request_types": ["advance"],
                "unit_kind": "branch",
                "above": "0",
                "up_to": "300",
                "steps": steps,
            },
            {"request_types": ["advance"], "unit_kind": "branch", "above": "200", "steps": steps},
        ],
    }
    admin = person(db, "zheng.guanliyuan")
    with pytest.raises(InvalidInput) as caught:
        approvals.replace_policy(db, admin, gap, "gap")
    assert "no band covers amounts above 100" in str(caught.value.errors)
    with pytest.raises(InvalidInput) as caught:
        approvals.replace_policy(db, admin, overlap, "overlap")
    assert "overlap" in str(caught.value.errors)


def test_a_request_keeps_the_policy_it_started_with_r_apr_2(db):
    request = draft(db, amount="3000.00")
    approvals.submit(db, person(db, "qian.staff"), request.id)
    started = request.policy_version_id
    document = approvals.current_policy(db).document
    approvals.replace_policy(
        db, person(db, "zheng.guanliyuan"), document, "same rules, new version"
    )
    with pytest.raises(Forbidden):
        approvals.replace_policy(db, person(db, "li.kuaiji"), document, "not an admin")
    walk(db, request)
    assert request.policy_version_id == started != approvals.current_policy(db).id


def _submitted(control, group, amount="1500.00"):
    with tenant_session(control, group.schema_name) as session:
        request = draft(session, amount=amount)
        approvals.submit(session, person(session, "qian.staff"), request.id)
        session.commit()
        return request.id


def _race(control, group, count, action):
    barrier, outcomes = threading.Barrier(count), []

    def attempt():
        with tenant_session(control, group.schema_name) as session:
            barrier.wait()
            try:
                action(session)
                session.commit()
                outcomes.append("ok")
            except (Conflict, Forbidden) as exc:
                session.rollback()
                outcomes.append(exc.code)

    threads = [threading.Thread(target=attempt) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def test_concurrent_decisions_on_one_step_make_exactly_one(control, group):
    request_id = _submitted(control, group)
    outcomes = _race(
        control,
        group,
        8,
        lambda s: approvals.decide(s, person(s, "li.kuaiji"), request_id, step=1, approve=True),
    )
    assert outcomes == ["not_current_step"] * 7 + ["ok"]
    with tenant_session(control, group.schema_name) as session:
        decided = session.scalars(
            select(RequestStep).where(
                RequestStep.request_id == request_id, RequestStep.status != "pending"
            )
        ).all()
        assert len(decided) == 1


def test_twenty_parallel_payments_make_one_r_apr_6(control, group):
    request_id = _submitted(control, group)
    with tenant_session(control, group.schema_name) as session:
        walk(session, session.get(ApprovalRequest, request_id))
        session.commit()
    outcomes = _race(
        control,
        group,
        20,
        lambda s: approvals.pay(
            s, person(s, "zhao.chuna"), request_id, method="cheque", reference="CHQ-0001"
        ),
    )
    assert outcomes == ["already_paid"] * 19 + ["ok"]
    with tenant_session(control, group.schema_name) as session:
        assert (
            session.scalar(
                select(func.count()).select_from(Payment).where(Payment.request_id == request_id)
            )
            == 1
        )


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("1680.32", "人民币壹仟陆佰捌拾元叁角贰分"),
        ("107000.53", "人民币壹拾万柒仟元伍角叁分"),
        ("16409.02", "人民币壹万陆仟肆佰零玖元零贰分"),
        ("325.04", "人民币叁佰贰拾伍元零肆分"),
        ("100010.00", "人民币壹拾万零壹拾元整"),
        ("1000000001.01", "人民币壹拾亿零壹元零壹分"),
        ("0.50", "人民币伍角整"),
        ("5000", "人民币伍仟元整"),
    ],
)
def test_amount_in_words_follows_the_settlement_rules_r_apr_8(amount, words):
    assert amount_in_words(Decimal(amount)) == words
    assert words_match(Decimal(amount), words.removeprefix("人民币"))


# Found in review: each of these was a way round the rules.


def test_a_read_only_personal_token_cannot_act_on_approvals(db):
    request = draft(db)
    approvals.submit(db, person(db, "qian.staff"), request.id)
    li = person(db, "li.kuaiji")
    read_only = Principal(
        kind="user", id=li.id, name=li.name, token_scopes=frozenset({"org:read", "approvals:read"})
    )
    with pytest.raises(Forbidden, match="approvals:write"):
        approvals.decide(db, read_only, request.id, step=1, approve=True)
    with pytest.raises(Forbidden, match="approvals:write"):
        approvals.delegate(
            db,
            read_only,
            delegate_login="deputy",
            starts_on=approvals.today(db),
            ends_on=approvals.today(db),
        )


def test_an_overrun_on_the_top_band_does_not_ask_the_same_signer_twice_r_apr_7(db):
    office_budget(db)
    request = office_claim(db, "250000.00")
    approvals.submit(db, person(db, "qian.staff"), request.id)
    assert request.budget_overrun and chain_roles(db, request) == LARGE
    walk(db, request)
    assert request.status == "approved"


def test_a_total_beyond_the_money_column_is_refused_not_a_crash(db):
    with pytest.raises(InvalidInput) as caught:
        approvals.create_request(
            db,
            person(db, "qian.staff"),
            request_type="expense_claim",
            unit_id=org.get_unit_by_code(db, "SH-XTD").id,
            title="t",
            payee="p",
            lines=[{"category": "c", "description": "d", "amount": "9999999999999999.99"}] * 2,
        )
    assert caught.value.code == "bad_amount"


def test_someone_who_left_keeps_no_authority(db):
    leaver = identity.create_user(
        db, login="gz.leaver", display_name="离职", email="l@x.test", password=PASSWORD
    )
    identity.assign_role(db, leaver, "branch_accountant", org.get_unit_by_code(db, "GZ-TH"))
    requester = identity.create_user(
        db, login="gz.staff", display_name="广州", email="g@x.test", password=PASSWORD
    )
    identity.assign_role(db, requester, "department_head", org.get_unit_by_code(db, "GZ-TH"))
    request = draft(db, unit="GZ-TH", requester="gz.staff")
    approvals.submit(db, person(db, "gz.staff"), request.id)
    leaver.active = False
    db.flush()
    with pytest.raises(Forbidden, match="not branch_accountant"):
        approvals.decide(db, identity.user_principal(leaver), request.id, step=1, approve=True)


def test_withdrawing_cancels_the_steps_not_reached(db):
    request = draft(db)
    approvals.submit(db, person(db, "qian.staff"), request.id)
    approvals.decide(db, person(db, "li.kuaiji"), request.id, step=1, approve=True)
    approvals.withdraw(db, person(db, "qian.staff"), request.id)
    assert [s.status for s in approvals.steps_of(db, request)] == ["approved", "cancelled"]


def test_a_cashier_who_stood_in_for_the_accountant_in_an_earlier_revision_does_not_pay_r_org_3(db):
    delegate_today(
        db,
        "li.kuaiji",
        "zhao.chuna",
        ends_on=approvals.today(db),
    )
    request = draft(db)
    approvals.submit(db, person(db, "qian.staff"), request.id)
    approvals.decide(
        db, person(db, "zhao.chuna"), request.id, step=1, approve=False, comment="缺附件"
    )
    approvals.submit(db, person(db, "qian.staff"), request.id)
    walk(db, request)
    with pytest.raises(Forbidden, match="R-ORG-3"):
        approvals.pay(db, person(db, "zhao.chuna"), request.id, method="cash", reference=None)
    db.rollback()


@pytest.mark.parametrize(
    ("amount", "written", "agrees"),
    [
        ("1680.32", "壹仟陆佰捌拾元零叁角贰分", True),  # 零 after 元 when 元's digit is 0
        ("0.50", "伍角", True),  # 整 may be left off after 角
        ("1000.50", "壹仟元零伍角整", True),
        ("1685.32", "壹仟陆佰捌拾伍元零叁角贰分", False),  # 元's digit is not 0
        ("1680.32", "壹仟陆佰捌拾元叁角", False),  # 分 missing
        ("1680.00", "壹仟陆佰捌拾元", False),  # 整 is required after 元
    ],
)
def test_amount_in_words_accepts_every_form_the_rules_allow_r_apr_8(amount, written, agrees):
    assert words_match(Decimal(amount), written) is agrees


def test_admins_saving_the_policy_at_once_get_consecutive_versions_r_apr_2(control, group):
    with tenant_session(control, group.schema_name) as session:
        before = approvals.current_policy(session)
        document = before.document
    outcomes = _race(
        control,
        group,
        4,
        lambda s: approvals.replace_policy(s, person(s, "zheng.guanliyuan"), document, "same"),
    )
    assert outcomes == ["ok"] * 4
    with tenant_session(control, group.schema_name) as session:
        assert approvals.current_policy(session).version == before.version + 4
