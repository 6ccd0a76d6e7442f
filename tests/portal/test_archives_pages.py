"""Archives in the portal: the catalogue searched by class, unit, year and title within the
reader's units (R-ORG-2); an item's page with its due date and files; a legal hold placed on the
page and released only by a second person, the refusal shown on the form (R-ARC-2); appraisal by
two people and a destruction list drawn up, approved and carried out through the pages (R-ARC-1),
its approval showing an item count, not money; and the same in headless Chromium."""

from __future__ import annotations

import io
import os
import secrets

import pytest

from propgroup.archives import destruction, service
from propgroup.db import tenant_session
from propgroup.org import service as org
from propgroup.storage.settings import configured_store
from propgroup.tenancy import service as tenancy
from tests.portal.conftest import csrf_token, group_with, signed_in_page
from tests.portal.test_browser import SCREENSHOTS
from tests.support.groups import person

ACCOUNTANT, HEAD, REGIONAL, SOUTH = "li.kuaiji", "wang.xiangmu", "sun.diqucaiwu", "wu.caiwuzongjian"


@pytest.fixture(scope="module")
def group(control, demo_group):
    slug = f"arcpages_{os.getpid()}_{secrets.token_hex(3)}"
    people = group_with(demo_group, ACCOUNTANT, HEAD, REGIONAL, SOUTH, "zhao.chuna")
    tenant = tenancy.provision_tenant(
        control,
        slug=slug,
        name=demo_group["tenant"]["name"],
        template=demo_group["template"],
        group=people,
    )
    yield tenant
    tenancy.drop_tenant(control, slug)


@pytest.fixture(scope="module")
def items(control, group):
    """A bank statement of SH-XTD with a file, an old report of SH-XTD, one of SZ-NS."""
    with tenant_session(control, group.schema_name) as session:

        def filed(by, unit, class_code, year, title):
            return service.new_item(
                session,
                person(session, by),
                {
                    "class_code": class_code,
                    "unit_id": org.get_unit_by_code(session, unit).id,
                    "fiscal_year": year,
                    "title": title,
                },
            )

        statement = filed(ACCOUNTANT, "SH-XTD", "bank_statement", 2024, "招商银行对账单 2024")
        service.add_file(
            session,
            configured_store(),
            person(session, ACCOUNTANT),
            statement.id,
            stream=io.BytesIO(b"%PDF-1.4 statement"),
            filename="对账单.pdf",
            max_bytes=1024,
        )
        report = filed(ACCOUNTANT, "SH-XTD", "periodic_report", 2010, "2010年12月月报")
        south = filed(SOUTH, "SZ-NS", "periodic_report", 2010, "深圳 2010年12月月报")
        session.commit()
        return {"statement": statement.id, "report": report.id, "south": south.id}


def test_search_within_the_readers_units_r_org_2(browsers, group, items):
    slug = group.slug
    accountant = browsers(ACCOUNTANT)
    home = accountant.get(f"/t/{slug}/")
    assert f'href="/t/{slug}/archives"' in home.text and "会计档案" in home.text
    listing = accountant.get(f"/t/{slug}/archives")
    assert listing.status_code == 200
    assert "招商银行对账单 2024" in listing.text and "深圳" not in listing.text
    assert "2035-01-01" in listing.text  # a 2024 statement may be destroyed from 2035
    found = accountant.get(f"/t/{slug}/archives?text=月报&fiscal_year=2010")
    assert "2010年12月月报" in found.text and "招商银行" not in found.text
    odd = accountant.get(f"/t/{slug}/archives?fiscal_year=abc")
    assert odd.status_code == 200 and "fiscal_year" in odd.text
    assert accountant.get(f"/t/{slug}/archives/items/{items['south']}").status_code == 403
    assert browsers("zhao.chuna").get(f"/t/{slug}/archives").status_code == 200  # reads only


