"""Calling a tenant's API in tests: a personal token per person, and a test client."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Engine, select

from propgroup.config import get_settings
from propgroup.db import tenant_session
from propgroup.identity import service as identity
from propgroup.identity.models import User
from propgroup.tenancy.models import Tenant


def personal_tokens(control: Engine, group: Tenant, scopes: Sequence[str]) -> dict[str, dict]:
    """An ``Authorization`` header for every person of the group, acting as themselves."""
    found = {}
    with tenant_session(control, group.schema_name) as session:
        for user in session.scalars(select(User)):
            _, token = identity.create_api_client(
                session,
                tenant_slug=group.slug,
                name=f"pat {user.login}",
                scopes=list(scopes),
                acting_user=user,
            )
            found[user.login] = {"Authorization": f"Bearer {token}"}
        session.commit()
    return found


def api_caller(group: Tenant, prefix: str) -> Callable[..., object]:
    """``call(method, path, who, base=None, **kwargs)`` against ``/t/<slug>/api<prefix><path>``
    (``base`` replaces prefix and path)."""
    get_settings.cache_clear()
    from propgroup.app import create_app

    client = create_app({"TESTING": True}).test_client()

    def call(method, path, who, base=None, **kwargs):
        return client.open(
            f"/t/{group.slug}/api{base or prefix + path}",
            method=method,
            headers={**who, **kwargs.pop("headers", {})},
            **kwargs,
        )

    return call
