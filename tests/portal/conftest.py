"""Portal fixtures: the demo group (tenants/demo.toml) provisioned once, an app, sign-in helpers."""

from __future__ import annotations

import os
import re
import secrets
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from propgroup.config import PROJECT_HOME
from propgroup.db import tenant_session
from propgroup.org import service as org
from propgroup.tenancy import service
from propgroup.tenancy.models import Tenant
from propgroup.tenancy.templates import load_group
from tests.portal.test_browser import CHROMIUM, CHROMIUM_ARGS

DEMO_FILE = PROJECT_HOME / "tenants" / "demo.toml"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session")
def demo_group() -> dict[str, Any]:
    return load_group(DEMO_FILE)


@pytest.fixture(scope="session")
def demo_password(demo_group: dict[str, Any]) -> str:
    return demo_group["tenant"]["demo_password"]


@pytest.fixture(scope="session")
def demo_tenant(control, demo_group: dict[str, Any]) -> Iterator[Tenant]:
    """The demo group under a slug of its own; tests that change data use ``make_tenant``."""
    slug = f"portal_{os.getpid()}_{secrets.token_hex(3)}"
    tenant = service.provision_tenant(
        control,
        slug=slug,
        name=demo_group["tenant"]["name"],
        template=demo_group["template"],
        group=demo_group,
    )
    yield tenant
    service.drop_tenant(control, slug)


@pytest.fixture(scope="session")
def unit_ids(control, demo_tenant: Tenant) -> dict[str, int]:
    with tenant_session(control, demo_tenant.schema_name) as session:
        return {
            code: org.get_unit_by_code(session, code).id
            for code in ("HQ", "EAST", "SOUTH", "SH-XTD", "SZ-NS", "EAST-FIN")
        }


@pytest.fixture(scope="session")
def app(control) -> Flask:
    from propgroup.app import create_app

    return create_app({"TESTING": True})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def csrf_token(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no CSRF field"
    return match.group(1)


def sign_in(client: FlaskClient, slug: str, login: str, password: str, **kwargs: Any):
    """GET the login form (for its CSRF token), then POST it; returns the POST's response."""
    page = client.get(f"/t/{slug}/login", **kwargs)
    assert page.status_code == 200
    return client.post(
        f"/t/{slug}/login",
        data={"login": login, "password": password, "csrf_token": csrf_token(page.text)},
        **kwargs,
    )


@pytest.fixture(scope="module")
def browsers(app, group, demo_password):
    """One signed-in test client per person of the module's ``group``, made on first use."""
    made = {}

    def browser(login: str):
        if login not in made:
            client = app.test_client()
            assert sign_in(client, group.slug, login, demo_password).status_code == 303
            made[login] = client
        return made[login]

    return browser


def form_token(client: FlaskClient, path: str) -> str:
    """A CSRF token of this client's session, read from a page that has a form."""
    page = client.get(path)
    assert page.status_code == 200, page.status_code
    return csrf_token(page.text)


def group_with(group: dict[str, Any], *logins: str) -> dict[str, Any]:
    """The demo group with only some of its people: provisioning hashes one password per user."""
    return {**group, "users": [user for user in group["users"] if user["login"] in logins]}


# --- in the browser -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def live_server(control) -> Iterator[str]:
    """The real app on 127.0.0.1 and a free port, served from a thread (for Chromium)."""
    from propgroup.app import create_app

    server = make_server("127.0.0.1", 0, create_app({"TESTING": True}), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="portal-live", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium through Playwright; skipped, with the reason, when missing."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium); browser test skipped")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def signed_in_page(chromium, base, slug, login, password):
    """A new browser context signed in as ``login``, on the home page."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{base}/t/{slug}/login")
    page.fill("#login", login)
    page.fill("#password", password)
    page.click("button.primary")
    page.wait_for_url(f"{base}/t/{slug}/")
    return page
