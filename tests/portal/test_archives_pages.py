"""Archives in the portal: the catalogue searched by class, unit, year and title within the
reader's units (R-ORG-2); an item's page with its due date and files; a legal hold placed on the
page and released only by a second person, the refusal shown on the form (R-ARC-2); appraisal by
two people and a destruction list drawn up, approved and carried out through the pages (R-ARC-1),
its approval showing an item count, not money; handover lists (seed §19) drawn up, read only by
their signers and the unit's readers, and signed by three people; and the same in headless
Chromium."""

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
CASHIER = "zhao.chuna"
STRANGER = "chen.bumen"  # heads a department of the region: reads no branch's archives


@pytest.fixture(scope="module")
def group(control, demo_group):
    slug = f"arcpages_{os.getpid()}_{secrets.token_hex(3)}"
    people = group_with(demo_group, ACCOUNTANT, HEAD, REGIONAL, SOUTH, CASHIER, STRANGER)
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
    assert browsers(CASHIER).get(f"/t/{slug}/archives").status_code == 200  # reads only


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
    reader = browsers(CASHIER).get(url)
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


# --- handover lists -----------------------------------------------------------------------


def test_in_the_browser_a_handover_is_drawn_up_and_signed_by_three(
    browser, live_server, group, items, demo_password
):
    """The cashier leaves, the accountant takes over, the branch head supervises (seed §19)."""
    slug = group.slug
    accountant = signed_in_page(browser, live_server, slug, ACCOUNTANT, demo_password)
    accountant.click("nav.nav a:text('会计档案')")
    accountant.click("a:text('工作交接')")
    accountant.get_by_test_id("new-handover").click()
    accountant.fill("#leaving", CASHIER)
    accountant.fill("#receiving", ACCOUNTANT)
    accountant.fill("#supervisor", HEAD)
    accountant.fill("#reason", "出纳调岗")
    lines = [
        ("archive", "招商银行对账单", "", str(items["statement"])),
        ("seal", "财务专用章", "", ""),
        ("cheque_book", "工商银行转账支票 No.1001-1025", "1", ""),
        ("open_item", "备用金借款未还 2,000.00", "", ""),
    ]
    for index, (kind, description, quantity, item_id) in enumerate(lines):
        accountant.select_option(f"select[name=kind_{index}]", kind)
        accountant.fill(f"input[name=description_{index}]", description)
        accountant.fill(f"input[name=quantity_{index}]", quantity)
        accountant.fill(f"input[name=item_id_{index}]", item_id)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    accountant.screenshot(path=str(SCREENSHOTS / "archive-handover-form.png"), full_page=True)
    accountant.click("form[data-testid=handover-form] button.primary")
    accountant.get_by_test_id("handover-status").wait_for()
    assert accountant.get_by_test_id("handover-status").inner_text() == "签署中"
    assert "财务专用章" in accountant.get_by_test_id("lines").inner_text()
    url = accountant.url
    accountant.get_by_test_id("sign").click()
    accountant.get_by_test_id("signatures").wait_for()
    assert accountant.get_by_test_id("sign").count() == 0  # signed once, no second button
    assert "—" not in accountant.get_by_test_id("signer-receiving").inner_text()
    assert "—" in accountant.get_by_test_id("signer-leaving").inner_text()

    cashier = signed_in_page(browser, live_server, slug, CASHIER, demo_password)
    cashier.goto(f"{live_server}/t/{slug}/archives/handovers")
    cashier.click(f"[data-testid=handovers] a[href='{url.removeprefix(live_server)}']")
    cashier.get_by_test_id("sign").click()
    cashier.get_by_test_id("signatures").wait_for()
    assert cashier.get_by_test_id("handover-status").inner_text() == "签署中"

    head = signed_in_page(browser, live_server, slug, HEAD, demo_password)
    head.goto(url)
    assert "监交人" in head.get_by_test_id("sign").inner_text()
    head.get_by_test_id("sign").click()
    head.get_by_test_id("record-item").wait_for()
    assert head.get_by_test_id("handover-status").inner_text() == "已签署"
    for role in ("leaving", "receiving", "supervisor"):
        assert "—" not in head.get_by_test_id(f"signer-{role}").inner_text()
    head.screenshot(path=str(SCREENSHOTS / "archive-handover.png"), full_page=True)
    head.get_by_test_id("record-item").click()
    head.get_by_test_id("due-on").wait_for()
    assert "工作交接移交清册" in head.content() and "handover-" in head.content()
    for page in (accountant, cashier, head):
        page.context.close()


