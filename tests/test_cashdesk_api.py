"""``/api/cashdesk`` end to end: JSON refusals with code and message, nothing half-written,
per-unit authorization, every action audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from propgroup.audit.models import AuditEvent
from propgroup.cashdesk.models import Cheque, ChequeBook
from propgroup.db import tenant_session
from propgroup.tenancy import service as tenancy
from tests.support.api import api_caller, personal_tokens
from tests.support.cashdesk import CASHIER, HOLDER, MANAGER, approved_request, open_account
from tests.support.groups import REQUESTER, demo_today, provision_demo

SCOPES = ["banking:read", "banking:cash", "banking:signoff", "banking:admin", "approvals:write"]


@pytest.fixture(scope="module")
def group(control):
    people = {**REQUESTER, "he.chuna": [("cashier", "SZ-NS")]}
    tenant = provision_demo(control, "cash_api", "出纳接口", people=people)
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


@pytest.fixture(scope="module")
def tokens(control, group):
    return personal_tokens(control, group, SCOPES)


@pytest.fixture(scope="module")
def setup(control, group):
    with tenant_session(control, group.schema_name) as session:
        account = open_account(session)
        request = approved_request(session, "800.00")
        session.commit()
        return {"account": account.id, "request": request.id}


@pytest.fixture
def api(group):
    return api_caller(group, "/cashdesk")


def _book(api, tokens, setup, first, last):
    return api(
        "POST",
        "/cheque-books",
        tokens[CASHIER],
        json={
            "account_id": setup["account"],
            "received_on": str(demo_today()),
            "bank": "工行",
            "cheque_type": "transfer",
            "first_number": first,
            "last_number": last,
        },
    )


def _audited(control, group, action):
    with tenant_session(control, group.schema_name) as session:
        return session.scalars(
            select(AuditEvent.entity_id).where(AuditEvent.action == action)
        ).all()


def test_a_book_a_cheque_accounted_for_each_audited(api, tokens, setup, control, group):
    booked = _book(api, tokens, setup, "20000001", "20000010")
    assert booked.status_code == 201, booked.json
    issued = api(
        "POST",
        "/cheques",
        tokens[CASHIER],
        json={
            "account_id": setup["account"],
            "cheque_type": "transfer",
            "purpose": "维修",
            "request_id": setup["request"],
        },
    )
    assert issued.status_code == 201, issued.json
    assert issued.json["number"] == "20000001" and issued.json["overdue"] is False
    done = api(
        "POST",
        f"/cheques/{issued.json['id']}/account",
        tokens[CASHIER],
        json={"paid_on": str(demo_today())},
    )
    assert done.status_code == 200 and done.json["state"] == "accounted"
    assert (done.json["amount"], done.json["payee"]) == ("800.00", "p")
    assert str(booked.json["id"]) in _audited(control, group, "cashdesk.book_registered")
    assert str(issued.json["id"]) in _audited(control, group, "cashdesk.cheque_accounted")


def test_r_chq_1_an_overlapping_book_is_409_and_nothing_written(api, tokens, setup, control, group):
    assert _book(api, tokens, setup, "30000001", "30000050").status_code == 201
    refused = _book(api, tokens, setup, "30000040", "30000060")
    assert refused.status_code == 409
    assert refused.json["code"] == "overlapping_range" and "30000001" in refused.json["message"]
    with tenant_session(control, group.schema_name) as session:
        assert (
            session.scalar(select(ChequeBook).where(ChequeBook.first_number == "30000040")) is None
        )


def test_r_cash_2_an_iou_line_is_422_naming_the_line(api, tokens, group, control):
    with tenant_session(control, group.schema_name) as session:
        from propgroup.org import service as org

        unit = org.get_unit_by_code(session, "SH-XTD").id
    refused = api(
        "POST",
        "/counts",
        tokens[CASHIER],
        json={
            "unit_id": unit,
            "kind": "week_end",
            "counted_on": str(demo_today()),
            "lines": [{"denomination": "100", "quantity": 0}, {"kind": "iou", "amount": "300"}],
        },
    )
    assert refused.status_code == 422
    assert refused.json["code"] == "iou_refused" and "lines.2" in refused.json["errors"]


def test_another_unit_s_cashier_may_not_write_its_cheques(api, tokens, setup, control, group):
    refused = api(
        "POST",
        "/cheques",
        tokens["he.chuna"],
        json={
            "account_id": setup["account"],
            "cheque_type": "transfer",
            "purpose": "x",
            "request_id": setup["request"],
        },
    )
    assert refused.status_code == 404  # another unit's account is not found
    with tenant_session(control, group.schema_name) as session:
        assert session.scalar(select(Cheque).where(Cheque.purpose == "x")) is None


def test_the_cash_limit_setting_is_read_and_changed_by_the_admin(api, tokens):
    assert api("GET", "/settings", tokens[CASHIER]).json == {
        "cash_limit": "10000.00",
        "reminder_days": 5,
    }
    assert (
        api(
            "PUT", "/settings", tokens[CASHIER], json={"cash_limit": "8000", "reminder_days": 3}
        ).status_code
        == 403
    )
    changed = api(
        "PUT",
        "/settings",
        tokens["wu.caiwuzongjian"],
        json={"cash_limit": "8000", "reminder_days": 3},
    )
    assert changed.status_code == 200 and changed.json["cash_limit"] == "8000.00"
    assert api("GET", "/alerts", tokens[MANAGER]).status_code == 200
    assert api("GET", "/petty-cash", tokens[HOLDER]).status_code == 200
    restored = api(  # the module's group is shared: its other tests expect the default
        "PUT",
        "/settings",
        tokens["wu.caiwuzongjian"],
        json={"cash_limit": "10000.00", "reminder_days": 5},
    )
    assert restored.status_code == 200


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [
        ("/cheques", "cheque_type", ["transfer"]),
        ("/counts", "kind", {}),
        ("/cheques", "purpose", []),
    ],
)
def test_a_list_or_object_where_a_word_is_expected_is_422_not_500(
    api, tokens, setup, control, group, path, field, value
):
    with tenant_session(control, group.schema_name) as session:
        from propgroup.org import service as org

        unit = org.get_unit_by_code(session, "SH-XTD").id
    body = {
        "/cheques": {
            "account_id": setup["account"],
            "cheque_type": "transfer",
            "purpose": "x",
            "request_id": setup["request"],
        },
        "/counts": {
            "unit_id": unit,
            "kind": "week_end",
            "counted_on": str(demo_today()),
            "lines": [{"denomination": "100", "quantity": 1}],
        },
    }[path]
    refused = api("POST", path, tokens[CASHIER], json={**body, field: value})
    assert refused.status_code == 422, refused.json
    assert field in refused.json["errors"]
