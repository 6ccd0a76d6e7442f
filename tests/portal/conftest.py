"""Portal fixtures: the demo group (tenants/demo.toml) provisioned once, an app, sign-in helpers."""

from __future__ import annotations

import os
import re
import secrets
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
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

DEMO_FILE = PROJECT_HOME / "tenants" / "demo.toml"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(tempfile.gettempdir()) / "propgroup-portal-screenshots"


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


def unit_ids_in(control, tenant: Tenant, codes: tuple[str, ...]) -> dict[str, int]:
    """The ids of the units with these codes in ``tenant``."""
    with tenant_session(control, tenant.schema_name) as session:
        return {code: org.get_unit_by_code(session, code).id for code in codes}


@pytest.fixture(scope="session")
def unit_ids(control, demo_tenant: Tenant) -> dict[str, int]:
    return unit_ids_in(control, demo_tenant, ("HQ", "EAST", "SOUTH", "SH-XTD", "SZ-NS", "EAST-FIN"))


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


# --- a real browser against a live server (skipped without Chromium) ---------------------


@pytest.fixture(scope="module")
def live_server(control) -> Iterator[str]:
    """The real app (create_app) on 127.0.0.1 and a free port, served from a thread."""
    from propgroup.app import create_app

    server = make_server("127.0.0.1", 0, create_app({"TESTING": True}), threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="portal-live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install -y chromium); browser tests skipped"
        print(reason)
        pytest.skip(reason)
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def signed_in_page(browser, base: str, slug: str, login: str, password: str, width: int = 1280):
    """A new browser context signed in as ``login``, on the home page."""
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(f"{base}/t/{slug}/login")
    page.fill("#login", login)
    page.fill("#password", password)
    page.click("button.primary")
    page.wait_for_url(f"{base}/t/{slug}/")
    return page
