"""Budgets over the API with personal tokens: a plan compiled, refused with every problem named,
submitted and approved by the level above; ledger imports all-or-nothing with row and column;
plan vs actual and the remaining budget as strings, never floats; object-level authorization;
actuals booked and reversed by finance above the units measured, not by them."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from propgroup.audit.models import AuditEvent
from propgroup.db import tenant_session
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from tests.support.api import api_caller, personal_tokens
from tests.support.budgets import DIRECTOR, lines
from tests.support.groups import demo_today, provision_demo

SCOPES = [
    "budgets:read",
    "budgets:write",
    "budgets:admin",
    "budgets:actuals",
    "approvals:read",
    "approvals:write",
]
FINANCE, SOUTH_FINANCE = "sun.diqucaiwu", "su.caiwu"  # regional finance: they book actuals
UNIT_PEOPLE = ("li.kuaiji", "wang.xiangmu", "chen.bumen")  # accountant, head, department head
YEAR = demo_today().year  # the year requests spend in (R-APR-7)


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(
        control,
        "bud_api",
        "预算API",
        people={
            "su.staff": [("department_head", "SZ-NS")],
            SOUTH_FINANCE: [("regional_finance", "SOUTH")],
        },
    )
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


@pytest.fixture(scope="module")
def tokens(control, group):
    return personal_tokens(control, group, SCOPES)


@pytest.fixture
def api(group):
    return api_caller(group, "/budgets")


@pytest.fixture(scope="module")
def units(control, group):
    with tenant_session(control, group.schema_name) as session:
        return {
            u: org.get_unit_by_code(session, u).id
            for u in ("SH-XTD", "EAST", "HQ", "SZ-NS", "SH-LJZ")
        }


def test_plan_compiled_refused_submitted_and_approved_r_bud_2(api, tokens, units):
    director, accountant = tokens["wu.caiwuzongjian"], tokens["li.kuaiji"]
    season = api("POST", "/seasons", director, json={"fiscal_year": YEAR, "deadline": "2099-12-31"})
    assert season.status_code == 201, season.json
    opened = api(
        "POST",
        "/plans",
        accountant,
        json={"unit_id": units["SH-XTD"], "fiscal_year": YEAR, "plan_kind": "expense"},
    )
    assert opened.status_code == 201 and opened.json["status"] == "draft"
    version = opened.json["id"]
    bad = api(
        "PUT",
        f"/versions/{version}/lines",
        accountant,
        json={"lines": [{"category": "ADM-OFFICE", "amounts": {"1": "1.001", "2": 5}}]},
    )
    assert bad.status_code == 422 and set(bad.json["errors"]) == {"lines[0].amounts.1"}
    good = api(
        "PUT",
        f"/versions/{version}/lines",
        accountant,
        json={"lines": lines({"ADM-OFFICE": "1200.00"}, "SH-XTD-FIN")},
    )
    assert good.status_code == 200
    assert good.json["lines"][0]["amounts"][0] == "100.00"
    assert good.json["lines"][0]["quarters"] == ["300.00"] * 4
    sent = api("POST", f"/versions/{version}/submit", accountant)
    assert sent.status_code == 200 and sent.json["status"] == "submitted"
    request_id = sent.json["approval_request_id"]
    for step, login in enumerate(["sun.diqucaiwu", "zhou.zongjingli"], start=1):
        decided = api(
            "POST",
            "",
            tokens[login],
            base=f"/approvals/{request_id}/decisions",
            json={"step": step, "approve": True},
        )
        assert decided.status_code == 200, decided.json
    assert api("GET", f"/versions/{version}", accountant).json["status"] == "approved"
    paid = api(
        "POST",
        "",
        tokens["zhao.chuna"],
        base=f"/approvals/{request_id}/payment",
        json={"method": "cash"},
    )
    assert paid.status_code == 409 and paid.json["code"] == "not_payable"
    left = api(
        "GET",
        "/remaining",
        accountant,
        query_string={"unit_id": units["SH-XTD"], "budget_line": "ADM-OFFICE"},
    )
    assert left.status_code == 200 and left.json["remaining"] == "1200.00"
    locked = api("POST", f"/versions/{version}/lock", director)
    assert locked.json["status"] == "locked"
    edit = api("PUT", f"/versions/{version}/lines", accountant, json={"lines": []})
    assert edit.status_code == 409 and edit.json["code"] == "version_not_draft"


def test_budget_plan_requests_are_not_raised_by_hand(api, tokens, units):
    raised = api(
        "POST",
        "",
        tokens["li.kuaiji"],
        base="/approvals",
        json={
            "request_type": "budget_plan",
            "unit_id": units["SH-XTD"],
            "title": "t",
            "payee": "p",
            "lines": [{"category": "c", "description": "d", "amount": "1.00"}],
        },
    )
    assert raised.status_code == 422


def test_plan_outside_your_subtree_is_forbidden_r_org_2(api, tokens, units):
    response = api(
        "POST",
        "/plans",
        tokens["su.staff"],
        json={"unit_id": units["SH-XTD"], "fiscal_year": YEAR + 1, "plan_kind": "fund"},
    )
    assert response.status_code == 403
    figures = api(
        "GET",
        "/figures",
        tokens["su.staff"],
        query_string={"unit_id": units["EAST"], "fiscal_year": YEAR},
    )
    assert figures.status_code == 403


def _csv(rows):
    out = io.StringIO()
    csv.writer(out).writerows([("科目", "单位", "年度", "月份", "金额"), *rows])
    return out.getvalue().encode("utf-8")


def test_ledger_import_is_all_or_nothing_with_row_and_column_r_bud_5(api, tokens, units):
    finance = tokens[FINANCE]
    broken = _csv(
        [
            ("ADM-OFFICE", "SH-XTD", YEAR, 3, "100.00"),
            ("NOPE", "SH-XTD", YEAR, 3, "1"),
            ("ADM-OFFICE", "MARS", YEAR, 13, "1.234"),
        ]
    )
    refused = api(
        "POST", "/actuals/imports", finance, query_string={"filename": "a.csv"}, data=broken
    )
    assert refused.status_code == 422
    assert {(e["row"], e["column"]) for e in refused.json["errors"]} == {
        (3, "category"),
        (4, "unit"),
        (4, "month"),
        (4, "amount"),
    }
    figures = {"unit_id": units["SH-XTD"], "fiscal_year": YEAR, "versions": "latest"}
    before = api("GET", "/figures", finance, query_string=figures).json["rows"]
    good = _csv(
        [("ADM-TRAVEL", "SH-XTD", YEAR, 3, "1,250.50"), ("ADM-TRAVEL", "SH-XTD", YEAR, 4, "-50.50")]
    )
    done = api("POST", "/actuals/imports", finance, query_string={"filename": "b.csv"}, data=good)
    assert done.status_code == 201 and (done.json["row_count"], done.json["total"]) == (
        2,
        "1200.00",
    )
    again = api("POST", "/actuals/imports", finance, query_string={"filename": "c.csv"}, data=good)
    assert again.status_code == 409
    after = api("GET", "/figures", finance, query_string=figures).json["rows"]
    travel = next(r for r in after if (r["unit"], r["category"]) == ("SH-XTD", "ADM-TRAVEL"))
    assert travel["actual"] == "1200.00" and travel["alert"] == "over_100"  # no plan for it
    assert not any(r["category"] == "ADM-TRAVEL" for r in before)


def _import_xlsx(api, who, header, row):
    book = Workbook()
    book.active.append(header)
    book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    query = {"filename": f"{row[0]}.xlsx"}
    return api("POST", "/actuals/imports", who, query_string=query, data=buffer.getvalue())


def test_ledger_import_reads_xlsx_with_chinese_headers_r_bud_5(api, tokens):
    header = ["科目", "单位", "年度", "月份", "金额"]
    done = _import_xlsx(api, tokens[FINANCE], header, ["ADM-COMM", "SH-XTD", YEAR, 5, 88.8])
    assert done.status_code == 201 and done.json["total"] == "88.80"


def test_ledger_rows_for_units_outside_your_subtree_are_refused(api, tokens, units):
    refused = api(
        "POST",
        "/actuals/imports",
        tokens[FINANCE],
        query_string={"filename": "x.csv"},
        data=_csv([("ADM-OFFICE", "SZ-NS", YEAR, 1, "1.00")]),
    )
    assert refused.status_code == 422
    assert refused.json["errors"][0]["column"] == "unit"


def test_chart_is_extended_by_a_group_admin_only(api, tokens):
    admin, accountant = tokens["zheng.guanliyuan"], tokens["li.kuaiji"]
    leaf = {"code": "ADM-POSTAGE", "name": "邮寄费", "parent": "ADM"}
    assert api("POST", "/categories", accountant, json=leaf).status_code == 403
    added = api("POST", "/categories", admin, json=leaf)
    assert added.status_code == 201
    assert (added.json["plan_kind"], added.json["side"], added.json["is_leaf"]) == (
        "expense",
        "expense",
        True,
    )
    top_without_kind = api("POST", "/categories", admin, json={"code": "X", "name": "x"})
    assert top_without_kind.status_code == 422
    under_a_used_line = {"code": "ADM-OFFICE-PAPER", "name": "纸", "parent": "ADM-OFFICE"}
    refused = api("POST", "/categories", admin, json=under_a_used_line)
    assert refused.status_code == 409 and refused.json["code"] == "category_in_use"


def test_ids_and_years_beyond_range_are_404_or_422_not_500(api, tokens):
    director = tokens["wu.caiwuzongjian"]
    huge = 2**63
    for path in (f"/plans/{huge}", f"/versions/{huge}", f"/versions/1/compare/{huge}"):
        assert api("GET", path, director).status_code == 404, path
    assert api("PUT", f"/versions/{huge}/lines", director, json={"lines": []}).status_code == 404
    assert api("GET", "/seasons/99999", director).status_code == 422
    target = api("PUT", f"/seasons/{YEAR}/targets/{huge}", director, json={"profit": "1"})
    assert target.status_code in (404, 422)


def test_broken_files_are_refused_with_the_reason(api, tokens):
    finance = tokens[FINANCE]

    def send(name, data):
        return api("POST", "/actuals/imports", finance, query_string={"filename": name}, data=data)

    superscript = _csv([("ADM-OFFICE", "SH-XTD", "²⁰²⁶", "³", "1.00")])
    refused = send("s.csv", superscript)
    assert refused.status_code == 422
    assert {e["column"] for e in refused.json["errors"]} == {"year", "month"}
    unclosed = ('科目,单位,年度,月份,金额\n"' + "x" * 200_000).encode()
    assert send("u.csv", unclosed).status_code == 422
    assert send("z.xlsx", b"PK\x03\x04 not a zip at all").status_code == 422
    assert send("h.csv", _csv([])).json["code"] == "empty_import"
    huge = _csv([("ADM-OFFICE", "SH-XTD", YEAR, 1, "9999999999999999.99")] * 2)
    assert send("big.csv", huge).status_code == 422


def test_an_excel_float_stands_for_its_cent_r_bud_5(api, tokens):
    header = ["category", "unit", "year", "month", "amount"]
    row = ["ADM-TRAINING", "SH-XTD", YEAR, 2, 0.1 + 0.2]
    done = _import_xlsx(api, tokens[FINANCE], header, row)
    assert done.status_code == 201 and done.json["total"] == "0.30"


def test_the_chart_is_read_only_by_who_may_read_budgets(api, tokens):
    assert api("GET", "/categories", tokens["partner.api"]).status_code == 403
    assert api("GET", "/categories", tokens["li.kuaiji"]).status_code == 200


# --- who books actuals, over the API ----------------------------------------------------


def _import(api, who, rows, name="l.csv"):
    return api("POST", "/actuals/imports", who, query_string={"filename": name}, data=_csv(rows))


def _income(api, who, units, amount="100.00", unit="SH-XTD"):
    body = {
        "unit_id": units[unit],
        "category": "REV-FEE",
        "fiscal_year": YEAR + 1,
        "month": 3,
        "amount": amount,
    }
    return api("POST", "/actuals/income", who, json=body)


def test_r_bud_5_actuals_are_booked_by_finance_above_the_branch_not_by_it(api, tokens, units):
    row = [("ADM-OFFICE", "SH-XTD", YEAR + 1, 1, "-5000.00")]  # a unit erasing its spending
    for login in UNIT_PEOPLE:
        refused = _import(api, tokens[login], row)
        assert (refused.status_code, refused.json["code"]) == (403, "forbidden"), login
        assert _income(api, tokens[login], units).status_code == 403, login
    outside = _import(api, tokens[SOUTH_FINANCE], row)
    assert outside.status_code == 422 and outside.json["errors"][0]["column"] == "unit"
    assert _income(api, tokens[SOUTH_FINANCE], units).status_code == 403
    assert _import(api, tokens[FINANCE], row).status_code == 201
    assert _income(api, tokens[FINANCE], units).status_code == 201
    south = [("ADM-OFFICE", "SZ-NS", YEAR + 1, 1, "1.00")]
    assert _import(api, tokens[SOUTH_FINANCE], south).status_code == 201


def test_a_file_imported_already_is_told_only_to_who_may_book_it(api, tokens):
    rows = [("ADM-OFFICE", "SH-XTD", YEAR + 1, 2, "7.00")]
    assert _import(api, tokens[FINANCE], rows, "first.csv").status_code == 201
    assert _import(api, tokens["li.kuaiji"], rows, "probe.csv").status_code == 403
    assert _import(api, tokens[SOUTH_FINANCE], rows, "probe.csv").status_code == 422
    again = _import(api, tokens[DIRECTOR], rows, "again.csv")
    assert (again.status_code, again.json["code"]) == (409, "duplicate_import")


def test_r_bud_5_a_reversed_import_counts_no_more_and_is_reversed_once(
    api, tokens, units, control, group
):
    year = YEAR + 2
    rows = [("ADM-TRAINING", "SH-XTD", year, 4, "300.00"), ("ADM-TRAINING", "SZ-NS", year, 4, 1)]
    done = _import(api, tokens[DIRECTOR], rows, "both.csv")
    assert done.status_code == 201
    path = f"/actuals/imports/{done.json['id']}/reversal"
    query = {"unit_id": units["HQ"], "fiscal_year": year, "depth": 0}

    def training():
        rows = api("GET", "/figures", tokens[DIRECTOR], query_string=query).json["rows"]
        return next((r["actual"] for r in rows if r["category"] == "ADM-TRAINING"), None)

    assert training() == "301.00"
    assert api("POST", path, tokens[DIRECTOR], json={}).status_code == 422
    blank = api("POST", path, tokens[DIRECTOR], json={"reason": "  "})
    assert (blank.status_code, blank.json["code"]) == (422, "reason_required")
    reason = {"reason": "wrong year in the export"}
    assert api("POST", path, tokens["li.kuaiji"], json=reason).status_code == 403
    assert api("POST", path, tokens[FINANCE], json=reason).status_code == 403  # SZ-NS is SOUTH's
    reversed_ = api("POST", path, tokens[DIRECTOR], json=reason)
    assert reversed_.status_code == 200
    assert reversed_.json["reversal_reason"] == reason["reason"] and reversed_.json["reversed_at"]
    assert training() is None
    twice = api("POST", path, tokens[DIRECTOR], json=reason)
    assert (twice.status_code, twice.json["code"]) == (409, "already_reversed")
    unknown = api("POST", "/actuals/imports/999999999/reversal", tokens[DIRECTOR], json=reason)
    assert unknown.status_code == 404
    with tenant_session(control, group.schema_name) as session:
        event = session.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "budgets.ledger_import_reversed",
                AuditEvent.entity_id == str(done.json["id"]),
            )
        )
        assert (event.actor_name, event.after["reason"]) == (DIRECTOR, reason["reason"])
    assert _import(api, tokens[DIRECTOR], rows, "both-again.csv").status_code == 201
    assert training() == "301.00"


def test_r_bud_5_recorded_income_is_reversed_by_a_counter_entry_once(api, tokens, units):
    entry = _income(api, tokens[FINANCE], units, "2500.00", unit="SH-LJZ").json
    path = f"/actuals/income/{entry['id']}/reversal"
    reason = {"reason": "recorded against the wrong project"}
    assert api("POST", path, tokens["li.kuaiji"], json=reason).status_code == 403
    counter = api("POST", path, tokens[FINANCE], json=reason)
    assert counter.status_code == 201
    assert (counter.json["amount"], counter.json["reverses_id"], counter.json["note"]) == (
        "-2500.00",
        entry["id"],
        reason["reason"],
    )
    query = {"unit_id": units["SH-LJZ"], "fiscal_year": YEAR + 1, "depth": 0}
    rows = api("GET", "/figures", tokens[DIRECTOR], query_string=query).json["rows"]
    assert next(r["actual"] for r in rows if r["category"] == "REV-FEE") == "0.00"
    twice = api("POST", path, tokens[FINANCE], json=reason)
    assert (twice.status_code, twice.json["code"]) == (409, "already_reversed")
    of_counter = api("POST", f"/actuals/income/{counter.json['id']}/reversal", tokens[FINANCE])
    assert of_counter.status_code == 422  # no reason given
    of_counter = api(
        "POST", f"/actuals/income/{counter.json['id']}/reversal", tokens[FINANCE], json=reason
    )
    assert (of_counter.status_code, of_counter.json["code"]) == (409, "is_reversal")
