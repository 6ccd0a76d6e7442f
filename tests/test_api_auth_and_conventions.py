"""API clients, object-level authorization (R-ORG-2) and the API conventions: JSON errors,
pagination, Idempotency-Key, request ids."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, event, func, select

from propgroup.audit.models import AuditEvent
from propgroup.config import get_settings
from propgroup.db import tenant_session
from propgroup.identity import service as identity
from propgroup.identity.authz import can
from propgroup.org import service as org
from propgroup.org.models import OrgUnit
from tests.support.groups import provision_demo


@pytest.fixture(scope="module")
def group(control):
    """The demo group, provisioned once for this module (ten argon2 hashes are not free)."""
    from propgroup.tenancy import service

    tenant = provision_demo(control, "api_demo", "API demo")
    yield tenant
    service.drop_tenant(control, tenant.slug)


@pytest.fixture
def client(control):
    get_settings.cache_clear()
    from propgroup.app import create_app

    return create_app({"TESTING": True}).test_client()


@pytest.fixture
def token_for(control):
    """``token_for(tenant, scopes, unit_code=None)`` → a bearer header for a fresh API client."""

    def make(tenant, scopes, unit_code=None):
        with tenant_session(control, tenant.schema_name) as session:
            unit = org.get_unit_by_code(session, unit_code) if unit_code else None
            client, token = identity.create_api_client(
                session, tenant_slug=tenant.slug, name="partner", scopes=scopes, unit=unit
            )
            session.commit()
        return {"Authorization": f"Bearer {token}"}, client.client_id

    return make


def _unit_id(control, tenant, code):
    with tenant_session(control, tenant.schema_name) as session:
        return org.get_unit_by_code(session, code).id


def test_regional_finance_reads_own_region_not_the_other_r_org_2(control, group):
    with tenant_session(control, group.schema_name) as session:
        sun = identity.user_principal(
            identity.authenticate(session, "sun.diqucaiwu", "propgroup-demo-2026")
        )
        own_branch = org.get_unit_by_code(session, "SH-XTD")
        other_branch = org.get_unit_by_code(session, "SZ-NS")
        assert can(session, sun, "org:read", own_branch)
        assert not can(session, sun, "org:read", other_branch)
        assert not can(session, sun, "org:write", own_branch)
        visible = session.scalars(org.visible_units_query(session, sun)).all()
        assert {u.code for u in visible if u.kind == "branch"} == {"SH-XTD", "SH-LJZ", "HZ-XH"}


def test_client_limited_to_a_region_cannot_read_the_other_region_r_org_2(
    client, control, group, token_for
):
    headers, _ = token_for(group, ["org:read"], unit_code="EAST")
    east_branch = _unit_id(control, group, "SH-XTD")
    south_branch = _unit_id(control, group, "SZ-NS")
    assert (
        client.get(f"/t/{group.slug}/api/org/units/{east_branch}", headers=headers).status_code
        == 200
    )
    refused = client.get(f"/t/{group.slug}/api/org/units/{south_branch}", headers=headers)
    assert refused.status_code == 403
    assert refused.json["code"] == "forbidden"
    listed = client.get(f"/t/{group.slug}/api/org/units?kind=branch", headers=headers)
    assert {u["code"] for u in listed.json} == {"SH-XTD", "SH-LJZ", "HZ-XH"}


def test_token_of_tenant_a_on_tenant_b_is_403(client, make_tenant, group, token_for):
    other = make_tenant()
    headers, _ = token_for(group, ["org:read"])
    response = client.get(f"/t/{other.slug}/api/org/units", headers=headers)
    assert response.status_code == 403
    assert response.json["code"] == "tenant_mismatch"


def test_token_alone_names_its_tenant(client, group, token_for):
    headers, _ = token_for(group, ["org:read"])
    response = client.get("/api/org/units?kind=hq", headers=headers)
    assert response.status_code == 200
    assert [u["code"] for u in response.json] == ["HQ"]


def test_revocation_takes_effect_on_the_next_request(client, control, group, token_for):
    headers, client_id = token_for(group, ["org:read"])
    assert client.get(f"/t/{group.slug}/api/org/units", headers=headers).status_code == 200
    with tenant_session(control, group.schema_name) as session:
        identity.revoke_api_client(session, client_id)
        session.commit()
    refused = client.get(f"/t/{group.slug}/api/org/units", headers=headers)
    assert refused.status_code == 401
    assert refused.json["code"] == "revoked_token"


def test_the_token_is_checked_in_the_statement_that_enters_the_tenant(
    client, control, group, token_for
):
    """No round trip of its own: the check rides on the statement that sets the tenant's role."""
    headers, _ = token_for(group, ["org:read"])
    statements = []

    def note(_conn, _cursor, statement, *_):
        statements.append(statement)

    # On every engine: the app's may not be the fixture's once an earlier test disposed engines.
    event.listen(Engine, "before_cursor_execute", note)
    try:
        response = client.get(f"/t/{group.slug}/api/org/units", headers=headers)
    finally:
        event.remove(Engine, "before_cursor_execute", note)
    assert response.status_code == 200
    entering = [s for s in statements if "set_config('role'" in s]
    assert len(entering) == 1 and "api_clients" in entering[0]
    assert [s for s in statements if "api_clients" in s] == entering


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, "unauthenticated"),
        ("Basic abc", "bad_token"),
        ("Bearer not-a-token", "bad_token"),
        ("Bearer pg.{slug}.0000000000000000.wrong", "bad_token"),
        ("Bearer pg.{slug}.x'or'1'='1.wrong", "bad_token"),
    ],
)
def test_missing_or_bad_tokens_are_401_json(client, group, header, code):
    headers = {"Authorization": header.format(slug=group.slug)} if header else {}
    response = client.get(f"/t/{group.slug}/api/org/units", headers=headers)
    assert response.status_code == 401
    assert response.json["code"] == code
    assert set(response.json) == {"code", "message", "errors"}


