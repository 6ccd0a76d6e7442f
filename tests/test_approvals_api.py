"""Approvals over the API with personal tokens: the chain walked by the demo users, stale
decisions as 409 with the current state, idempotent payment, money that never becomes float."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from propgroup.approvals.models import ApprovalRequest
from propgroup.db import tenant_session
from propgroup.identity import service as identity
from propgroup.identity.models import User
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from tests.support.api import api_caller, personal_tokens
from tests.support.groups import PASSWORD, REQUESTER, demo_today, provision_demo

SCOPES = ["approvals:read", "approvals:write", "org:read", "documents:read", "documents:write"]


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(control, "apr_api", "审批API", people=REQUESTER)
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


@pytest.fixture(scope="module")
def tokens(control, group):
    """A personal token for every person of the group."""
    return personal_tokens(control, group, SCOPES)


@pytest.fixture
def api(control, group):
    return api_caller(group, "/approvals")


def _unit(control, group, code):
    with tenant_session(control, group.schema_name) as session:
        return org.get_unit_by_code(session, code).id


def _claim(api, control, group, tokens, amounts=("800.10", "399.90")):
    body = {
        "request_type": "expense_claim",
        "unit_id": _unit(control, group, "SH-XTD"),
        "title": "差旅报销",
        "payee": "钱员工",
        "lines": [
            {"category": "travel", "description": f"line {i}", "amount": Decimal(a)}
            for i, a in enumerate(amounts)
        ],
    }
    created = api("POST", "", tokens["qian.staff"], json=body)
    assert created.status_code == 201, created.json
    return created.json


def test_a_claim_walks_its_chain_and_is_paid_through_the_api_r_apr_1(api, control, group, tokens):
    claim = _claim(api, control, group, tokens)
    assert claim["total_amount"] == "1200.00" and claim["status"] == "draft"
    assert claim["amount_in_words"] == "人民币壹仟贰佰元整"
    submitted = api("POST", f"/{claim['id']}/submit", tokens["qian.staff"])
    assert [s["role"] for s in submitted.json["steps"]] == ["branch_accountant", "branch_head"]
    for step, login in ((1, "li.kuaiji"), (2, "wang.xiangmu")):
        decided = api(
            "POST", f"/{claim['id']}/decisions", tokens[login], json={"step": step, "approve": True}
        )
        assert decided.status_code == 200, decided.json
    assert decided.json["status"] == "approved"
    key = {"Idempotency-Key": f"pay-{claim['id']}"}
    paid = api(
        "POST",
        f"/{claim['id']}/payment",
        tokens["zhao.chuna"],
        json={"method": "transfer", "reference": "TX-9"},
        headers=key,
    )
    again = api(
        "POST",
        f"/{claim['id']}/payment",
        tokens["zhao.chuna"],
        json={"method": "transfer", "reference": "TX-9"},
        headers=key,
    )
    assert paid.status_code == again.status_code == 201 and paid.json == again.json
    assert again.headers["Idempotent-Replayed"] == "true"
    other = api("POST", f"/{claim['id']}/payment", tokens["zhao.chuna"], json={"method": "cash"})
    assert other.status_code == 409 and other.json["code"] == "already_paid"


def test_a_stale_decision_is_409_with_the_current_state(api, control, group, tokens):
    claim = _claim(api, control, group, tokens)
    api("POST", f"/{claim['id']}/submit", tokens["qian.staff"])
    api("POST", f"/{claim['id']}/decisions", tokens["li.kuaiji"], json={"step": 1, "approve": True})
    stale = api(
        "POST", f"/{claim['id']}/decisions", tokens["li.kuaiji"], json={"step": 1, "approve": True}
    )
    assert stale.status_code == 409
    assert stale.json["errors"] == {"status": "in_approval", "current_step": 2, "revision": 1}


def test_json_amounts_never_pass_through_float(api, control, group, tokens):
    claim = _claim(api, control, group, tokens, amounts=("0.10", "0.20"))
    assert claim["total_amount"] == "0.30"


@pytest.mark.parametrize("amount", ["12.345", "-1", "0", "abc"])
def test_bad_amounts_are_422_r_apr_8(api, control, group, tokens, amount):
    body = {
        "request_type": "expense_claim",
        "unit_id": _unit(control, group, "SH-XTD"),
        "title": "t",
        "payee": "p",
        "lines": [{"category": "c", "description": "d", "amount": amount}],
    }
    response = api("POST", "", tokens["qian.staff"], json=body)
    assert response.status_code == 422 and response.json["code"] == "bad_amount"


def test_a_partner_client_cannot_raise_or_decide(api, control, group):
    with tenant_session(control, group.schema_name) as session:
        _, token = identity.create_api_client(
            session, tenant_slug=group.slug, name="erp", scopes=SCOPES
        )
        session.commit()
    body = {
        "request_type": "expense_claim",
        "unit_id": _unit(control, group, "SH-XTD"),
        "title": "t",
        "payee": "p",
        "lines": [{"category": "c", "description": "d", "amount": "1.00"}],
    }
    response = api("POST", "", {"Authorization": f"Bearer {token}"}, json=body)
    assert response.status_code == 403 and response.json["code"] == "people_only"


def test_other_regions_cannot_read_a_request_r_org_2(api, control, group, tokens):
    claim = _claim(api, control, group, tokens)
    assert api("GET", f"/{claim['id']}", tokens["sun.diqucaiwu"]).status_code == 200
    with tenant_session(control, group.schema_name) as session:
        south = identity.create_user(
            session, login="south.fin", display_name="南", email="s@x.test", password=PASSWORD
        )
        identity.assign_role(
            session, south, "regional_finance", org.get_unit_by_code(session, "SOUTH")
        )
        _, token = identity.create_api_client(
            session, tenant_slug=group.slug, name="pat", scopes=SCOPES, acting_user=south
        )
        session.commit()
    assert api("GET", f"/{claim['id']}", {"Authorization": f"Bearer {token}"}).status_code == 403
    listed = api("GET", "", {"Authorization": f"Bearer {token}"})
    assert claim["id"] not in {r["id"] for r in listed.json}


def test_a_personal_token_is_narrowed_by_its_scopes(api, control, group):
    with tenant_session(control, group.schema_name) as session:
        li = session.scalar(select(User).where(User.login == "li.kuaiji"))
        _, token = identity.create_api_client(
            session, tenant_slug=group.slug, name="read only", scopes=["org:read"], acting_user=li
        )
        session.commit()
    response = api("GET", "", {"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json == []


def test_the_policy_is_read_by_staff_and_replaced_only_by_admins_r_apr_2(
    api, control, group, tokens
):
    current = api("GET", "/policy", tokens["li.kuaiji"])
    assert current.status_code == 200 and current.json["version"] >= 1
    document = current.json["document"]
    refused = api("PUT", "/policy", tokens["li.kuaiji"], json={"document": document, "note": "x"})
    assert refused.status_code == 403
    narrow = api(
        "PUT", "/policy", tokens["zheng.guanliyuan"], json={"document": document, "note": "x"}
    )
    assert narrow.status_code == 403  # an admin, but a token without the approvals:admin scope
    with tenant_session(control, group.schema_name) as session:
        admin_user = session.scalar(select(User).where(User.login == "zheng.guanliyuan"))
        _, token = identity.create_api_client(
            session,
            tenant_slug=group.slug,
            name="admin",
            scopes=["approvals:admin", "approvals:read"],
            acting_user=admin_user,
        )
        session.commit()
    admin = {"Authorization": f"Bearer {token}"}
    broken = {**document, "rules": [r for r in document["rules"] if r["up_to"] != "5000.00"]}
    gap = api("PUT", "/policy", admin, json={"document": broken, "note": "gap"})
    assert gap.status_code == 422 and gap.json["code"] == "bad_policy"
    replaced = api("PUT", "/policy", admin, json={"document": document, "note": "reviewed"})
    assert replaced.status_code == 200 and replaced.json["version"] == current.json["version"] + 1


# --- revisions (R-APR-4), vouchers (R-APR-8), reporting deadlines (R-CASH-3), list filters ---


def _walk(api, tokens, request_id, pay=True):
    """Submit a small request and take it through its two branch steps (and the payment)."""
    assert api("POST", f"/{request_id}/submit", tokens["qian.staff"]).status_code == 200
    for step, login in ((1, "li.kuaiji"), (2, "wang.xiangmu")):
        decided = api(
            "POST", f"/{request_id}/decisions", tokens[login], json={"step": step, "approve": True}
        )
        assert decided.status_code == 200, decided.json
    if pay:
        paid = api("POST", f"/{request_id}/payment", tokens["zhao.chuna"], json={"method": "cash"})
        assert paid.status_code == 201, paid.json


def _days_ago(days):
    return (demo_today() - timedelta(days=days)).isoformat()


def _content(**changes):
    body = {
        "title": "差旅报销（补票）",
        "payee": "钱员工",
        "lines": [{"category": "travel", "description": "补 高铁", "amount": "150.00"}],
    }
    return {**body, **changes}


def test_a_returned_request_is_revised_and_the_first_revision_stays_r_apr_4(
    api, control, group, tokens
):
    claim = _claim(api, control, group, tokens)
    api("POST", f"/{claim['id']}/submit", tokens["qian.staff"])
    returned = api(
        "POST",
        f"/{claim['id']}/decisions",
        tokens["li.kuaiji"],
        json={"step": 1, "approve": False, "comment": "缺发票"},
    )
    assert returned.json["status"] == "rejected"
    revised = api("PUT", f"/{claim['id']}", tokens["qian.staff"], json=_content())
    assert revised.status_code == 200, revised.json
    assert revised.json["status"] == "draft" and revised.json["revision"] == 2
    assert revised.json["total_amount"] == "150.00"
    assert [(line["revision"], line["amount"]) for line in revised.json["line_history"]] == [
        (1, "800.10"),
        (1, "399.90"),
        (2, "150.00"),
    ]
    assert [line["amount"] for line in revised.json["lines"]] == ["150.00"]
    resubmitted = api("POST", f"/{claim['id']}/submit", tokens["qian.staff"])
    assert resubmitted.json["revision"] == 2
    first, second = ([s for s in resubmitted.json["steps"] if s["revision"] == n] for n in (1, 2))
    assert first[0]["status"] == "rejected" and first[0]["comment"] == "缺发票"
    assert [s["status"] for s in second] == ["pending", "pending"]


def test_a_draft_is_rewritten_in_place_and_refusals_write_nothing(api, control, group, tokens):
    claim = _claim(api, control, group, tokens)
    rewritten = api("PUT", f"/{claim['id']}", tokens["qian.staff"], json=_content())
    assert rewritten.json["revision"] == 1 and len(rewritten.json["line_history"]) == 1
    bad = api(
        "PUT",
        f"/{claim['id']}",
        tokens["qian.staff"],
        json=_content(total="151.00"),
    )
    assert bad.status_code == 422 and bad.json["code"] == "total_mismatch"
    not_mine = api("PUT", f"/{claim['id']}", tokens["li.kuaiji"], json=_content())
    assert not_mine.status_code == 403
    api("POST", f"/{claim['id']}/submit", tokens["qian.staff"])
    in_approval = api("PUT", f"/{claim['id']}", tokens["qian.staff"], json=_content())
    assert in_approval.status_code == 409 and in_approval.json["errors"]["status"] == "in_approval"
    now = api("GET", f"/{claim['id']}", tokens["qian.staff"]).json
    assert now["title"] == "差旅报销（补票）" and now["total_amount"] == "150.00"


def test_a_resubmission_keeps_the_policy_version_it_started_with_r_apr_2(
    api, control, group, tokens
):
    from propgroup.approvals import service as approvals

    claim = _claim(api, control, group, tokens)
    api("POST", f"/{claim['id']}/submit", tokens["qian.staff"])
    api(
        "POST", f"/{claim['id']}/decisions", tokens["li.kuaiji"], json={"step": 1, "approve": False}
    )
    with tenant_session(control, group.schema_name) as session:
        started = session.scalar(
            select(ApprovalRequest.policy_version_id).where(ApprovalRequest.id == claim["id"])
        )
        document = approvals.current_policy(session).document
        approvals.install_policy(session, {**document, "step_working_days": 5}, note="later")
        session.commit()
    api("POST", f"/{claim['id']}/submit", tokens["qian.staff"])
    with tenant_session(control, group.schema_name) as session:
        kept = session.scalar(
            select(ApprovalRequest.policy_version_id).where(ApprovalRequest.id == claim["id"])
        )
    assert kept == started


def test_vouchers_are_attached_by_the_requester_until_the_decision_r_apr_8(
    api, control, group, tokens
):
    claim = _claim(api, control, group, tokens)
    upload = api(
        "POST",
        f"/{claim['id']}/attachments?filename=发票.pdf",
        tokens["qian.staff"],
        data=b"%PDF-1.4 invoice",
        headers={"Content-Type": "application/octet-stream"},
    )
    assert upload.status_code == 201, upload.json
    assert upload.json["filename"] == "发票.pdf" and upload.json["size_bytes"] == 16
    detail = api("GET", f"/{claim['id']}", tokens["qian.staff"]).json
    assert [a["id"] for a in detail["attachments"]] == [upload.json["id"]]
    stranger = api(
        "POST", f"/{claim['id']}/attachments?filename=x.pdf", tokens["li.kuaiji"], data=b"x"
    )
    assert stranger.status_code == 403 and stranger.json["code"] == "not_requester"
    _walk(api, tokens, claim["id"], pay=False)
    closed = api(
        "POST", f"/{claim['id']}/attachments?filename=x.pdf", tokens["qian.staff"], data=b"x"
    )
    assert closed.status_code == 409 and closed.json["code"] == "bad_state"


def _advance(api, control, group, tokens, ended, kind="local"):
    created = _advance_response(api, control, group, tokens, ended, kind)
    assert created.status_code == 201, created.json
    return created.json


def _advance_response(api, control, group, tokens, ended, kind="local"):
    body = {
        "request_type": "advance",
        "unit_id": _unit(control, group, "SH-XTD"),
        "title": "市内办事借款",
        "payee": "钱员工",
        "lines": [{"category": "advance", "description": "办证费用", "amount": "600.00"}],
        "business_kind": kind,
        "business_ended_on": ended,
    }
    return api("POST", "", tokens["qian.staff"], json=body)


def test_an_unreported_advance_is_overdue_until_a_claim_reports_it_r_cash_3(
    api, control, group, tokens
):
    advance = _advance(api, control, group, tokens, ended=_days_ago(10))
    assert advance["report_due_on"] == _days_ago(7)  # 市内: 3 days after the business ended
    _walk(api, tokens, advance["id"])
    overdue = api("GET", "?advances_overdue=true&page_size=100", tokens["li.kuaiji"]).json
    assert advance["id"] in [r["id"] for r in overdue]
    assert api("GET", f"/{advance['id']}", tokens["qian.staff"]).json["advance_overdue"] is True
    claim_body = {
        "request_type": "expense_claim",
        "unit_id": _unit(control, group, "SH-XTD"),
        **_content(settles_request_id=advance["id"]),
    }
    claim = api("POST", "", tokens["qian.staff"], json=claim_body).json
    assert claim["business_ended_on"] == _days_ago(10)  # taken from the advance
    still = api("GET", "?advances_overdue=true&page_size=100", tokens["li.kuaiji"]).json
    assert advance["id"] in [r["id"] for r in still]  # a draft reports nothing yet
    submitted = api("POST", f"/{claim['id']}/submit", tokens["qian.staff"]).json
    assert submitted["reported_late"] is True
    after = api("GET", "?advances_overdue=true&page_size=100", tokens["li.kuaiji"]).json
    assert advance["id"] not in [r["id"] for r in after]
    twice = api("POST", "", tokens["qian.staff"], json=claim_body)
    assert twice.status_code == 409 and twice.json["code"] == "already_settled"


@pytest.mark.parametrize(("kind", "late"), [("local", True), ("travel", False)])
def test_a_claim_sent_after_its_report_day_is_flagged_late_r_cash_3(
    api, control, group, tokens, kind, late
):
    body = {
        "request_type": "expense_claim",
        "unit_id": _unit(control, group, "SH-XTD"),
        **_content(business_kind=kind, business_ended_on=_days_ago(4)),
    }
    claim = api("POST", "", tokens["qian.staff"], json=body).json
    submitted = api("POST", f"/{claim['id']}/submit", tokens["qian.staff"]).json
    assert submitted["reported_late"] is late


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"request_type": "advance"}, "business_required"),
        ({"business_kind": "local"}, "bad_business"),
        ({"business_kind": "local", "business_ended_on": _days_ago(-2)}, "business_not_ended"),
        (
            {
                "request_type": "supplier_payment",
                "business_kind": "local",
                "business_ended_on": "2026-01-05",
            },
            "bad_business",
        ),
        ({"settles_request_id": 999999}, "bad_settlement"),
    ],
)
def test_business_dates_that_make_no_sense_are_refused_r_cash_3(
    api, control, group, tokens, changes, code
):
    body = {
        "request_type": "expense_claim",
        "unit_id": _unit(control, group, "SH-XTD"),
        **_content(),
        **changes,
    }
    response = api("POST", "", tokens["qian.staff"], json=body)
    assert response.status_code == 422 and response.json["code"] == code


def test_only_one_s_own_paid_advance_is_reported_with_its_own_business_r_cash_3(
    api, control, group, tokens
):
    advance = _advance(api, control, group, tokens, ended=_days_ago(1), kind="travel")
    body = {
        "request_type": "expense_claim",
        "unit_id": _unit(control, group, "SH-XTD"),
        **_content(settles_request_id=advance["id"]),
    }
    unpaid = api("POST", "", tokens["qian.staff"], json=body)
    assert unpaid.status_code == 422 and unpaid.json["code"] == "bad_settlement"
    _walk(api, tokens, advance["id"])
    theirs = api("POST", "", tokens["li.kuaiji"], json=body)
    assert theirs.status_code == 422 and theirs.json["code"] == "bad_settlement"
    moved = api(
        "POST",
        "",
        tokens["qian.staff"],
        json={**body, "business_kind": "travel", "business_ended_on": _days_ago(0)},
    )
    assert moved.status_code == 422 and moved.json["code"] == "bad_business"
    huge = api("POST", "", tokens["qian.staff"], json={**body, "settles_request_id": 2**63})
    assert huge.status_code == 422
    assert api("POST", "", tokens["qian.staff"], json=body).status_code == 201


def test_a_business_day_years_away_is_refused_not_a_500_r_cash_3(api, control, group, tokens):
    response = _advance_response(api, control, group, tokens, ended="9999-12-30")
    assert response.status_code == 422 and response.json["code"] == "business_out_of_range"


def test_a_voucher_cannot_be_slipped_in_through_the_documents_api_r_apr_8(
    api, control, group, tokens
):
    claim = _claim(api, control, group, tokens)
    unit = _unit(control, group, "SH-XTD")
    response = api(
        "POST",
        "",
        tokens["li.kuaiji"],
        data=b"fake",
        headers={"Content-Type": "application/octet-stream"},
        base=f"/documents?filename=x.pdf&entity_type=approval_request"
        f"&entity_id={claim['id']}&unit_id={unit}",
    )
    assert response.status_code == 422 and response.json["code"] == "owned_entity_type"
    assert api("GET", f"/{claim['id']}", tokens["qian.staff"]).json["attachments"] == []


def test_lists_filter_by_type_amount_and_submission_day(api, control, group, tokens):
    claim = _claim(api, control, group, tokens, amounts=("4321.09",))
    api("POST", f"/{claim['id']}/submit", tokens["qian.staff"])
    me = tokens["qian.staff"]

    def ids(query):
        response = api("GET", f"?page_size=100&{query}", me)
        assert response.status_code == 200, response.json
        return [r["id"] for r in response.json]

    today = _days_ago(0)
    assert claim["id"] in ids("amount_min=4321.09&amount_max=4321.09&request_type=expense_claim")
    assert claim["id"] not in ids("amount_min=4321.10")
    assert claim["id"] not in ids("request_type=advance")
    assert claim["id"] in ids(f"submitted_from={today}&submitted_to={today}")
    assert claim["id"] not in ids(f"submitted_to={_days_ago(1)}")
    assert claim["id"] in ids("submitted_to=9999-12-31")  # the last day there is, not a 500
    for bad in (
        "amount_min=1.001",
        "amount_min=5&amount_max=4",
        f"submitted_from={today}&submitted_to={_days_ago(1)}",
        "submitted_from=yesterday",
    ):
        assert api("GET", f"?{bad}", me).status_code == 422, bad
