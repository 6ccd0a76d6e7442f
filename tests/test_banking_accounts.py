"""``/api/banking`` with the demo users: accounts listed and read with masked numbers unless the
caller may read numbers at the unit, an opening raised, approved and registered over HTTP, an
account carried over from before the system by banking:admin, refusals as 4xx with nothing
written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from propgroup.banking.models import BankAccount, BookEntry
from propgroup.db import tenant_session
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from tests.support.api import api_caller, personal_tokens
from tests.support.banking import (
    ACCOUNTANT,
    ADMIN,
    BRANCH_CHAIN,
    DIRECTOR,
    HEAD,
    OPEN_FORM,
    SEALS,
)
from tests.support.groups import provision_demo

SCOPES = [
    "banking:read",
    "banking:numbers",
    "banking:write",
    "banking:admin",
    "approvals:read",
    "approvals:write",
    "documents:read",
]
AUDITOR = "feng.shenji"
OTHER_BRANCH = "ljz.kuaiji"


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(
        control,
        "bank_api",
        "银行账户接口",
        people={OTHER_BRANCH: [("branch_accountant", "SH-LJZ")]},
    )
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


@pytest.fixture(scope="module")
def tokens(control, group):
    return personal_tokens(control, group, SCOPES)


@pytest.fixture(scope="module")
def api(group):
    return api_caller(group, "/banking")


@pytest.fixture(scope="module")
def unit_ids(control, group):
    with tenant_session(control, group.schema_name) as session:
        return {code: org.get_unit_by_code(session, code).id for code in ("SH-XTD", "SH-LJZ")}


def _existing(api, tokens, unit_ids, number, who=DIRECTOR, **extra):
    spec = {
        **{k: v for k, v in OPEN_FORM.items() if k != "reason"},
        "unit_id": unit_ids["SH-XTD"],
        "number": number,
        "opened_on": "2019-05-06",
        "opening_balance": "88000.00",
        "balance_on": "2024-12-31",
        "note": "上线前开立, 据2024年12月对账单",
        **extra,
    }
    return api("POST", "/accounts/existing", tokens[who], json=spec)


def _count(control, group, model):
    with tenant_session(control, group.schema_name) as session:
        return session.scalar(select(func.count()).select_from(model))


def test_existing_account_by_banking_admin_with_an_opening_balance(
    api, tokens, unit_ids, control, group
):
    by_accountant = _existing(api, tokens, unit_ids, "6217000010001111", who=ACCOUNTANT)
    assert (by_accountant.status_code, by_accountant.json["code"]) == (403, "forbidden")
    created = _existing(api, tokens, unit_ids, "6217 0000 1000 1234")
    assert created.status_code == 201, created.json
    body = created.json
    assert (body["status"], body["number"], body["book_balance"]) == (
        "open",
        "6217000010001234",
        "88000.00",
    )
    assert {s["kind"]: s["keeper"] for s in body["seals"]} == SEALS
    with tenant_session(control, group.schema_name) as session:
        entry = session.scalar(select(BookEntry).where(BookEntry.account_id == body["id"]))
        assert (entry.source, str(entry.amount)) == ("opening", "88000.00")


def test_numbers_are_masked_unless_the_caller_reads_numbers_at_the_unit(api, tokens, unit_ids):
    account = _existing(api, tokens, unit_ids, "6217000010005678").json
    for login, expected in (
        (ACCOUNTANT, "6217000010005678"),
        (HEAD, "****5678"),
        (AUDITOR, "****5678"),
    ):
        listed = api("GET", "/accounts", tokens[login]).json
        assert {a["id"]: a["number"] for a in listed}[account["id"]] == expected
        assert api("GET", f"/accounts/{account['id']}", tokens[login]).json["number"] == expected
    assert api("GET", "/accounts", tokens[OTHER_BRANCH]).json == []
    hidden = api("GET", f"/accounts/{account['id']}", tokens[OTHER_BRANCH])
    assert (hidden.status_code, hidden.json["code"]) == (404, "account_not_found")


def test_opening_raised_approved_and_registered_over_http(api, tokens, unit_ids, control, group):
    raised = api(
        "POST",
        "/requests",
        tokens[ACCOUNTANT],
        json={
            "kind": "open",
            "unit_id": unit_ids["SH-XTD"],
            "form": {**OPEN_FORM, "account_type": "special"},
        },
    )
    assert raised.status_code == 201, raised.json
    request = api("POST", f"/requests/{raised.json['id']}/submit", tokens[ACCOUNTANT]).json
    assert request["status"] == "submitted"
    for step, login in enumerate(BRANCH_CHAIN, start=1):
        decided = api(
            "POST",
            f"/{request['approval_request_id']}/decisions",
            tokens[login],
            base=f"/approvals/{request['approval_request_id']}/decisions",
            json={"step": step, "approve": True},
        )
        assert decided.status_code == 200, decided.json
    request = api("GET", f"/requests/{request['id']}", tokens[ACCOUNTANT]).json
    assert request["status"] == "approved"
    account_id = request["account_id"]
    pending = api("GET", f"/accounts/{account_id}", tokens[ACCOUNTANT]).json
    assert (pending["status"], pending["number"]) == ("pending", None)
    assert [r["id"] for r in pending["requests"]] == [request["id"]]
    malformed = api(
        "POST",
        f"/accounts/{account_id}/opening",
        tokens[ACCOUNTANT],
        json={"number": "12-ab", "opened_on": "2025-04-01"},
    )
    assert (malformed.status_code, malformed.json["code"]) == (422, "bad_account_number")
    not_writer = api(
        "POST",
        f"/accounts/{account_id}/opening",
        tokens[HEAD],
        json={"number": "6217000010009999", "opened_on": "2025-04-01"},
    )
    assert not_writer.status_code == 403
    _existing(api, tokens, unit_ids, "6217000010009999")
    duplicate = api(
        "POST",
        f"/accounts/{account_id}/opening",
        tokens[ACCOUNTANT],
        json={"number": "6217-0000-1000-9999", "opened_on": "2025-04-01"},
    )
    assert (duplicate.status_code, duplicate.json["code"]) == (409, "duplicate_account")
    assert "ending 9999" in duplicate.json["message"]
    opened = api(
        "POST",
        f"/accounts/{account_id}/opening",
        tokens[ACCOUNTANT],
        json={"number": "6217000010004321", "opened_on": "2025-04-01"},
    )
    assert opened.status_code == 200, opened.json
    assert (opened.json["status"], opened.json["number"], opened.json["opened_on"]) == (
        "open",
        "6217000010004321",
        "2025-04-01",
    )
    assert api("GET", f"/accounts/{account_id}", tokens[HEAD]).json["number"] == "****4321"


def test_refusals_are_4xx_with_nothing_written(api, tokens, unit_ids, control, group):
    before = _count(control, group, BankAccount)
    second_basic = [
        _existing(api, tokens, unit_ids, number, account_type="basic")
        for number in ("6217000020000001", "6217000020000002")
    ]
    assert second_basic[0].status_code == 201
    assert (second_basic[1].status_code, second_basic[1].json["code"]) == (
        409,
        "second_basic_account",
    )
    two_seals = api(
        "POST",
        "/requests",
        tokens[ACCOUNTANT],
        json={
            "kind": "open",
            "unit_id": unit_ids["SH-XTD"],
            "form": {**OPEN_FORM, "seals": {**SEALS, "head_name_seal": ACCOUNTANT}},
        },
    )
    assert (two_seals.status_code, two_seals.json["code"]) == (422, "bad_keepers")
    assert set(two_seals.json) >= {"code", "message", "errors"}
    other_unit = api(
        "POST",
        "/requests",
        tokens[OTHER_BRANCH],
        json={"kind": "close", "account_id": second_basic[0].json["id"], "form": {"reason": "x"}},
    )
    assert other_unit.status_code == 404
    with_balance = api(
        "POST",
        "/requests",
        tokens[ACCOUNTANT],
        json={"kind": "close", "account_id": second_basic[0].json["id"], "form": {"reason": "x"}},
    )
    assert (with_balance.status_code, with_balance.json["code"]) == (409, "cannot_close")
    assert _count(control, group, BankAccount) == before + 1


def test_dormancy_setting_by_banking_admin_only(api, tokens):
    assert api("GET", "/settings", tokens[HEAD]).json == {"dormancy_months": 12}
    assert (
        api("PUT", "/settings", tokens[ACCOUNTANT], json={"dormancy_months": 6}).status_code == 403
    )
    assert api("PUT", "/settings", tokens[ADMIN], json={"dormancy_months": 0}).status_code == 422
    assert api("PUT", "/settings", tokens[ADMIN], json={"dormancy_months": 18}).json == {
        "dormancy_months": 18
    }
    assert api("PUT", "/settings", tokens[ADMIN], json={"dormancy_months": 12}).status_code == 200
