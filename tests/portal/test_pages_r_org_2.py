"""Portal pages: what each role sees (R-ORG-2), unit pages and their htmx fragment, languages."""

from __future__ import annotations

import pytest

from tests.portal.conftest import form_token, sign_in

SUN = "sun.diqucaiwu"  # regional_finance at EAST
ADMIN = "zheng.guanliyuan"  # group_admin at HQ


@pytest.fixture(scope="module")
def sun(app, demo_tenant, demo_password):
    browser = app.test_client()
    assert sign_in(browser, demo_tenant.slug, SUN, demo_password).status_code == 303
    return browser


@pytest.fixture(scope="module")
def admin(app, demo_tenant, demo_password):
    browser = app.test_client()
    assert sign_in(browser, demo_tenant.slug, ADMIN, demo_password).status_code == 303
    return browser


def test_regional_finance_reads_its_regions_branch_r_org_2(sun, demo_tenant, unit_ids):
    page = sun.get(f"/t/{demo_tenant.slug}/units/{unit_ids['SH-XTD']}")
    assert page.status_code == 200
    assert "上海新天地项目分公司" in page.text
    assert "财务部" in page.text  # its departments are listed as sub-units
    assert "项目分公司" in page.text  # the kind, in Chinese


def test_regional_finance_gets_403_for_the_other_region_r_org_2(sun, demo_tenant, unit_ids):
    for code in ("SOUTH", "SZ-NS"):
        page = sun.get(f"/t/{demo_tenant.slug}/units/{unit_ids[code]}")
        assert page.status_code == 403, code
        assert page.mimetype == "text/html"
        assert "您无权查看此页面" in page.text
        assert "华南" not in page.text and "深圳" not in page.text  # nothing of the unit leaks


def test_unit_page_of_a_missing_unit_is_an_html_404(sun, demo_tenant):
    page = sun.get(f"/t/{demo_tenant.slug}/units/999999")
    assert page.status_code == 404 and "页面不存在" in page.text


def test_htmx_fragment_lists_children_and_obeys_the_same_rule_r_org_2(sun, demo_tenant, unit_ids):
    slug = demo_tenant.slug
    fragment = sun.get(
        f"/t/{slug}/units/{unit_ids['EAST']}/children", headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and "<ul" in fragment.text
    for branch in ("上海新天地项目分公司", "上海陆家嘴项目分公司", "杭州西湖项目分公司"):
        assert branch in fragment.text
    assert f'hx-get="/t/{slug}/units/{unit_ids["SH-XTD"]}/children"' in fragment.text
    refused = sun.get(f"/t/{slug}/units/{unit_ids['SOUTH']}/children", headers={"HX-Request": "1"})
    assert refused.status_code == 403


def test_htmx_request_signed_out_gets_a_client_redirect(client, demo_tenant, unit_ids):
    response = client.get(
        f"/t/{demo_tenant.slug}/units/{unit_ids['EAST']}/children", headers={"HX-Request": "true"}
    )
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith(f"/t/{demo_tenant.slug}/login?next=")


def test_navigation_depends_on_roles_r_org_2(sun, admin, demo_tenant):
    slug = demo_tenant.slug
    sun_home, admin_home = sun.get(f"/t/{slug}/").text, admin.get(f"/t/{slug}/").text
    assert "组织架构" in sun_home and "组织架构" in admin_home
    assert "系统管理" not in sun_home
    assert f'href="/t/{slug}/admin/users"' in admin_home
    assert sun.get(f"/t/{slug}/admin/users").status_code == 403
    users = admin.get(f"/t/{slug}/admin/users")
    assert users.status_code == 200
    assert "孙财务" in users.text and "地区财务 @ 华东地区分公司" in users.text


def test_group_admin_sees_every_region_on_the_home_page(admin, demo_tenant):
    home = admin.get(f"/t/{demo_tenant.slug}/").text
    assert "集团管理员" in home
    for unit in ("华信物业集团总部", "华东地区分公司", "华南中心项目分公司", "广州天河项目分公司"):
        assert unit in home


def test_units_page_starts_at_the_units_the_roles_are_held_at(sun, demo_tenant, unit_ids):
    page = sun.get(f"/t/{demo_tenant.slug}/units")
    assert page.status_code == 200
    assert "华东地区分公司" in page.text
    assert f'hx-get="/t/{demo_tenant.slug}/units/{unit_ids["EAST"]}/children"' in page.text
    assert "华信物业集团总部" not in page.text


def test_language_switch_to_english_and_back(app, demo_tenant, demo_password):
    slug = demo_tenant.slug
    browser = app.test_client()
    sign_in(browser, slug, SUN, demo_password)
    token = form_token(browser, f"/t/{slug}/units")
    switched = browser.post(f"/t/{slug}/lang/en", data={"csrf_token": token, "next": "/units"})
    assert switched.status_code == 303
    assert switched.headers["Location"] == f"/t/{slug}/units"
    page = browser.get(f"/t/{slug}/").text
    assert 'lang="en"' in page
    assert "Pending items" in page and "Regional finance" in page and "Organisation" in page
    assert "待办事项" not in page
    back = browser.post(f"/t/{slug}/lang/zh-CN", data={"csrf_token": token, "next": "/"})
    assert back.status_code == 303
    assert "待办事项" in browser.get(f"/t/{slug}/").text


def test_language_switch_needs_csrf_and_a_known_language(client, demo_tenant):
    slug = demo_tenant.slug
    token = form_token(client, f"/t/{slug}/login")
    assert client.post(f"/t/{slug}/lang/en").status_code == 400
    assert client.post(f"/t/{slug}/lang/fr", data={"csrf_token": token}).status_code == 404
    assert 'lang="zh-CN"' in client.get(f"/t/{slug}/login").text  # unchanged


def test_language_choice_survives_sign_in_and_sign_out(client, demo_tenant, demo_password):
    slug = demo_tenant.slug
    token = form_token(client, f"/t/{slug}/login")
    client.post(f"/t/{slug}/lang/en", data={"csrf_token": token, "next": "/login"})
    assert "Sign in" in client.get(f"/t/{slug}/login").text
    sign_in(client, slug, SUN, demo_password)
    assert "Pending items" in client.get(f"/t/{slug}/").text
    client.post(f"/t/{slug}/logout", data={"csrf_token": form_token(client, f"/t/{slug}/")})
    assert "You have signed out." in client.get(f"/t/{slug}/login").text