def test_item_page_shows_cover_due_date_and_its_file(browsers, group, items):
    slug = group.slug
    page = browsers(ACCOUNTANT).get(f"/t/{slug}/archives/items/{items['statement']}")
    assert page.status_code == 200
    assert "银行对账单" in page.text and "10 年" in page.text and "2035-01-01" in page.text
    assert "对账单.pdf" in page.text and 'data-testid="place-hold"' not in page.text  # no right
    link = f"/t/{slug}/archives/items/{items['statement']}/files/"
    file_id = page.text.split(link, 1)[1].split('"', 1)[0]
    download = browsers(ACCOUNTANT).get(link + file_id)
    assert download.status_code == 200 and download.data == b"%PDF-1.4 statement"
    assert browsers(ACCOUNTANT).get(link + "987654").status_code == 404


def test_hold_placed_and_released_by_a_second_person_r_arc_2(browsers, group, items):
    slug = group.slug
    head, regional = browsers(HEAD), browsers(REGIONAL)
    url = f"/t/{slug}/archives/items/{items['report']}"
    page = head.get(url)
    empty = head.post(f"{url}/holds", data={"csrf_token": csrf_token(page.text), "reason": " "})
    assert empty.status_code == 422 and "请填写事由" in empty.text
    placed = head.post(
        f"{url}/holds", data={"csrf_token": csrf_token(page.text), "reason": "合同纠纷"}
    )
    assert placed.status_code == 303
    page = head.get(url)
    assert "该档案已设置诉讼保全" in page.text and 'data-testid="held"' in page.text
    action = next(
        part.split('"', 1)[0]
        for part in page.text.split('action="')[1:]
        if "/release" in part.split('"', 1)[0]
    )
    same = head.post(action, data={"csrf_token": csrf_token(page.text), "reason": "已结案"})
    assert (
        same.status_code == 403 and "另一人解除" in same.text and 'data-testid="held"' in same.text
    )
    page = regional.get(url)
    released = regional.post(action, data={"csrf_token": csrf_token(page.text), "reason": "已结案"})
    assert released.status_code == 303
    page = regional.get(url)
    assert "诉讼保全已解除" in page.text and 'data-testid="held"' not in page.text
    assert "由 孙财务 解除：已结案" in page.text


def test_destruction_list_approval_shows_its_item_count(browsers, group, control):
    with tenant_session(control, group.schema_name) as session:
        unit = org.get_unit_by_code(session, "SH-XTD")
        item = service.new_item(
            session,
            person(session, ACCOUNTANT),
            {
                "class_code": "periodic_report",
                "unit_id": unit.id,
                "fiscal_year": 2009,
                "title": "旧月报",
            },
        )
        from propgroup.archives import appraisal

        opinion = appraisal.propose(
            session, person(session, ACCOUNTANT), item.id, decision="destroy", reason="到期"
        )
        appraisal.confirm(session, person(session, HEAD), opinion.id, agree=True, comment="同意")
        listing = destruction.draw_up(
            session, person(session, ACCOUNTANT), unit_id=unit.id, item_ids=[item.id]
        )
        session.commit()
    page = browsers(HEAD).get(f"/t/{group.slug}/approvals/{listing.approval_request_id}")
    assert page.status_code == 200 and "会计档案销毁清册" in page.text
    assert "1 件" in page.text and "¥1.00" not in page.text


def test_in_the_browser_an_item_is_found_and_held(
    browser, live_server, group, items, demo_password
):
    slug = group.slug
    page = signed_in_page(browser, live_server, slug, HEAD, demo_password)
    page.click("nav.nav a:text('会计档案')")
    page.get_by_test_id("archive-items").wait_for()
    page.fill("input[name=text]", "对账单")
    page.click("form[data-testid=archive-search] button")
    page.locator("a:text('招商银行对账单 2024')").click()
    page.get_by_test_id("due-on").wait_for()
    assert page.get_by_test_id("due-on").inner_text() == "2035-01-01"
    page.fill("#hold_reason", "浏览器测试保全")
    page.click("[data-testid=place-hold]")
    page.get_by_test_id("held").first.wait_for()
    assert "浏览器测试保全" in page.get_by_test_id("holds").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "archive-item.png"), full_page=True)
    page.click("nav.trail a")
    page.click("a:text('销毁清册')")
    page.get_by_role("heading", name="销毁清册", exact=True).wait_for()
    page.screenshot(path=str(SCREENSHOTS / "archive-destruction.png"), full_page=True)
    page.context.close()


