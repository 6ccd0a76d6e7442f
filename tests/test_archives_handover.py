"""Handover lists (seed §19, R-BNK-3): when a cashier or accountant leaves, what they keep is
listed and signed by the one leaving, the one taking over and a supervisor (three people); the
third signature files the list as a transfer list (移交清册) with its PDF."""

from __future__ import annotations

import pytest

from propgroup.archives import handovers
from propgroup.archives.models import Handover
from propgroup.db import tenant_session
from propgroup.errors import Forbidden
from propgroup.identity.principals import Principal
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from tests.support.api import api_caller, personal_tokens
from tests.support.groups import provision_demo

SCOPES = ["archives:read", "archives:write"]
LEAVING, TAKING_OVER, SUPERVISOR = "zhao.chuna", "xu.chuna", "wang.xiangmu"


@pytest.fixture(scope="module")
def group(control):
    # The one taking over holds no role yet: a new cashier from outside the branch.
    tenant = provision_demo(control, "arc_hand", "档案交接", people={TAKING_OVER: []})
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


@pytest.fixture(scope="module")
def tokens(control, group):
    return personal_tokens(control, group, SCOPES)


@pytest.fixture
def api(group):
    return api_caller(group, "/archives")


@pytest.fixture(scope="module")
def unit(control, group):
    with tenant_session(control, group.schema_name) as session:
        return org.get_unit_by_code(session, "SH-XTD").id


def _spec(api, tokens, unit, **changes):
    journal = api(
        "POST",
        "/items",
        tokens["li.kuaiji"],
        json={
            "class_code": "journal",
            "unit_id": unit,
            "fiscal_year": 2025,
            "title": "现金日记账 2025",
        },
    )
    assert journal.status_code == 201
    spec = {
        "unit_id": unit,
        "leaving": LEAVING,
        "receiving": TAKING_OVER,
        "supervisor": SUPERVISOR,
        "reason": "出纳离职",
        "lines": [
            {"kind": "archive", "description": "现金日记账", "item_id": journal.json["id"]},
            {"kind": "cheque_book", "description": "工商银行转账支票 No.1001-1025", "quantity": 1},
            {"kind": "seal", "description": "财务专用章"},
            {"kind": "open_item", "description": "备用金借款未还 2,000.00（王五）"},
        ],
    }
    return {**spec, **changes}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"receiving": LEAVING}, "receiving"),
        ({"supervisor": "nobody.here"}, "supervisor"),
        ({"supervisor": "feng.shenji"}, "supervisor"),  # the auditor supervises nothing
        ({"lines": []}, "lines"),
        ({"lines": [{"kind": "archive", "description": "x"}]}, "lines"),
        ({"lines": [{"kind": "seal", "description": "x", "item_id": 1}]}, "lines"),
        ({"lines": [{"kind": "key", "description": "x"}]}, "lines"),
        ({"lines": [{"kind": "seal", "description": "x", "quantity": 2**31}]}, "lines"),
        (
            {"lines": [{"kind": "archive", "description": "x", "item_id": 987654}]},
            "lines.0.item_id",
        ),
    ],
)
def test_bad_handover_is_refused_naming_the_field(api, tokens, unit, changes, field):
    refused = api(
        "POST", "/handovers", tokens["li.kuaiji"], json=_spec(api, tokens, unit, **changes)
    )
    assert refused.status_code == 422 and field in refused.json["errors"], refused.json


def test_three_signatures_file_the_handover_list(api, tokens, unit):
    opened = api("POST", "/handovers", tokens["li.kuaiji"], json=_spec(api, tokens, unit))
    assert opened.status_code == 201, opened.json
    handover = opened.json["id"]
    assert opened.json["status"] == "open" and len(opened.json["lines"]) == 4
    stranger = api("POST", f"/handovers/{handover}/sign", tokens["li.kuaiji"])
    assert stranger.status_code == 403 and stranger.json["code"] == "not_a_signer"
    for login in (LEAVING, TAKING_OVER):
        signed = api("POST", f"/handovers/{handover}/sign", tokens[login])
        assert signed.status_code == 200 and signed.json["status"] == "open"
    twice = api("POST", f"/handovers/{handover}/sign", tokens[LEAVING])
    assert twice.status_code == 409
    done = api("POST", f"/handovers/{handover}/sign", tokens[SUPERVISOR])
    assert done.status_code == 200 and done.json["status"] == "signed"
    record = api("GET", f"/items/{done.json['record_item_id']}", tokens["li.kuaiji"]).json
    assert record["class_code"] == "transfer_list" and record["due_on"] is not None
    assert [f["filename"] for f in record["files"]] == [f"handover-{handover}.pdf"]
    # The one taking over, who holds no role there, still reads the list they signed.
    assert api("GET", f"/handovers/{handover}", tokens[TAKING_OVER]).status_code == 200
    late = api("POST", f"/handovers/{handover}/cancel", tokens["li.kuaiji"], json={"reason": "x"})
    assert late.status_code == 409


def test_unfinished_handover_is_cancelled(api, tokens, unit):
    opened = api("POST", "/handovers", tokens["li.kuaiji"], json=_spec(api, tokens, unit))
    handover = opened.json["id"]
    refused = api(
        "POST", f"/handovers/{handover}/cancel", tokens[TAKING_OVER], json={"reason": "x"}
    )
    assert refused.status_code == 403
    cancelled = api(
        "POST", f"/handovers/{handover}/cancel", tokens["li.kuaiji"], json={"reason": "清单有误"}
    )
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert api("POST", f"/handovers/{handover}/sign", tokens[LEAVING]).status_code == 409


def test_handovers_listed_to_their_signers_and_the_units_readers(api, tokens, unit):
    opened = api("POST", "/handovers", tokens["li.kuaiji"], json=_spec(api, tokens, unit))
    handover = opened.json["id"]

    def listed(login):
        found = api("GET", "/handovers", tokens[login], query_string={"page_size": 100})
        assert found.status_code == 200, found.json
        return {row["id"] for row in found.json}

    assert handover in listed(TAKING_OVER)  # holds no role: signs it, so reads it
    assert handover in listed("sun.diqucaiwu")  # reads the region's archives
    assert handover not in listed("chen.bumen")  # a department's head: not the branch's
    assert api("GET", f"/handovers/{handover}", tokens["chen.bumen"]).status_code == 403


def test_an_api_client_is_no_signer_whatever_its_id(control, group, api, tokens, unit):
    """A client's id numbers api_clients, not users: equal to a signer's, it reads nothing."""
    opened = api("POST", "/handovers", tokens["li.kuaiji"], json=_spec(api, tokens, unit))
    with tenant_session(control, group.schema_name) as session:
        handover = session.get(Handover, opened.json["id"])
        client = Principal(kind="client", id=handover.leaving_id, name="partner")
        assert handovers.signer_role(handover, client) is None
        with pytest.raises(Forbidden):
            handovers.get_handover(session, client, handover.id, "archives:read")
        assert handover.id not in session.scalars(handovers.visible_handovers(session, client))
