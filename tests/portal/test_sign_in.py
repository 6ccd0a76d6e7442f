"""Portal sign-in by session cookie: CSRF on every form, lockout, logout, password change."""

from __future__ import annotations

import itertools

from propgroup.app import create_app
from tests.portal.conftest import csrf_token, form_token, group_with, sign_in

SUN = "sun.diqucaiwu"  # regional_finance at EAST
_addresses = (f"10.9.{a}.{b}" for a, b in itertools.product(range(256), range(1, 255)))


def _from_new_address() -> dict:
    """Lockout counts per login *and* address: each test signs in from an address of its own."""
    return {"environ_base": {"REMOTE_ADDR": next(_addresses)}}


def test_login_page_is_chinese_by_default_and_carries_a_csrf_field(client, demo_tenant):
    page = client.get(f"/t/{demo_tenant.slug}/login")
    assert page.status_code == 200
    assert 'lang="zh-CN"' in page.text
    assert "登录" in page.text and "账号" in page.text
    assert csrf_token(page.text)
    assert "htmx.min.js" in page.text and "cdn" not in page.text.lower()


def test_signing_in_with_the_demo_password_opens_the_home_page(client, demo_tenant, demo_password):
    slug = demo_tenant.slug
    response = sign_in(client, slug, SUN, demo_password, **_from_new_address())
    assert response.status_code == 303
    assert response.headers["Location"] == f"/t/{slug}/"
    home = client.get(f"/t/{slug}/")
    assert home.status_code == 200
    assert "孙财务" in home.text
    assert "地区财务" in home.text  # the role, in Chinese
    assert "华东地区分公司" in home.text and "上海新天地项目分公司" in home.text
    assert "华南中心项目分公司" not in home.text  # another region's units are not listed
    assert "待办事项" in home.text
    assert '<p class="count" data-testid="pending-count">0</p>' in home.text


