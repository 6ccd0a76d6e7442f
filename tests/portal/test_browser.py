"""The portal in headless Chromium (Playwright) against a live server: sign in, home page,
language switch, an htmx partial. Skipped, with the reason, when Chromium is not installed."""

from __future__ import annotations

from pathlib import Path

from tests.portal.conftest import SCREENSHOTS

SUN = "sun.diqucaiwu"


def _screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def _sign_in(page, base: str, slug: str, password: str, *, screenshot: bool = False) -> None:
    page.goto(f"{base}/t/{slug}/login")
    if screenshot:
        _screenshot(page, "login-zh.png")
    page.fill("#login", SUN)
    page.fill("#password", password)
    page.click("button.primary")
    page.wait_for_url(f"{base}/t/{slug}/")


def test_sign_in_shows_home_then_english_after_the_switch(
    page, live_server, demo_tenant, demo_password
):
    slug = demo_tenant.slug
    _sign_in(page, live_server, slug, demo_password, screenshot=True)
    assert page.locator("h1").inner_text() == "孙财务，您好"
    assert page.get_by_test_id("pending-count").inner_text() == "0"
    units = page.locator("section.wide").inner_text()
    assert "华东地区分公司" in units and "上海新天地项目分公司" in units
    assert "华南" not in units
    assert page.evaluate("typeof htmx") == "object"  # loaded from /static, not a CDN
    cookie = next(c for c in page.context.cookies() if c["name"] == "pg_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["secure"]
    _screenshot(page, "home-zh.png")

    page.click("button:text('English')")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Welcome, 孙财务"
    body = page.locator("body").inner_text()
    assert "Pending items" in body and "Regional finance" in body and "Units you can see" in body
    _screenshot(page, "home-en.png")


def test_htmx_expands_a_unit_in_place(page, live_server, demo_tenant, demo_password, unit_ids):
    slug = demo_tenant.slug
    _sign_in(page, live_server, slug, demo_password)
    page.click("nav.nav a:text('组织架构')")
    page.wait_for_url(f"{live_server}/t/{slug}/units")
    container = page.locator(f"#children-{unit_ids['EAST']}")
    assert container.inner_text() == ""
    with page.expect_response(f"**/units/{unit_ids['EAST']}/children") as fragment:
        page.click("button.expand")
    assert fragment.value.status == 200
    container.get_by_text("上海新天地项目分公司").wait_for()
    assert page.url == f"{live_server}/t/{slug}/units"  # a partial update: no navigation
    assert page.locator("button.expand").count() == 3  # the three branches can expand in turn
    page.click(f"#children-{unit_ids['EAST']} button.expand >> nth=0")
    page.locator(f"#children-{unit_ids['SH-XTD']}").get_by_text("财务部").wait_for()
    _screenshot(page, "units-expanded.png")
