"""Schema-per-tenant isolation (ARCHITECTURE: tenancy) and all-or-nothing provisioning."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import ProgrammingError

from propgroup.db import TenantBase, tenant_session
from propgroup.errors import Conflict, InvalidInput, NotFound
from propgroup.org import service as org
from propgroup.org.models import OrgUnit
from propgroup.tenancy import service
from propgroup.tenancy.isolation import tenant_role


def _schemas(engine) -> set[str]:
    return set(inspect(engine).get_schema_names())


def _roles(engine, schema: str) -> list[str]:
    with engine.connect() as connection:
        role = tenant_role(connection, schema)
        return connection.scalars(
            text("select rolname from pg_roles where rolname = :r"), {"r": role}
        ).all()


def test_orm_reads_and_writes_stay_in_the_bound_schema(control, make_tenant):
    a, b = make_tenant(name="Alpha"), make_tenant(name="Beta")
    with tenant_session(control, a.schema_name) as session:
        hq = org.get_unit_by_code(session, "HQ")
        org.create_unit(session, code="A-REGION", kind="region", name="Only in A", parent=hq)
        session.commit()
    with tenant_session(control, b.schema_name) as session:
        names = session.scalars(select(OrgUnit.name)).all()
        assert "Beta" in names and "Alpha" not in names
        assert "Only in A" not in names
        with pytest.raises(NotFound):
            org.get_unit_by_code(session, "A-REGION")
    with tenant_session(control, a.schema_name) as session:
        assert org.get_unit_by_code(session, "A-REGION").name == "Only in A"


def test_text_sql_sees_only_its_own_schema(control, make_tenant):
    a, _ = make_tenant(name="Alpha"), make_tenant(name="Beta")
    with tenant_session(control, a.schema_name) as session:
        names = session.scalars(text("select name from org_units")).all()
        assert "Alpha" in names and "Beta" not in names


@pytest.mark.parametrize(
    "statement",
    [
        "select count(*) from {other}.org_units",
        "update {other}.users set active = false",
        "insert into {other}.org_units (kind, code, name, path, depth) values ('hq','X','x','/',0)",
        "delete from {other}.org_units",
        "select count(*) from public.tenants",
        "update alembic_version set version_num = 'x'",
        "create table sneaky (id int)",
    ],
)
def test_text_sql_naming_another_schema_is_denied(control, make_tenant, statement):
    """Even explicit schema names fail: the tenant role has no grant outside its own schema."""
    a, b = make_tenant(), make_tenant()
    with tenant_session(control, a.schema_name) as session:
        with pytest.raises(ProgrammingError, match="permission denied"):
            session.execute(text(statement.format(other=b.schema_name)))
        session.rollback()
    with tenant_session(control, b.schema_name) as session:
        assert session.scalar(text("select count(*) from org_units")) == 6  # HQ + 5 departments


def test_session_without_tenant_fails_closed(control, make_tenant):
    """A plain session hits the placeholder schema, which does not exist, not somebody's rows."""
    make_tenant()
    from sqlalchemy.orm import Session

    with (
        Session(bind=control) as session,
        pytest.raises(ProgrammingError, match=r'relation "tenant\.org_units" does not exist'),
    ):
        session.scalars(select(OrgUnit)).all()


def test_search_path_is_per_transaction_not_per_connection(control, make_tenant):
    """After a tenant transaction the pooled connection carries no tenant path or role.

    A one-connection pool makes sure the second checkout is the very connection the tenant used.
    """
    from sqlalchemy import create_engine

    a = make_tenant()
    single = create_engine(control.url, pool_size=1, max_overflow=0)
    with tenant_session(single, a.schema_name) as session:
        session.scalar(text("select 1"))
        session.commit()
    with single.connect() as connection:
        path, user = connection.execute(
            text("select current_setting('search_path'), current_user")
        ).one()
        assert a.schema_name not in path
        assert not user.startswith("tr_")
    single.dispose()