def test_wrong_secret_of_a_real_client_is_401(client, group, token_for):
    headers, _ = token_for(group, ["org:read"])
    tampered = headers["Authorization"][:-4] + "AAAA"
    response = client.get(f"/t/{group.slug}/api/org/units", headers={"Authorization": tampered})
    assert response.status_code == 401


def test_missing_scope_is_403(client, control, group, token_for):
    headers, _ = token_for(group, ["documents:read"])
    hq = _unit_id(control, group, "HQ")
    assert client.get(f"/t/{group.slug}/api/org/units/{hq}", headers=headers).status_code == 403


def test_unknown_scope_cannot_be_granted(control, group):
    from propgroup.errors import InvalidInput

    with tenant_session(control, group.schema_name) as session, pytest.raises(InvalidInput):
        identity.create_api_client(
            session, tenant_slug=group.slug, name="x", scopes=["root:everything"]
        )


def test_pages_are_bounded_and_counted(client, group, token_for):
    headers, _ = token_for(group, ["org:read"])
    first = client.get(f"/t/{group.slug}/api/org/units?page_size=10", headers=headers)
    assert first.status_code == 200 and len(first.json) == 10
    import json

    meta = json.loads(first.headers["X-Pagination"])
    assert meta["total"] == 48  # 8 units, each with 5 departments
    assert meta["total_pages"] == 5
    last = client.get(f"/t/{group.slug}/api/org/units?page_size=10&page=5", headers=headers)
    assert len(last.json) == 8
    assert {u["id"] for u in first.json}.isdisjoint({u["id"] for u in last.json})
    assert "total_rows" not in last.json[0]  # the count travels with the page, not in it
    past_the_end = client.get(f"/t/{group.slug}/api/org/units?page_size=10&page=9", headers=headers)
    assert past_the_end.status_code == 200 and past_the_end.json == []
    assert json.loads(past_the_end.headers["X-Pagination"])["total"] == 48
    too_big = client.get(f"/t/{group.slug}/api/org/units?page_size=1000", headers=headers)
    assert too_big.status_code == 422
    for odd in ("page=0", "page_size=0", "page=-1", "page=x", "page_size=101"):
        refused = client.get(f"/t/{group.slug}/api/org/units?{odd}", headers=headers)
        assert refused.status_code == 422, odd
    padded = client.get(f"/t/{group.slug}/api/org/units?page=02&page_size=010", headers=headers)
    assert padded.status_code == 200 and len(padded.json) == 10
    assert json.loads(padded.headers["X-Pagination"])["page"] == 2


def _create(client, slug, headers, body, key=None):
    extra = {"Idempotency-Key": key} if key else {}
    return client.post(f"/t/{slug}/api/org/units", json=body, headers={**headers, **extra})


def test_idempotency_key_replays_and_refuses_a_different_body(client, control, group, token_for):
    headers, _ = token_for(group, ["org:read", "org:write"])
    east = _unit_id(control, group, "EAST")
    body = {"code": "NB-01", "kind": "branch", "name": "宁波项目分公司", "parent_id": east}
    first = _create(client, group.slug, headers, body, key="create-nb-01")
    again = _create(client, group.slug, headers, body, key="create-nb-01")
    assert first.status_code == again.status_code == 201
    assert again.json == first.json
    assert again.headers["Idempotent-Replayed"] == "true"
    different = _create(client, group.slug, headers, {**body, "name": "other"}, key="create-nb-01")
    assert different.status_code == 422
    assert different.json["code"] == "idempotency_mismatch"
    with tenant_session(control, group.schema_name) as session:
        assert session.scalar(select(func.count()).where(OrgUnit.code == "NB-01")) == 1


