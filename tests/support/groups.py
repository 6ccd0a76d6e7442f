"""The demo group (tenants/demo.toml) provisioned under any slug, for tests and benchmarks."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from propgroup.approvals import service as approvals
from propgroup.approvals.models import ApprovalRequest
from propgroup.config import PROJECT_HOME
from propgroup.db import tenant_session
from propgroup.identity import service as identity
from propgroup.identity.models import User
from propgroup.identity.principals import Principal
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from propgroup.tenancy.models import Tenant
from propgroup.tenancy.templates import load_group

DEMO_FILE = PROJECT_HOME / "tenants" / "demo.toml"
PASSWORD = "propgroup-demo-2026"
# Someone at branch SH-XTD who may raise requests there but is in none of its chains.
REQUESTER = {"qian.staff": [("department_head", "SH-XTD")]}


def demo_today() -> date:
    """Today in the demo group, whose template names Asia/Shanghai."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def provision_demo(
    engine: Engine,
    slug: str,
    name: str | None = None,
    people: dict[str, list[tuple[str, str]]] | None = None,
    timezone: str | None = None,
) -> Tenant:
    """The demo group, plus ``people``: login → [(role, unit code)], all with PASSWORD; in
    ``timezone`` instead of its template's."""
    demo = load_group(DEMO_FILE)
    if timezone:
        demo["template"]["template"]["timezone"] = timezone
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


def person(session: Session, login: str) -> Principal:
    return identity.user_principal(session.scalar(select(User).where(User.login == login)))


def raise_request(
    session: Session,
    requester: str,
    unit: str,
    *,
    amount: str = "100.00",
    request_type: str = "expense_claim",
    **content: object,
) -> ApprovalRequest:
    """A draft of one line by ``requester`` at the unit with code ``unit``."""
    return approvals.create_request(
        session,
        person(session, requester),
        request_type=request_type,
        unit_id=org.get_unit_by_code(session, unit).id,
        title="t",
        payee="p",
        lines=[{"category": "c", "description": "d", "amount": amount}],
        **content,
    )
