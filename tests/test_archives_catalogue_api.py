"""The catalogue over the API: filing with its cover (R-ARC-4), files streamed in, search by
class, unit, year and title within what the reader may see, and the lending register (R-ARC-3:
copies only, with a due date and a return)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from propgroup.approvals.service import today
from propgroup.archives import service
from propgroup.db import tenant_session
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from tests.support.api import api_caller, personal_tokens
from tests.support.groups import person, provision_demo

SCOPES = ["archives:read", "archives:write", "documents:read"]


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(control, "arc_cat", "档案目录")
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


@pytest.fixture(scope="module")
def tokens(control, group):
    return personal_tokens(control, group, SCOPES)


@pytest.fixture(scope="module")
def units(control, group):
    with tenant_session(control, group.schema_name) as session:
        return {c: org.get_unit_by_code(session, c).id for c in ("SH-XTD", "SZ-NS", "EAST-FIN")}


@pytest.fixture
def api(group):
    return api_caller(group, "/archives")


def _file(api, who, **spec):
    response = api("POST", "/items", who, json=spec)
    assert response.status_code == 201, response.json
    return response.json


def test_r_arc_4_voucher_volume_filed_with_its_cover_and_file(api, tokens, units):
    accountant = tokens["li.kuaiji"]
    item = _file(
        api,
        accountant,
        class_code="bookkeeping_voucher",
        unit_id=units["SH-XTD"],
        fiscal_year=2023,
        period="11",
        volume="2023-11-01",
        number_from=1,
        number_to=180,
        title="记账凭证 2023年11月 第1册",
    )
    assert item["due_on"] == "2054-01-01" and item["held"] is False and item["files"] == []
    body = b"%PDF-1.4 scanned cover and vouchers"
    added = api(
        "POST",
        f"/items/{item['id']}/files",
        accountant,
        query_string={"filename": "封面.pdf"},
        data=body,
    )
    assert added.status_code == 201, added.json
    import hashlib

    assert added.json["sha256"] == hashlib.sha256(body).hexdigest()
    read = api("GET", f"/items/{item['id']}", tokens["feng.shenji"])
    assert [f["filename"] for f in read.json["files"]] == ["封面.pdf"]


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"class_code": "journal", "fiscal_year": 2023, "title": "t", "unit_id": "x"}, "unit_id"),
        ({"class_code": "journal", "fiscal_year": "2023", "title": "t"}, "fiscal_year"),
        ({"class_code": "nothing", "fiscal_year": 2023, "title": "t"}, "class_code"),
        (
            {"class_code": "journal", "fiscal_year": 2023, "title": "t", "number_from": 3},
            "number_to",
        ),
    ],
)
def test_r_arc_4_bad_items_are_refused_with_the_field(api, tokens, units, spec, field):
    spec.setdefault("unit_id", units["SH-XTD"])
    refused = api("POST", "/items", tokens["li.kuaiji"], json=spec)
    assert refused.status_code == 422 and field in refused.json["errors"], refused.json


def test_r_arc_4_department_and_unknown_unit_are_refused(api, tokens, units):
    spec = {"class_code": "journal", "fiscal_year": 2023, "title": "t"}
    department = api(
        "POST", "/items", tokens["wu.caiwuzongjian"], json={**spec, "unit_id": units["EAST-FIN"]}
    )
    assert department.status_code == 422 and department.json["code"] == "bad_unit"
    unknown = api("POST", "/items", tokens["li.kuaiji"], json={**spec, "unit_id": 987654})
    assert unknown.status_code == 404


def test_search_by_class_unit_year_and_title_within_visible_units(api, tokens, units):
    director = tokens["wu.caiwuzongjian"]
    _file(
        api,
        director,
        class_code="tax_return",
        unit_id=units["SZ-NS"],
        fiscal_year=2019,
        title="增值税纳税申报表 2019年3月",
    )
    _file(
        api,
        director,
        class_code="tax_return",
        unit_id=units["SH-XTD"],
        fiscal_year=2019,
        title="增值税纳税申报表 2019年4月",
    )
    found = api(
        "GET",
        "/items",
        director,
        query_string={"class_code": "tax_return", "fiscal_year": 2019, "text": "增值税"},
    )
    assert found.status_code == 200 and len(found.json) == 2
    branch = api("GET", "/items", director, query_string={"unit_id": units["SZ-NS"], "text": "3月"})
    assert [i["title"] for i in branch.json] == ["增值税纳税申报表 2019年3月"]
    # The branch accountant of SH-XTD sees only SH-XTD's archives.
    mine = api("GET", "/items", tokens["li.kuaiji"], query_string={"class_code": "tax_return"})
    assert {i["unit_id"] for i in mine.json} == {units["SH-XTD"]}
    other = api("GET", f"/items/{branch.json[0]['id']}", tokens["li.kuaiji"])
    assert other.status_code == 403
    bad = api("GET", "/items", director, query_string={"status": "lost"})
    assert bad.status_code == 422


def test_title_search_finds_one_character_two_and_ascii_in_any_case(api, tokens, units):
    """The character-pair index finds what ILIKE would: a one-character word, a Chinese pair,
    words across a space, ASCII letters in either case, LIKE wildcards taken literally."""
    director = tokens["wu.caiwuzongjian"]
    for title in ("VAT 发票 汇总 2020", "纳税调整 100%_Q1", "发票存根"):
        _file(
            api,
            director,
            class_code="tax_return",
            unit_id=units["SZ-NS"],
            fiscal_year=2020,
            title=title,
        )

    def titles(words):
        found = api("GET", "/items", director, query_string={"fiscal_year": 2020, "text": words})
        assert found.status_code == 200, found.json
        return sorted(i["title"] for i in found.json)

    assert titles("发票") == ["VAT 发票 汇总 2020", "发票存根"]
    assert titles("票") == ["VAT 发票 汇总 2020", "发票存根"]
    assert titles("vat 发") == ["VAT 发票 汇总 2020"]
    assert titles("%_q") == ["纳税调整 100%_Q1"]
    assert titles("票发") == []


def test_search_counts_only_so_far_ahead_and_says_there_is_more(api, tokens, units, monkeypatch):
    """A catalogue of a million rows is not counted on every page: past COUNT_AHEAD rows the
    total is a lower bound and X-Pagination says "more"; a short page knows its total."""
    from propgroup.api import pagination

    director = tokens["wu.caiwuzongjian"]
    for month in range(1, 6):
        _file(
            api,
            director,
            class_code="journal",
            unit_id=units["SZ-NS"],
            fiscal_year=2021,
            title=f"现金日记账 2021年{month}月",
        )
    monkeypatch.setattr(pagination, "COUNT_AHEAD", 2)
    query = {"class_code": "journal", "fiscal_year": 2021, "page_size": 1}

    def page(number):
        response = api("GET", "/items", director, query_string={**query, "page": number})
        return response.json, json.loads(response.headers["X-Pagination"])

    rows, meta = page(1)
    assert len(rows) == 1 and meta["more"] is True and meta["total"] == 2
    assert meta["next_page"] == 2
    rows, meta = page(4)
    assert meta == {
        "total": 5,
        "total_pages": 5,
        "first_page": 1,
        "last_page": 5,
        "page": 4,
        "previous_page": 3,
        "next_page": 5,
    }
    everything = api("GET", "/items", director, query_string={**query, "page_size": 10})
    assert len(everything.json) == 5
    assert json.loads(everything.headers["X-Pagination"])["total"] == 5


def test_r_arc_3_copies_only_with_a_due_date_and_a_return(api, tokens, units, control, group):
    keeper = tokens["li.kuaiji"]
    item = _file(
        api,
        keeper,
        class_code="general_ledger",
        unit_id=units["SH-XTD"],
        fiscal_year=2022,
        title="总账 2022",
    )
    with tenant_session(control, group.schema_name) as session:
        day = today(session)
    loan = {"borrower": "外部审计 张三", "purpose": "年审", "due_on": str(day + timedelta(days=7))}
    original = api("POST", f"/items/{item['id']}/loans", keeper, json={**loan, "form": "original"})
    assert original.status_code == 422 and original.json["code"] == "original_not_lent"
    past = api(
        "POST",
        f"/items/{item['id']}/loans",
        keeper,
        json={**loan, "form": "copy", "due_on": str(day - timedelta(days=1))},
    )
    assert past.status_code == 422 and "due_on" in past.json["errors"]
    cashier = api(
        "POST", f"/items/{item['id']}/loans", tokens["zhao.chuna"], json={**loan, "form": "copy"}
    )
    assert cashier.status_code == 403
    issued = api("POST", f"/items/{item['id']}/loans", keeper, json={**loan, "form": "copy"})
    assert issued.status_code == 201 and issued.json["returned_on"] is None
    listed = api("GET", "/loans", tokens["feng.shenji"], query_string={"item_id": item["id"]})
    assert [entry["id"] for entry in listed.json] == [issued.json["id"]]
    back = api("POST", f"/loans/{issued.json['id']}/return", keeper)
    assert back.status_code == 200 and back.json["returned_on"] == str(day)
    twice = api("POST", f"/loans/{issued.json['id']}/return", keeper)
    assert twice.status_code == 409


def test_title_search_looks_up_the_rarest_gram_and_walks_past_common_ones(
    api, tokens, units, control, group
):
    """A word is looked up in the index by its rarest gram by the table's statistics, or not at
    all when even that one is in most titles; either way the search finds exactly the titles
    with the word."""
    with tenant_session(control, group.schema_name) as session:
        director = person(session, "wu.caiwuzongjian")
        titles = [f"月度报表 第{n}册" for n in range(40)] + ["诉讼保全 月度报表"]
        for title in titles:
            service.new_item(
                session,
                director,
                {
                    "class_code": "subsidiary_ledger",
                    "unit_id": units["SZ-NS"],
                    "fiscal_year": 2016,
                    "title": title,
                },
            )
        session.commit()
    with control.connect() as connection:  # as the tables' owner: ANALYZE samples them
        connection.execute(text(f'analyze "{group.schema_name}".archive_items'))
        connection.commit()
    with tenant_session(control, group.schema_name) as session:
        assert service.narrowest_gram(session, "月度报表") is None  # in most titles
        # One of the grams only the one title has, not 月度 (in every title).
        rare = {"诉讼", "讼保", "保全", "全 ", " 月"}
        assert service.narrowest_gram(session, "诉讼保全 月度") in rare

    def found(words):
        response = api(
            "GET",
            "/items",
            tokens["wu.caiwuzongjian"],
            query_string={"fiscal_year": 2016, "text": words, "page_size": 100},
        )
        assert response.status_code == 200, response.json
        return sorted(item["title"] for item in response.json)

    assert found("月度报表") == sorted(titles)
    assert found("诉讼保全 月度") == ["诉讼保全 月度报表"]
    assert found("第1册") == ["月度报表 第1册"]
    assert found("报表 第") == sorted(titles[:40])