def _form_post(client, page_url, action, data):
    page = client.get(page_url)
    assert page.status_code == 200, page.status_code
    return client.post(action, data={"csrf_token": csrf_token(page.text), **data})


def test_appraisal_and_destruction_through_the_pages_r_arc_1(browsers, group, control):
    slug = group.slug
    accountant, head, regional = browsers(ACCOUNTANT), browsers(HEAD), browsers(REGIONAL)
    with tenant_session(control, group.schema_name) as session:
        unit = org.get_unit_by_code(session, "SH-XTD")
        item = service.new_item(
            session,
            person(session, ACCOUNTANT),
            {
                "class_code": "periodic_report",
                "unit_id": unit.id,
                "fiscal_year": 2008,
                "title": "2008年月报 第2册",
            },
        )
        service.add_file(
            session,
            configured_store(),
            person(session, ACCOUNTANT),
            item.id,
            stream=io.BytesIO(b"%PDF-1.4 old"),
            filename="old.pdf",
            max_bytes=1024,
        )
        session.commit()
    url = f"/t/{slug}/archives/items/{item.id}"
    assert 'data-testid="propose"' in accountant.get(url).text
    proposed = _form_post(
        accountant,
        url,
        f"{url}/appraisals",
        {"decision": "destroy", "reason": "已过保管期限，无保存价值"},
    )
    assert proposed.status_code == 303
    page = accountant.get(url)
    assert "等待第二人" in page.text and 'data-testid="propose"' not in page.text
    confirm = next(
        part.split('"', 1)[0]
        for part in page.text.split('action="')[1:]
        if "/confirm" in part.split('"', 1)[0]
    )
    alone = _form_post(accountant, url, confirm, {"agree": "yes", "comment": "同意"})
    assert alone.status_code == 403 and "第二人" in alone.text
    agreed = _form_post(head, url, confirm, {"agree": "yes", "comment": "同意销毁"})
    assert agreed.status_code == 303
    assert "已鉴定待销毁" in head.get(url).text

    lists = f"/t/{slug}/archives/destruction"
    page = accountant.get(lists)
    assert page.status_code == 200 and "2008年月报 第2册" in page.text
    empty = _form_post(accountant, lists, lists, {"unit_id": str(unit.id)})
    assert empty.status_code == 422
    drawn = _form_post(
        accountant,
        lists,
        lists,
        {"unit_id": str(unit.id), "item_ids": str(item.id), "note": "2008年报表"},
    )
    assert drawn.status_code == 303
    list_url = drawn.headers["Location"]
    listing = accountant.get(list_url)
    assert "审批中" in listing.text and 'data-testid="carry-out"' not in listing.text
    request_id = int(listing.text.split("/approvals/", 1)[1].split('"', 1)[0])
    approval = head.get(f"/t/{slug}/approvals/{request_id}")
    assert "1 件" in approval.text and "¥1.00" not in approval.text
    for client in (head, regional):
        page = client.get(f"/t/{slug}/approvals/{request_id}")
        step = page.text.split('name="step" value="', 1)[1].split('"', 1)[0]
        decided = client.post(
            f"/t/{slug}/approvals/{request_id}/decide",
            data={
                "csrf_token": csrf_token(page.text),
                "step": step,
                "decision": "approve",
                "comment": "",
            },
        )
        assert decided.status_code == 303
    carry = f"{list_url}/carry-out"
    same = _form_post(
        accountant, list_url, carry, {"archives_supervisor": HEAD, "accounting_supervisor": HEAD}
    )
    assert same.status_code == 422 and "两名不同的监销人" in same.text
    done = _form_post(
        accountant,
        list_url,
        carry,
        {"archives_supervisor": HEAD, "accounting_supervisor": ACCOUNTANT},
    )
    assert done.status_code == 303
    page = accountant.get(list_url)
    assert "已销毁" in page.text and 'data-testid="record-item"' in page.text
    record = page.text.split('data-testid="record-item">#', 1)[1].split("<", 1)[0]
    filed = accountant.get(f"/t/{slug}/archives/items/{record}")
    assert "会计档案销毁清册" in filed.text and "destruction-certificate-" in filed.text
    gone = accountant.get(url)
    assert "old.pdf (已销毁)" in gone.text


