"""The demo group (tenants/demo.toml) provisioned under any slug, for tests and benchmarks."""

from __future__ import annotations

from sqlalchemy import Engine

from propgroup.config import PROJECT_HOME
from propgroup.tenancy import service as tenancy
from propgroup.tenancy.models import Tenant
from propgroup.tenancy.templates import load_group

DEMO_FILE = PROJECT_HOME / "tenants" / "demo.toml"


def provision_demo(engine: Engine, slug: str, name: str | None = None) -> Tenant:
    demo = load_group(DEMO_FILE)
    return tenancy.provision_tenant(
        engine,
        slug=slug,
        name=name or demo["tenant"]["name"],
        template=demo["template"],
        group=demo,
    )