def test_provisioning_creates_schema_role_tables_at_head(control, make_tenant):
    tenant = make_tenant()
    assert tenant.schema_name in _schemas(control)
    assert _roles(control, tenant.schema_name)
    tables = set(inspect(control).get_table_names(schema=tenant.schema_name))
    expected = {t.name for t in TenantBase.metadata.sorted_tables} | {"alembic_version"}
    assert tables == expected
    with control.connect() as connection:
        version = connection.scalar(
            text(f'select version_num from "{tenant.schema_name}".alembic_version')
        )
    assert version == tenant.schema_revision


def test_provisioning_failure_halfway_leaves_nothing_behind(control, template):
    """A segregation-of-duties refusal while loading users comes after schema, role, tables and
    row exist in the transaction: all of them must be gone."""
    group = {
        "tenant": {"demo_password": "long-enough-password"},
        "units": [
            {"code": "HQ", "kind": "hq", "name": "HQ", "parent": None},
            {"code": "R1", "kind": "region", "name": "R1", "parent": "HQ"},
            {"code": "B1", "kind": "branch", "name": "B1", "parent": "R1"},
        ],
        "users": [
            {
                "login": "two.hats",
                "display_name": "Two Hats",
                "email": "two@hats.test",
                "roles": [
                    {"role": "branch_accountant", "unit": "R1"},
                    {"role": "cashier", "unit": "B1"},
                ],
            }
        ],
    }
    with pytest.raises(Conflict, match="segregation of duties"):
        service.provision_tenant(
            control, slug="halfway", name="Half", template=template, group=group
        )
    assert "t_halfway" not in _schemas(control)
    assert not _roles(control, "t_halfway")
    assert all(t.slug != "halfway" for t in service.list_tenants(control))


def test_concurrent_creates_of_one_slug_give_one_tenant_and_one_conflict(control, template):
    from concurrent.futures import ThreadPoolExecutor

    def create(_):
        try:
            service.provision_tenant(control, slug="racing", name="R", template=template)
            return "created"
        except Conflict:
            return "conflict"

    try:
        with ThreadPoolExecutor(4) as pool:
            outcomes = sorted(pool.map(create, range(4)))
        assert outcomes == ["conflict", "conflict", "conflict", "created"]
    finally:
        service.drop_tenant(control, "racing")


@pytest.mark.parametrize("name", ["", "   ", "x" * 201, "bad\x00name", "line\nbreak"])
def test_bad_tenant_names_are_refused_before_anything_is_written(control, template, name):
    with pytest.raises(InvalidInput):
        service.provision_tenant(control, slug="badname", name=name, template=template)
    assert service.find_tenant(control, "badname") is None
    assert "t_badname" not in _schemas(control)


def test_duplicate_slug_is_refused_and_the_first_tenant_kept(control, make_tenant, template):
    tenant = make_tenant(name="First")
    with pytest.raises(Conflict, match="already exists"):
        service.provision_tenant(control, slug=tenant.slug, name="Second", template=template)
    assert service.get_tenant(control, tenant.slug).name == "First"


def test_orphan_schema_blocks_provisioning_instead_of_being_reused(control, template):
    with control.begin() as connection:
        connection.execute(text('create schema "t_orphaned"'))
    try:
        with pytest.raises(Conflict, match="exists without a tenant row"):
            service.provision_tenant(control, slug="orphaned", name="O", template=template)
    finally:
        with control.begin() as connection:
            connection.execute(text('drop schema "t_orphaned"'))


def test_drop_removes_schema_role_and_row(control, make_tenant):
    tenant = make_tenant()
    service.drop_tenant(control, tenant.slug)
    assert tenant.schema_name not in _schemas(control)
    assert not _roles(control, tenant.schema_name)
    with pytest.raises(NotFound):
        service.get_tenant(control, tenant.slug)


def test_suspended_tenant_is_refused_and_resumes(control, make_tenant):
    from propgroup.errors import Forbidden

    tenant = make_tenant()
    service.set_status(control, tenant.slug, "suspended")
    with pytest.raises(Forbidden, match="suspended"):
        service.active_tenant(control, tenant.slug)
    service.set_status(control, tenant.slug, "active")
    assert service.active_tenant(control, tenant.slug).status == "active"
