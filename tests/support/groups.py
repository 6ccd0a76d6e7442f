"""The demo group (tenants/demo.toml) provisioned under any slug, for tests and benchmarks."""

from __future__ import annotations

from sqlalchemy import Engine

from propgroup.config import PROJECT_HOME
from propgroup.db import tenant_session
from propgroup.identity import service as identity
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from propgroup.tenancy.models import Tenant
from propgroup.tenancy.templates import load_group

DEMO_FILE = PROJECT_HOME / "tenants" / "demo.toml"
PASSWORD = "propgroup-demo-2026"
# Someone at branch SH-XTD who may raise requests there but is in none of its chains.
REQUESTER = {"qian.staff": [("department_head", "SH-XTD")]}


def provision_demo(
    engine: Engine,
    slug: str,
    name: str | None = None,
    people: dict[str, list[tuple[str, str]]] | None = None,
) -> Tenant:
    """The demo group, plus ``people``: login → [(role, unit code)], all with PASSWORD."""
    demo = load_group(DEMO_FILE)
    tenant = tenancy.provision_tenant(
        engine,
        slug=slug,
        name=name or demo["tenant"]["name"],
        template=demo["template"],
        group=demo,
    )
    with tenant_session(engine, tenant.schema_name) as session:
        for login, grants in (people or {}).items():
            user = identity.create_user(
                session, login=login, display_name=login, email=f"{login}@x.test", password=PASSWORD
            )
            for role, code in grants:
                identity.assign_role(session, user, role, org.get_unit_by_code(session, code))
        session.commit()
    return tenant
