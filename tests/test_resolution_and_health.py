"""Tenant resolution per request (subdomain, /t/<slug>/, token) and the health endpoints."""

from __future__ import annotations

import pytest

from propgroup.config import get_settings
from propgroup.errors import Forbidden, NotFound
from propgroup.tenancy import service
from propgroup.tenancy.middleware import TOKEN_SLUG_KEY
from propgroup.tenancy.resolution import resolve_slug, slug_from_host, split_path_prefix


@pytest.fixture
def client(control, monkeypatch):
    monkeypatch.setenv("BASE_DOMAIN", "propgroup.test")
    get_settings.cache_clear()
    from propgroup.app import create_app

    app = create_app({"TESTING": True})
    yield app.test_client()
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("acme.propgroup.test", "acme"),
        ("ACME.propgroup.test:8000", "acme"),
        ("east-star.propgroup.test", "east_star"),
        ("propgroup.test", None),
        ("www.propgroup.test", None),
        ("a.b.propgroup.test", None),
        ("acme.evil.test", None),
        ("acme.propgroup.test.evil.test", None),
    ],
)
def test_slug_from_subdomain(host, expected):
    assert slug_from_host(host, "propgroup.test") == expected


def test_path_prefix_is_split_from_the_route():
    assert split_path_prefix("/t/acme/api/tenant") == ("acme", "/api/tenant")
    assert split_path_prefix("/t/acme") == ("acme", "/")
    assert split_path_prefix("/api/t/acme") == (None, "/api/t/acme")


def test_token_tenant_wins_and_a_mismatch_is_forbidden():
    assert (
        resolve_slug(host_slug=None, path_slug=None, header_slug=None, token_slug="acme") == "acme"
    )
    assert (
        resolve_slug(host_slug=None, path_slug=None, header_slug="acme", token_slug="acme")
        == "acme"
    )
    with pytest.raises(Forbidden):
        resolve_slug(host_slug="other", path_slug=None, header_slug=None, token_slug="acme")
    with pytest.raises(Forbidden):
        resolve_slug(host_slug=None, path_slug=None, header_slug="other", token_slug="acme")


def test_x_tenant_header_counts_only_beside_a_token():
    assert resolve_slug(host_slug=None, path_slug=None, header_slug="acme", token_slug=None) is None


def test_host_and_path_naming_different_tenants_is_a_400():
    from propgroup.errors import DomainError

    with pytest.raises(DomainError) as caught:
        resolve_slug(host_slug="acme", path_slug="other", header_slug=None, token_slug=None)
    assert caught.value.status == 400


def test_malformed_slug_in_a_request_is_unknown_not_an_error():
    with pytest.raises(NotFound):
        resolve_slug(host_slug=None, path_slug="x'; drop", header_slug=None, token_slug=None)


def test_path_prefix_and_subdomain_reach_the_tenant(client, make_tenant):
    tenant = make_tenant(name="前缀集团")
    by_path = client.get(f"/t/{tenant.slug}/api/tenant")
    assert by_path.status_code == 200
    assert by_path.json == {"slug": tenant.slug, "name": "前缀集团", "status": "active"}
    by_host = client.get(
        "/api/tenant", headers={"Host": f"{tenant.slug.replace('_', '-')}.propgroup.test"}
    )
    assert by_host.json["slug"] == tenant.slug


def test_unknown_tenant_is_404_json_never_a_default(client, make_tenant):
    make_tenant()
    response = client.get("/t/nosuchgroup/api/tenant")
    assert response.status_code == 404
    assert response.json["code"] == "unknown_tenant"
    assert set(response.json) == {"code", "message", "errors"}
    missing = client.get("/api/tenant")
    assert missing.status_code == 404 and missing.json["code"] == "tenant_required"


def test_suspended_tenant_is_403_json(client, make_tenant, control):
    tenant = make_tenant()
    service.set_status(control, tenant.slug, "suspended")
    response = client.get(f"/t/{tenant.slug}/api/tenant")
    assert response.status_code == 403
    assert response.json["code"] == "tenant_suspended"


def test_token_of_another_tenant_is_403(client, make_tenant):
    a, b = make_tenant(), make_tenant()
    response = client.get(f"/t/{b.slug}/api/tenant", environ_base={TOKEN_SLUG_KEY: a.slug})
    assert response.status_code == 403
    assert response.json["code"] == "tenant_mismatch"


def test_unknown_route_is_a_json_404(client):
    response = client.get("/api/nowhere")
    assert response.status_code == 404
    assert response.json["code"] == "not_found"


def test_healthz_and_readyz_when_everything_answers(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_is_503_and_names_redis_when_redis_is_down(client, monkeypatch):
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    get_settings.cache_clear()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"]["database"] == "ok"
    assert ready.json["checks"]["redis"].startswith("error")


def test_readyz_is_503_and_names_the_database_when_it_is_down(client, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none?connect_timeout=1")
    get_settings.cache_clear()
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json["checks"]["database"].startswith("error")


def test_openapi_document_is_served(client):
    spec = client.get("/api/openapi.json")
    assert spec.status_code == 200
    assert "/api/tenant" in spec.json["paths"]
