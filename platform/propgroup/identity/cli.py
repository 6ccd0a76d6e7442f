"""``propgroup clients …``: partner API clients, managed by the platform operator;
``propgroup users …``: people leaving or losing a post (R-BNK-3 follows)."""

from __future__ import annotations

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from propgroup.audit.service import record
from propgroup.identity import service as identity
from propgroup.identity.models import User
from propgroup.identity.principals import Principal
from propgroup.ops.context import control_engine
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy

OPERATOR = Principal(kind="system", id=None, name="operator (cli)")


@click.group()
def clients() -> None:
    """Partner API clients of a tenant."""


@clients.command("create")
@click.argument("slug")
@click.option("--name", required=True)
@click.option("--scope", "scopes", multiple=True, required=True, help="Repeat for each scope.")
@click.option("--unit", "unit_code", help="Restrict the client to this unit's subtree.")
@click.option("--user", "login", help="A personal token: acts as this person, within the scopes.")
def create(
    slug: str, name: str, scopes: tuple[str, ...], unit_code: str | None, login: str | None
) -> None:
    """Create a client and print its token: it is shown this once and stored only hashed."""
    engine = control_engine()
    with tenancy.open_tenant_session(engine, tenancy.get_tenant(engine, slug)) as session:
        unit = org.get_unit_by_code(session, unit_code) if unit_code else None
        person = identity.user_by_login(session, login) if login else None
        client, token = identity.create_api_client(
            session, tenant_slug=slug, name=name, scopes=scopes, unit=unit, acting_user=person
        )
        record(
            session,
            OPERATOR,
            "clients.created",
            "api_client",
            client.client_id,
            after={"name": name, "scopes": client.scopes, "unit": unit_code, "user": login},
        )
        session.commit()
    click.echo(f"client {client.client_id} created; its token (shown once):\n{token}")


@clients.command("revoke")
@click.argument("slug")
@click.argument("client_id")
def revoke(slug: str, client_id: str) -> None:
    """Revoke a client; its token fails from the next request on."""
    engine = control_engine()
    with tenancy.open_tenant_session(engine, tenancy.get_tenant(engine, slug)) as session:
        identity.revoke_api_client(session, client_id)
        record(session, OPERATOR, "clients.revoked", "api_client", client_id)
        session.commit()
    click.echo(f"revoked {client_id}")


@click.group()
def users() -> None:
    """People of a tenant leaving or changing posts (what they kept is due for handover)."""


def _user(session: Session, login: str) -> User:
    user = session.scalar(select(User).where(User.login == login))
    if user is None:
        raise click.ClickException(f"no user {login!r}")
    return user


@users.command("deactivate")
@click.argument("slug")
@click.argument("login")
def deactivate(slug: str, login: str) -> None:
    """Someone left: they sign in no more; their seals and signatures get change requests."""
    engine = control_engine()
    with tenancy.open_tenant_session(engine, tenancy.get_tenant(engine, slug)) as session:
        identity.deactivate_user(session, OPERATOR, _user(session, login))
        session.commit()
    click.echo(f"deactivated {login}")


@users.command("remove-role")
@click.argument("slug")
@click.argument("login")
@click.argument("role")
@click.argument("unit_code")
def remove_role(slug: str, login: str, role: str, unit_code: str) -> None:
    """``login`` no longer holds ``role`` at ``unit_code``."""
    engine = control_engine()
    with tenancy.open_tenant_session(engine, tenancy.get_tenant(engine, slug)) as session:
        user = _user(session, login)
        identity.remove_role(
            session, OPERATOR, user, role, org.get_unit_by_code(session, unit_code)
        )
        session.commit()
    click.echo(f"{login} is no longer {role} at {unit_code}")
