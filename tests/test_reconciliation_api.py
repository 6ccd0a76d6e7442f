"""``/api/reconciliation`` end to end with the demo people (R-BNK-5): a statement CSV with a
wrong column is refused naming line and column with nothing written, the journal comes in,
auto-match pairs them, the month is drawn up once, submitted balanced, and signed off by the
regional finance manager, not by the one who prepared it."""

from __future__ import annotations

import io

import pytest

from propgroup.db import tenant_session
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from tests.support.api import api_caller, personal_tokens
from tests.support.banking import open_account
from tests.support.groups import provision_demo

SCOPES = ["org:read", "banking:read", "banking:write", "banking:signoff", "banking:admin"]
STATEMENT = (
    "交易日期,借方发生额,贷方发生额,余额,摘要,凭证号\n"
    "2025-01-06,,3000.00,13000.00,租金,R1\n"
    "2025-01-25,15.00,,12985.00,手续费,\n"
)
JOURNAL = "日期,借方,贷方,凭证号\n2025-01-05,3000.00,,R1\n"
MAPPING = {
    "date_column": "交易日期",
    "debit_column": "借方发生额",
    "credit_column": "贷方发生额",
    "balance_column": "余额",
    "description_column": "摘要",
    "reference_column": "凭证号",
}


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(control, "rec_api", "对账接口")
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


@pytest.fixture(scope="module")
def tokens(control, group):
    return personal_tokens(control, group, SCOPES)


@pytest.fixture
def api(group):
    return api_caller(group, "/reconciliation")


@pytest.fixture(scope="module")
def account(control, group):
    with tenant_session(control, group.schema_name) as session:
        account = open_account(session, org.get_unit_by_code(session, "SH-XTD"))
        session.commit()
        return account.id


def _upload(api, tokens, path, content: str, who="li.kuaiji", **fields):
    return api(
        "POST",
        path,
        tokens[who],
        data={"file": (io.BytesIO(content.encode()), "statement.csv"), **fields},
        content_type="multipart/form-data",
    )


def test_r_bnk_5_import_match_reconcile_sign_off_through_the_api(api, tokens, account):
    base = f"/accounts/{account}"
    bad = _upload(
        api, tokens, f"{base}/statements", STATEMENT + "2025-01-27,abc,,1,x,\n", **MAPPING
    )
    assert bad.status_code == 422
    assert bad.json["message"] == "line 4, column '借方发生额': not an amount"
    assert api("GET", f"{base}/statements", tokens["li.kuaiji"]).json == []

    imported = _upload(api, tokens, f"{base}/statements", STATEMENT, **MAPPING)
    assert imported.status_code == 201, imported.json
    assert imported.json["closing_balance"] == "12985.00"
    again = _upload(api, tokens, f"{base}/statements", STATEMENT, **MAPPING)
    assert (again.status_code, again.json["code"]) == (409, "file_imported")

    opening = {"entry_date": "2024-12-31", "amount": "10000.00", "opening": True}
    entry = api("POST", f"{base}/journal", tokens["li.kuaiji"], json=opening)
    assert entry.status_code == 201 and entry.json["source"] == "opening"
    journal = _upload(
        api,
        tokens,
        f"{base}/journal/imports",
        JOURNAL,
        date_column="日期",
        debit_column="借方",
        credit_column="贷方",
        reference_column="凭证号",
    )
    assert journal.status_code == 201, journal.json
    matched = api("POST", f"{base}/auto-match", tokens["li.kuaiji"], json={})
    assert matched.json["matched"] == 1 and matched.json["by_reference"] == 1
    unmatched = api("GET", f"{base}/statement-lines?matched=false", tokens["li.kuaiji"]).json
    assert [line["amount"] for line in unmatched] == ["-15.00"]

    prepared = api(
        "POST", f"{base}/reconciliations", tokens["li.kuaiji"], json={"month": "2025-01"}
    )
    assert prepared.status_code == 201, prepared.json
    assert prepared.json["difference"] == "0.00"
    # The opening entry is a balance carried over, not a deposit in transit.
    assert [(i["kind"], i["amount"]) for i in prepared.json["items"]] == [("bank_charge", "-15.00")]
    rec = prepared.json["id"]
    twice = api(
        "POST", f"{base}/reconciliations", tokens["sun.diqucaiwu"], json={"month": "2025-01"}
    )
    assert (twice.status_code, twice.json["code"]) == (409, "reconciled_already")
    assert (
        api("POST", f"/reconciliations/{rec}/signoff", tokens["sun.diqucaiwu"]).status_code == 409
    )
    assert api("POST", f"/reconciliations/{rec}/submit", tokens["li.kuaiji"]).status_code == 200
    own = api("POST", f"/reconciliations/{rec}/signoff", tokens["li.kuaiji"])
    assert own.status_code == 403
    signed = api("POST", f"/reconciliations/{rec}/signoff", tokens["sun.diqucaiwu"])
    assert signed.status_code == 200 and signed.json["status"] == "signed"
    assert signed.json["archive_item_id"]
    pdf = api("GET", f"/reconciliations/{rec}/pdf", tokens["feng.shenji"])
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF-")


def test_r_bnk_5_overdue_listing_of_a_region(api, tokens, group, control):
    with tenant_session(control, group.schema_name) as session:
        east = org.get_unit_by_code(session, "EAST").id
        south = org.get_unit_by_code(session, "SOUTH").id
        ljz = open_account(session, org.get_unit_by_code(session, "SH-LJZ"), bank="招商银行")
        session.commit()
    listed = api("GET", f"/overdue?unit_id={east}", tokens["sun.diqucaiwu"])
    assert listed.status_code == 200
    assert ljz.id in {row["account_id"] for row in listed.json}
    assert all(row["number"].startswith("****") for row in listed.json)
    assert api("GET", f"/overdue?unit_id={south}", tokens["sun.diqucaiwu"]).status_code == 403


def test_r_bnk_5_window_setting_is_the_admins(api, tokens):
    refused = api("PUT", "/settings", tokens["li.kuaiji"], json={"match_window_days": 5})
    assert refused.status_code == 403
    bad = api("PUT", "/settings", tokens["wu.caiwuzongjian"], json={"match_window_days": 99})
    assert bad.status_code == 422
    changed = api("PUT", "/settings", tokens["wu.caiwuzongjian"], json={"match_window_days": 5})
    assert changed.json == {"match_window_days": 5}
    assert api("GET", "/settings", tokens["li.kuaiji"]).json == {"match_window_days": 5}