def test_without_a_key_a_repeat_is_a_409_not_a_duplicate(client, control, group, token_for):
    headers, _ = token_for(group, ["org:read", "org:write"])
    east = _unit_id(control, group, "EAST")
    body = {"code": "NB-02", "kind": "branch", "name": "x", "parent_id": east}
    assert _create(client, group.slug, headers, body).status_code == 201
    repeat = _create(client, group.slug, headers, body)
    assert repeat.status_code == 409 and repeat.json["code"] == "duplicate_unit_code"


def test_created_unit_is_audited_with_the_client_and_request_id(client, control, group, token_for):
    headers, _ = token_for(group, ["org:read", "org:write"])
    east = _unit_id(control, group, "EAST")
    body = {"code": "NB-03", "kind": "branch", "name": "审计", "parent_id": east}
    response = client.post(
        f"/t/{group.slug}/api/org/units",
        json=body,
        headers={**headers, "X-Request-ID": "req-test-0001"},
    )
    assert response.status_code == 201
    assert response.headers["X-Request-ID"] == "req-test-0001"
    with tenant_session(control, group.schema_name) as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.request_id == "req-test-0001")
        ).one()
        assert event.actor_kind == "client" and event.request_id == "req-test-0001"
        assert event.after["code"] == "NB-03"


def test_bad_body_is_422_and_nothing_is_written(client, control, group, token_for):
    headers, _ = token_for(group, ["org:read", "org:write"])

    def audit_count():
        with tenant_session(control, group.schema_name) as session:
            return session.scalar(select(func.count()).select_from(AuditEvent))

    before = audit_count()
    response = _create(client, group.slug, headers, {"code": "lower", "kind": "planet", "name": ""})
    assert response.status_code == 422
    assert {"code", "kind", "name", "parent_id"} <= set(response.json["errors"])
    assert audit_count() == before


def test_every_response_carries_a_request_id(client):
    response = client.get("/healthz")
    assert len(response.headers["X-Request-ID"]) >= 16
    echoed = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
    assert echoed.headers["X-Request-ID"] != "bad id with spaces"


def test_api_refusals_are_audited_with_the_client(client, control, group, token_for):
    headers, _ = token_for(group, ["documents:read"])
    hq = _unit_id(control, group, "HQ")
    assert client.get(f"/t/{group.slug}/api/org/units/{hq}", headers=headers).status_code == 403
    with tenant_session(control, group.schema_name) as session:
        refused = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "security.refused")
            .order_by(AuditEvent.id.desc())
        ).first()
    assert refused.actor_kind == "client"
    assert refused.after == {
        "status": 403,
        "method": "GET",
        "path": f"/api/org/units/{hq}",
        "code": "forbidden",
        "login": None,
    }


def test_a_nul_character_in_any_text_is_a_422_not_a_500(client, control, group, token_for):
    """PostgreSQL stores no NUL: wherever a field lets one through, the answer is the client's
    error and nothing is written."""
    headers, _ = token_for(group, ["org:read", "org:write"])
    east = _unit_id(control, group, "EAST")
    body = {"code": "NB-NUL", "kind": "branch", "name": "宁波\x00分公司", "parent_id": east}
    response = _create(client, group.slug, headers, body)
    assert response.status_code == 422 and response.json["code"] == "bad_character"
    searched = client.get(f"/t/{group.slug}/api/approvals?request_type=%00", headers=headers)
    assert searched.status_code in (403, 422)  # scope first; never a 500
    with tenant_session(control, group.schema_name) as session:
        assert session.scalar(select(func.count()).where(OrgUnit.code == "NB-NUL")) == 0


@pytest.mark.parametrize(
    ("query", "status", "kinds"),
    [
        ("", 200, {"hq", "region", "branch", "department"}),
        ("?page_size=100&unrelated=1", 200, {"hq", "region", "branch", "department"}),
        ("?kind=branch", 200, {"branch"}),
        ("?kind=nonsense", 422, None),
        ("?under=0", 422, None),
    ],
)
def test_query_filters_are_checked_when_given_and_filter_nothing_when_absent(
    client, group, token_for, query, status, kinds
):
    """A query naming no filter skips marshmallow's load (api._Parser); one naming any is
    loaded and refused as before."""
    headers, _ = token_for(group, ["org:read"])
    response = client.get(f"/t/{group.slug}/api/org/units{query}", headers=headers)
    assert response.status_code == status, response.json
    if kinds is not None:
        assert {unit["kind"] for unit in response.json} == kinds
    else:
        assert response.json["code"] == "unprocessable_entity"


def test_a_read_on_entry_names_tenant_tables_only():
    """It runs before the tenant's role applies, so a control-plane table is refused outright."""
    from propgroup.db import _entering_with
    from propgroup.tenancy.models import Tenant

    with pytest.raises(ValueError, match="tenant tables only"):
        _entering_with(select(Tenant.slug), "t_any")


def test_json_orjson_cannot_write_falls_back_to_the_stdlib(client):
    provider = client.application.json
    assert provider.dumps({"n": 2**70}, separators=(",", ":")) == '{"n":1180591620717411303424}'