def _handover_form(**changes):
    form = {
        "unit_id": "",
        "leaving": CASHIER,
        "receiving": ACCOUNTANT,
        "supervisor": HEAD,
        "reason": "出纳离职",
        "kind_0": "seal",
        "description_0": "财务专用章",
    }
    return {**form, **changes}


def test_a_refused_handover_shows_on_the_form_and_nothing_is_written(browsers, group, control):
    slug = group.slug
    accountant = browsers(ACCOUNTANT)
    with tenant_session(control, group.schema_name) as session:
        unit = str(org.get_unit_by_code(session, "SH-XTD").id)
    new = f"/t/{slug}/archives/handovers/new"
    before = accountant.get(f"/t/{slug}/archives/handovers").text.count("/handovers/")
    twice = _form_post(accountant, new, new, _handover_form(unit_id=unit, receiving=CASHIER))
    assert twice.status_code == 422, twice.status_code
    assert "移交人、接管人和监交人须为三个不同的人" in twice.text
    assert twice.text.count('aria-invalid="true"') == 3 and "财务专用章" in twice.text  # kept
    no_item = _form_post(
        accountant, new, new, _handover_form(unit_id=unit, kind_0="archive", item_id_0="")
    )
    assert no_item.status_code == 422 and "第 1 行" in no_item.text
    nobody = _form_post(accountant, new, new, _handover_form(unit_id=unit, supervisor="no.one"))
    assert nobody.status_code == 422 and "监交人：没有使用此登录名的在职用户" in nobody.text
    after = accountant.get(f"/t/{slug}/archives/handovers").text.count("/handovers/")
    assert after == before


def test_handover_pages_are_authorized_as_the_api_is(browsers, group, control):
    slug = group.slug
    with tenant_session(control, group.schema_name) as session:
        unit = str(org.get_unit_by_code(session, "SH-XTD").id)
    new = f"/t/{slug}/archives/handovers/new"
    drawn = _form_post(browsers(ACCOUNTANT), new, new, _handover_form(unit_id=unit))
    assert drawn.status_code == 303
    url = drawn.headers["Location"]
    assert browsers(CASHIER).get(new).status_code == 403  # a cashier keeps no archives
    assert 'data-testid="sign"' in browsers(CASHIER).get(url).text
    assert 'data-testid="sign"' not in browsers(REGIONAL).get(url).text  # reads, signs not
    assert browsers(STRANGER).get(url).status_code == 403
    listed = browsers(STRANGER).get(f"/t/{slug}/archives/handovers")
    assert listed.status_code == 200 and 'data-testid="no-handovers"' in listed.text
    page = browsers(REGIONAL).get(url)
    refused = browsers(REGIONAL).post(f"{url}/sign", data={"csrf_token": csrf_token(page.text)})
    assert refused.status_code == 403 and "只有移交人、接管人和监交人" in refused.text
    blank = browsers(REGIONAL).post(
        f"{url}/cancel", data={"csrf_token": csrf_token(page.text), "reason": " "}
    )
    assert blank.status_code == 422 and "请填写事由" in blank.text
    cancelled = browsers(REGIONAL).post(
        f"{url}/cancel", data={"csrf_token": csrf_token(page.text), "reason": "清单有误"}
    )
    assert cancelled.status_code == 303
    page = browsers(CASHIER).get(url)
    assert "已作废" in page.text and 'data-testid="sign"' not in page.text
