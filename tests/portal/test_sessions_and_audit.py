"""Sessions end for real on sign-out, sign-in survives a Redis outage, and every sign-in,
sign-out and refusal is in the audit trail ("every decision audited")."""

from __future__ import annotations

import itertools

from sqlalchemy import select

from propgroup.audit.models import AuditEvent
from propgroup.config import get_settings
from propgroup.db import tenant_session
from tests.portal.conftest import form_token, sign_in

SUN = "sun.diqucaiwu"
_addresses = (f"10.99.{n // 250}.{n % 250 + 1}" for n in itertools.count())


def _from_new_address():
    """Each test signs in from its own address, so the lockout of one never meets another."""
    return {"environ_base": {"REMOTE_ADDR": next(_addresses)}}


def _events(control, tenant, action):
    with tenant_session(control, tenant.schema_name) as session:
        return session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()


def test_a_cookie_copied_before_sign_out_no_longer_works(app, demo_tenant, demo_password):
    slug = demo_tenant.slug
    browser, thief = app.test_client(), app.test_client()
    assert sign_in(browser, slug, SUN, demo_password, **_from_new_address()).status_code == 303
    copied = browser.get_cookie("pg_session")
    thief.set_cookie("pg_session", copied.value)
    assert thief.get(f"/t/{slug}/").status_code == 200
    browser.post(f"/t/{slug}/logout", data={"csrf_token": form_token(browser, f"/t/{slug}/")})
    assert thief.get(f"/t/{slug}/").status_code == 302  # back to the login page


def test_sign_in_and_sign_out_are_audited(control, client, demo_tenant, demo_password):
    slug = demo_tenant.slug
    before_in = len(_events(control, demo_tenant, "identity.signed_in"))
    before_out = len(_events(control, demo_tenant, "identity.signed_out"))
    sign_in(client, slug, SUN, demo_password, **_from_new_address())
    client.post(f"/t/{slug}/logout", data={"csrf_token": form_token(client, f"/t/{slug}/")})
    signed_in = _events(control, demo_tenant, "identity.signed_in")
    assert len(signed_in) == before_in + 1 and signed_in[-1].actor_name == SUN
    assert len(_events(control, demo_tenant, "identity.signed_out")) == before_out + 1


def test_a_failed_sign_in_is_audited_with_the_login_tried(control, client, demo_tenant):
    sign_in(client, demo_tenant.slug, SUN, "not-the-password", **_from_new_address())
    refused = _events(control, demo_tenant, "security.refused")[-1]
    assert refused.after["status"] == 401 and refused.after["login"] == SUN
    assert refused.actor_kind == "anonymous"
    assert "not-the-password" not in str(refused.after)


def test_a_forbidden_page_is_audited_with_who_asked(
    control, client, demo_tenant, demo_password, unit_ids
):
    sign_in(client, demo_tenant.slug, SUN, demo_password, **_from_new_address())
    assert client.get(f"/t/{demo_tenant.slug}/units/{unit_ids['SZ-NS']}").status_code == 403
    refused = _events(control, demo_tenant, "security.refused")[-1]
    assert (refused.actor_name, refused.after["status"]) == (SUN, 403)


def test_sign_in_works_while_redis_is_down(control, demo_tenant, demo_password, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    get_settings.cache_clear()
    try:
        from propgroup.app import create_app

        client = create_app({"TESTING": True}).test_client()
        response = sign_in(client, demo_tenant.slug, SUN, demo_password, **_from_new_address())
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert response.status_code == 303
