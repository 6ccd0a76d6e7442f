"""Tenant lifecycle: provision from a template (all or nothing), list, suspend, resume, drop."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from propgroup.approvals import service as approvals
from propgroup.approvals.policy import stored_form
from propgroup.archives.schedule import install_missing_classes, install_schedule
from propgroup.audit.service import write_pending
from propgroup.budgets.categories import install_chart, install_missing_chart
from propgroup.db import bind_tenant, tenant_session
from propgroup.errors import Conflict, Forbidden, InvalidInput, NotFound
from propgroup.identity import service as identity
from propgroup.org import service as org
from propgroup.tenancy.cells import DEFAULT_CELL, cell_engine, resolve_cell_url
from propgroup.tenancy.isolation import (
    create_walled_schema,
    drop_walled_schema,
    restrict_special_tables,
)
from propgroup.tenancy.migrate import create_tenant_tables, schema_exists, script_directory
from propgroup.tenancy.models import Tenant
from propgroup.tenancy.settings import store_settings, zone_named
from propgroup.tenancy.slugs import schema_for
from propgroup.tenancy.templates import template_named


def template_ref(template: dict[str, Any]) -> str:
    info = template["template"]
    return f"{info['code']}@{info['version']}"


def provision_tenant(
    control: Engine,
    *,
    slug: str,
    name: str,
    template: dict[str, Any],
    group: dict[str, Any] | None = None,
    cell: str = DEFAULT_CELL,
) -> Tenant:
    """Create the tenant row, its role and schema, tables at head and starting data in one go.

    Everything happens in one transaction of the control-plane database (the default cell), so
    any failure leaves no schema, no role and no row.
    """
    schema = schema_for(slug)
    name = validate_name(name)
    # Checked before anything is written, also for a template that skipped load_template.
    zone_named(template["template"]["timezone"])
    if resolve_cell_url(control, cell) is not None:
        raise Conflict("provisioning into another cell is not supported yet", code="cell_remote")
    with control.begin() as connection:
        # Two creates of one slug queue here; the second then finds the first's row.
        connection.execute(
            select(func.pg_advisory_xact_lock(func.hashtextextended("tenant:" + slug, 0)))
        )
        _refuse_taken(connection, slug, schema)
        tenant = Tenant(
            slug=slug,
            name=name,
            schema_name=schema,
            cell_name=cell,
            template=template_ref(template),
            status="active",
        )
        create_walled_schema(connection, schema)
        script = script_directory("tenant")
        tenant.schema_revision = create_tenant_tables(connection, schema, script)
        restrict_special_tables(connection, schema)
        _insert_tenant_row(connection, tenant)
        # Starting data goes in as the tenant role, so a missing grant fails provisioning.
        with Session(bind=bind_tenant(connection, schema)) as session:
            load_group_data(session, name=name, template=template, group=group)
    return tenant


def validate_name(name: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 200 or any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise InvalidInput(
            "a tenant name is 1-200 printable characters",
            code="bad_name",
            errors={"name": [name[:60]]},
        )
    return name


def _refuse_taken(connection: Connection, slug: str, schema: str) -> None:
    if connection.scalar(select(Tenant.id).where(Tenant.slug == slug)):
        raise Conflict(f"tenant {slug!r} already exists", code="duplicate_slug")
    if schema_exists(connection, schema):
        raise Conflict(
            f"schema {schema} exists without a tenant row; inspect it before reusing the slug",
            code="orphan_schema",
        )


def _insert_tenant_row(connection: Connection, tenant: Tenant) -> None:
    with Session(bind=connection) as session:
        session.add(tenant)
        try:
            session.flush()
        except IntegrityError as exc:  # a concurrent create of the same slug won the race
            raise Conflict(f"tenant {tenant.slug!r} already exists", code="duplicate_slug") from exc
        session.expunge(tenant)


def load_group_data(
    session: Session, *, name: str, template: dict[str, Any], group: dict[str, Any] | None
) -> None:
    """Settings, units (each non-department unit gets the template's departments, R-ORG-1),
    users, roles."""
    store_settings(
        session,
        timezone=template["template"]["timezone"],
        archive_lock_mode=template["archives"]["lock_mode"],
    )
    units = (group or {}).get("units") or [
        {"code": "HQ", "kind": "hq", "name": name, "parent": None}
    ]
    by_code: dict[str, Any] = {}
    for spec in _parents_first(units):
        parent = by_code.get(spec["parent"]) if spec["parent"] else None
        unit = org.create_unit(
            session, code=spec["code"], kind=spec["kind"], name=spec["name"], parent=parent
        )
        by_code[unit.code] = unit
        if unit.kind != "department":
            for department in template["departments"]:
                by_code[f"{unit.code}-{department['code']}"] = org.create_unit(
                    session,
                    code=f"{unit.code}-{department['code']}",
                    kind="department",
                    name=department["name"],
                    parent=unit,
                )
    install_chart(session, template["budgets"]["categories"])
    install_schedule(session, template["archives"]["retention"])
    if template.get("approvals"):
        approvals.install_policy(
            session, stored_form(template["approvals"]), note="from the template"
        )
    password = (group or {}).get("tenant", {}).get("demo_password")
    for spec in (group or {}).get("users", []):
        user = identity.create_user(
            session,
            login=spec["login"],
            display_name=spec["display_name"],
            email=spec["email"],
            password=password,
        )
        for grant in spec["roles"]:
            identity.assign_role(session, user, grant["role"], by_code[grant["unit"]])
    # Provisioning commits on the connection, not through this session: write the audit now.
    write_pending(session)
    session.flush()


def complete_tenant(connection: Connection, schema: str, reference: str) -> list[str]:
    """After an upgrade, in its transaction: what the group lacks of its template (see
    ``complete_group_data``), written as the tenant role. Notes on what was done, for the log."""
    template = template_named(reference)
    if template is None:
        return [f"template {reference} is not in tenants/templates: nothing completed"]
    with Session(bind=bind_tenant(connection, schema)) as session:
        added = complete_group_data(session, template)
        write_pending(session)  # the caller commits on the connection, not through the session
        session.flush()
    return [f"added {what} from {reference}" for what in added]


def complete_group_data(session: Session, template: dict[str, Any]) -> list[str]:
    """Template data a group provisioned before a capability existed has not got: the chart
    of budget categories when it has none, retention classes its schedule lacks, approval rules
    for request types its policy never had. Adds nothing the second time, nor over what the
    group has set up itself."""
    added = []
    if install_missing_chart(session, template["budgets"]["categories"]):
        added.append("the chart of budget categories")
    classes = install_missing_classes(session, template["archives"]["retention"])
    added += [f"the {code} retention class" for code in classes]
    if template.get("approvals"):
        types = approvals.adopt_request_types(session, template["approvals"])
        added += [f"the {request_type} approval rules" for request_type in types]
    return added


def _parents_first(units: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    placed: set[str] = set()
    ordered: list[dict[str, Any]] = []
    pending = list(units)
    while pending:
        ready = [u for u in pending if u["parent"] is None or u["parent"] in placed]
        if not ready:
            raise Conflict("unit parents form a cycle", code="cycle")
        for unit in ready:
            ordered.append(unit)
            placed.add(unit["code"])
        pending = [u for u in pending if u["code"] not in placed]
    return ordered


def list_tenants(control: Engine) -> list[Tenant]:
    with Session(bind=control) as session:
        return list(session.scalars(select(Tenant).order_by(Tenant.slug)))


def find_tenant(control: Engine, slug: str) -> Tenant | None:
    with Session(bind=control) as session:
        return session.scalar(select(Tenant).where(Tenant.slug == slug))


def get_tenant(control: Engine, slug: str) -> Tenant:
    tenant = find_tenant(control, slug)
    if tenant is None:
        raise NotFound(f"tenant {slug!r} does not exist", code="unknown_tenant")
    return tenant


def usable_tenant(slug: str, tenant: Tenant | None) -> Tenant:
    """The tenant a request may use: unknown is 404, suspended is 403, never a fallback."""
    if tenant is None:
        raise NotFound(f"tenant {slug!r} does not exist", code="unknown_tenant")
    if tenant.status != "active":
        raise Forbidden(f"tenant {slug!r} is suspended", code="tenant_suspended")
    return tenant


def active_tenant(control: Engine, slug: str) -> Tenant:
    return usable_tenant(slug, find_tenant(control, slug))


def set_status(control: Engine, slug: str, status: str) -> Tenant:
    get_tenant(control, slug)
    with control.begin() as connection:
        connection.execute(update(Tenant).where(Tenant.slug == slug).values(status=status))
    return get_tenant(control, slug)


def drop_tenant(control: Engine, slug: str) -> None:
    """Delete the schema and the row together; there is no undo."""
    tenant = get_tenant(control, slug)
    with control.begin() as connection:
        drop_walled_schema(connection, tenant.schema_name)
        connection.execute(Tenant.__table__.delete().where(Tenant.slug == slug))


@contextmanager
def open_tenant_session(control: Engine, tenant: Tenant) -> Iterator[Session]:
    """A session bound to the tenant's schema in its cell; the caller commits."""
    session = tenant_session(cell_engine(control, tenant.cell_name), tenant.schema_name)
    try:
        yield session
    finally:
        session.close()