def _form_action(page_text: str, marker: str) -> str:
    """The action of the first form after ``marker`` in the page."""
    return page_text.split(marker, 1)[1].split('action="', 1)[1].split('"', 1)[0]


def test_r_arc_3_copy_issued_and_received_back_on_the_item_page(browsers, group, items):
    slug = group.slug
    accountant = browsers(ACCOUNTANT)
    url = f"/t/{slug}/archives/items/{items['statement']}"
    page = accountant.get(url)
    assert "借阅登记" in page.text and 'data-testid="issue-copy"' in page.text
    token = csrf_token(page.text)
    late = accountant.post(
        f"{url}/loans",
        data={
            "csrf_token": token,
            "borrower": "审计所 张三",
            "purpose": "年审",
            "due_on": "2001-01-01",
        },
    )
    assert late.status_code == 422 and "今天或以后的归还日期" in late.text
    assert 'data-testid="loan"' not in late.text  # nothing written
    issued = accountant.post(
        f"{url}/loans",
        data={
            "csrf_token": token,
            "borrower": "审计所 张三",
            "purpose": "年审",
            "due_on": "2199-01-01",
        },
    )
    assert issued.status_code == 303
    page = accountant.get(url)
    assert "审计所 张三" in page.text and "2199-01-01" in page.text
    back = accountant.post(
        _form_action(page.text, 'data-testid="loan"'), data={"csrf_token": csrf_token(page.text)}
    )
    assert back.status_code == 303
    page = accountant.get(url)
    assert 'data-testid="return-copy"' not in page.text and "复制件已收回并签收" in page.text
    # The cashier reads archives but may not lend them.
    reader = browsers("zhao.chuna").get(url)
    assert "审计所 张三" in reader.text and 'data-testid="issue-copy"' not in reader.text


def test_retention_schedule_shown_to_readers_changed_by_an_admin_with_the_recompute(
    browsers, group, items
):
    slug = group.slug
    url = f"/t/{slug}/archives/retention"
    reader = browsers(ACCOUNTANT).get(url)
    assert reader.status_code == 200 and "保管期限表" in reader.text
    assert "银行对账单" in reader.text and "<form" not in reader.text.split("<table", 1)[1]
    refused = browsers(ACCOUNTANT).post(
        f"{url}/bank_statement", data={"csrf_token": csrf_token(reader.text), "years": "12"}
    )
    assert refused.status_code == 403
    admin = browsers(SOUTH)
    page = admin.get(url)
    token = csrf_token(page.text)
    neither = admin.post(f"{url}/bank_statement", data={"csrf_token": token, "years": ""})
    assert neither.status_code == 422 and "二者只选其一" in neither.text
    changed = admin.post(f"{url}/bank_statement", data={"csrf_token": token, "years": "12"})
    assert changed.status_code == 303
    page = admin.get(url)
    assert "已重新计算到期日" in page.text and "12 年" in page.text
    item = browsers(ACCOUNTANT).get(f"/t/{slug}/archives/items/{items['statement']}")
    assert "2037-01-01" in item.text  # a 2024 statement, now 12 years