def test_home_page_signed_out_redirects_to_the_tenants_login(client, demo_tenant, unit_ids):
    slug = demo_tenant.slug
    response = client.get(f"/t/{slug}/units/{unit_ids['EAST']}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/t/{slug}/login?next=/units/{unit_ids['EAST']}"


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(
    client, demo_tenant, demo_password, unit_ids
):
    slug, address = demo_tenant.slug, _from_new_address()
    token = csrf_token(client.get(f"/t/{slug}/login", **address).text)
    form = {"login": SUN, "password": demo_password, "csrf_token": token}
    back = client.post(
        f"/t/{slug}/login", data={**form, "next": f"/units/{unit_ids['EAST']}"}, **address
    )
    assert back.headers["Location"] == f"/t/{slug}/units/{unit_ids['EAST']}"
    for evil in ("//evil.test/x", "https://evil.test/", "/\\evil.test", "javascript:alert(1)"):
        browser = client.application.test_client()
        token = csrf_token(browser.get(f"/t/{slug}/login", **address).text)
        response = browser.post(
            f"/t/{slug}/login", data={**form, "csrf_token": token, "next": evil}, **address
        )
        assert response.headers["Location"] == f"/t/{slug}/", evil


def test_wrong_password_shows_the_form_again_with_401(client, demo_tenant):
    slug = demo_tenant.slug
    response = sign_in(client, slug, SUN, "not-the-password", **_from_new_address())
    assert response.status_code == 401
    assert "账号或密码错误" in response.text
    assert f'value="{SUN}"' in response.text  # the login is kept, the password is not
    assert client.get(f"/t/{slug}/").status_code == 302


def test_post_without_csrf_token_is_400_and_signs_nobody_in(client, demo_tenant, demo_password):
    slug = demo_tenant.slug
    client.get(f"/t/{slug}/login")
    response = client.post(f"/t/{slug}/login", data={"login": SUN, "password": demo_password})
    assert response.status_code == 400
    assert "安全令牌" in response.text and "未做任何更改" in response.text
    assert "The CSRF token is missing." in response.text
    assert client.get(f"/t/{slug}/").status_code == 302  # still signed out


def test_logout_and_password_change_without_csrf_token_change_nothing(
    client, make_tenant, demo_group, demo_password
):
    tenant = make_tenant(group=group_with(demo_group, SUN))
    slug = tenant.slug
    assert sign_in(client, slug, SUN, demo_password).status_code == 303
    wrong = client.post(f"/t/{slug}/logout", data={"csrf_token": "forged"})
    assert wrong.status_code == 400
    assert client.get(f"/t/{slug}/").status_code == 200  # still signed in
    change = {
        "current_password": demo_password,
        "new_password": "a-brand-new-password",
        "confirm_password": "a-brand-new-password",
    }
    assert client.post(f"/t/{slug}/password", data=change).status_code == 400
    other = client.application.test_client()
    assert sign_in(other, slug, SUN, demo_password).status_code == 303  # old password still works


def test_lockout_429_after_five_failures_even_with_the_right_password(
    client, demo_tenant, demo_password
):
    slug, address = demo_tenant.slug, _from_new_address()
    login = "zhou.zongjingli"
    for _ in range(5):
        assert sign_in(client, slug, login, "wrong-password", **address).status_code == 401
    locked = sign_in(client, slug, login, demo_password, **address)
    assert locked.status_code == 429
    assert "失败次数过多" in locked.text and "分钟后重试" in locked.text
    assert 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    assert client.get(f"/t/{slug}/").status_code == 302  # the right password did not get in
    # Only this login from this address is paused.
    other = client.application.test_client()
    assert sign_in(other, slug, login, demo_password, **_from_new_address()).status_code == 303


def test_successful_sign_ins_do_not_count_towards_the_lockout(client, demo_tenant, demo_password):
    slug, address = demo_tenant.slug, _from_new_address()
    for _ in range(6):
        browser = client.application.test_client()
        assert sign_in(browser, slug, "wang.xiangmu", demo_password, **address).status_code == 303
    assert sign_in(client, slug, "wang.xiangmu", "wrong-password", **address).status_code == 401


def test_logout_is_a_post_and_ends_the_session(client, demo_tenant, demo_password):
    slug = demo_tenant.slug
    assert sign_in(client, slug, SUN, demo_password, **_from_new_address()).status_code == 303
    assert client.get(f"/t/{slug}/logout").status_code == 405
    token = form_token(client, f"/t/{slug}/")
    response = client.post(f"/t/{slug}/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/t/{slug}/login"
    assert "您已退出登录" in client.get(f"/t/{slug}/login").text
    assert client.get(f"/t/{slug}/").status_code == 302


def _session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("pg_session=")]
    assert cookies, response.headers
    return cookies[-1]


def test_session_cookie_is_httponly_lax_and_secure_outside_debug(
    client, demo_tenant, demo_password
):
    response = sign_in(client, demo_tenant.slug, SUN, demo_password, **_from_new_address())
    cookie = _session_cookie(response)
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie


def test_session_cookie_is_not_secure_in_debug(control, demo_tenant):
    debug_app = create_app({"TESTING": True, "DEBUG": True})
    page = debug_app.test_client().get(f"/t/{demo_tenant.slug}/login")
    cookie = _session_cookie(page)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_password_change_keeps_this_browser_and_signs_out_the_others(
    app, make_tenant, demo_group, demo_password
):
    slug = make_tenant(group=group_with(demo_group, SUN)).slug
    here, elsewhere = app.test_client(), app.test_client()
    for browser in (here, elsewhere):
        assert sign_in(browser, slug, SUN, demo_password).status_code == 303
    token = form_token(here, f"/t/{slug}/password")
    new = "a-brand-new-password"
    response = here.post(
        f"/t/{slug}/password",
        data={
            "csrf_token": token,
            "current_password": demo_password,
            "new_password": new,
            "confirm_password": new,
        },
    )
    assert response.status_code == 303
    assert "密码已修改" in here.get(f"/t/{slug}/").text  # still signed in here
    assert elsewhere.get(f"/t/{slug}/").status_code == 302  # the old stamp is void
    assert sign_in(app.test_client(), slug, SUN, demo_password).status_code == 401
    assert sign_in(app.test_client(), slug, SUN, new).status_code == 303


def test_password_change_with_a_wrong_current_password_is_422_and_changes_nothing(
    app, make_tenant, demo_group, demo_password
):
    slug = make_tenant(group=group_with(demo_group, SUN)).slug
    browser = app.test_client()
    sign_in(browser, slug, SUN, demo_password)
    token = form_token(browser, f"/t/{slug}/password")
    attempts = [
        (
            "wrong-current-password",
            "a-brand-new-password",
            "a-brand-new-password",
            "当前密码不正确",
        ),
        (
            demo_password,
            "a-brand-new-password",
            "something-else-entirely",
            "两次输入的新密码不一致",
        ),
        (demo_password, "short", "short", "至少需要 10 个字符"),
    ]
    for current, new, confirm, message in attempts:
        response = browser.post(
            f"/t/{slug}/password",
            data={
                "csrf_token": token,
                "current_password": current,
                "new_password": new,
                "confirm_password": confirm,
            },
        )
        assert response.status_code == 422
        assert message in response.text
    assert sign_in(app.test_client(), slug, SUN, demo_password).status_code == 303


def test_a_session_of_one_tenant_is_signed_out_on_another(
    client, demo_tenant, demo_password, make_tenant
):
    other = make_tenant()
    assert sign_in(client, demo_tenant.slug, SUN, demo_password).status_code == 303
    response = client.get(f"/t/{other.slug}/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/t/{other.slug}/login")


def test_api_paths_ignore_the_session_and_need_no_csrf_token(
    client, control, demo_tenant, demo_password, unit_ids
):
    from propgroup.db import tenant_session
    from propgroup.identity import service as identity

    slug = demo_tenant.slug
    sign_in(client, slug, SUN, demo_password, **_from_new_address())
    # A signed-in browser gets nothing from the API: it authenticates by bearer token only.
    refused = client.get(f"/t/{slug}/api/org/units")
    assert refused.status_code == 401
    assert refused.is_json and refused.json["code"] == "unauthenticated"
    with tenant_session(control, demo_tenant.schema_name) as session:
        _client, token = identity.create_api_client(
            session, tenant_slug=slug, name="portal-test", scopes=["org:read"]
        )
        session.commit()
    listed = client.get(f"/t/{slug}/api/org/units", headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200 and listed.is_json
    # An unsafe API call carries no CSRF token: it is judged on its bearer token (no org:write).
    renamed = client.patch(
        f"/t/{slug}/api/org/units/{unit_ids['SH-XTD']}",
        json={"name": "改名"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert renamed.status_code == 403
    assert renamed.json["code"] == "forbidden"


def test_unknown_portal_path_is_an_html_404_and_unknown_api_path_stays_json(client, demo_tenant):
    page = client.get(f"/t/{demo_tenant.slug}/nowhere")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "页面不存在" in page.text
    api = client.get(f"/t/{demo_tenant.slug}/api/nowhere")
    assert api.status_code == 404 and api.json["code"] == "not_found"


def test_unknown_tenant_portal_page_is_an_html_404(client, demo_tenant):
    page = client.get("/t/nosuchgroup/login")
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "nosuchgroup" in page.text
