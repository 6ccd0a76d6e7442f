"""Approvals over the API with personal tokens: the chain walked by the demo users, stale
decisions as 409 with the current state, idempotent payment, money that never becomes float."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from propgroup.config import get_settings
from propgroup.db import tenant_session
from propgroup.identity import service as identity
from propgroup.identity.models import User
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from tests.support.groups import PASSWORD, REQUESTER, provision_demo

SCOPES = ["approvals:read", "approvals:write", "org:read"]


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(control, "apr_api", "审批API", people=REQUESTER)
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


@pytest.fixture(scope="module")
def tokens(control, group):
    """A personal token for every person of the group."""
    found = {}
    with tenant_session(control, group.schema_name) as session:
        for user in session.scalars(select(User)):
            _, token = identity.create_api_client(
                session,
                tenant_slug=group.slug,
                name=f"pat {user.login}",
                scopes=SCOPES,
                acting_user=user,
            )
            found[user.login] = {"Authorization": f"Bearer {token}"}
        session.commit()
    return found


@pytest.fixture
def api(control, group):
    get_settings.cache_clear()
    from propgroup.app import create_app

    client = create_app({"TESTING": True}).test_client()

    def call(method, path, who, **kwargs):
        return client.open(
            f"/t/{group.slug}/api/approvals{path}",
            method=method,
            headers={**who, **kwargs.pop("headers", {})},
            **kwargs,
        )

    return call


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
