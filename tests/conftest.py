"""Session-wide real PostgreSQL and Redis, the control plane at head, and tenant factories."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from propgroup.config import PROJECT_HOME, get_settings
from propgroup.db import engine_for, tenant_session
from propgroup.tenancy import service
from propgroup.tenancy.migrate import upgrade_control_plane
from propgroup.tenancy.models import Tenant
from propgroup.tenancy.templates import load_template
from tests.support.databases import redis_url, server_url, stop_embedded, throwaway_database

TEMPLATE_PATH = PROJECT_HOME / "tenants" / "templates" / "commercial-property-cn.toml"


@pytest.fixture(scope="session")
def workdir() -> Iterator[Path]:
    """Embedded servers live outside pytest's numbered temp dirs, which a concurrent pytest
    session prunes (it keeps the newest three) while our server still runs there."""
    path = Path(tempfile.mkdtemp(prefix="propgroup-services-"))
    yield path
    stop_embedded()
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server(workdir: Path) -> str:
    return server_url(workdir)


@pytest.fixture(scope="session")
def database_url(pg_server: str, workdir: Path) -> Iterator[str]:
    """This session's own database, named in the environment so the app's settings find it."""
    with throwaway_database(pg_server) as url:
        saved = {key: os.environ.get(key) for key in ("DATABASE_URL", "REDIS_URL", "STORAGE_URL")}
        os.environ["DATABASE_URL"] = url
        os.environ["REDIS_URL"] = redis_url(workdir)
        os.environ["STORAGE_URL"] = (workdir / "blobs").as_uri()
        get_settings.cache_clear()
        yield url
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


@pytest.fixture(scope="session")
def control(database_url: str) -> Engine:
    engine = engine_for(database_url)
    upgrade_control_plane(engine)
    return engine


@pytest.fixture
def fresh_control(pg_server: str) -> Iterator[Engine]:
    """A database of its own for tests that act on *every* tenant (migrate)."""
    with throwaway_database(pg_server, prefix="pgmig") as url:
        engine = engine_for(url)
        upgrade_control_plane(engine)
        yield engine


@pytest.fixture(scope="session")
def template() -> dict[str, Any]:
    return load_template(TEMPLATE_PATH)


@pytest.fixture
def db(control: Engine, group: Tenant) -> Iterator[Session]:
    """A session of the module's ``group`` tenant; nothing it does is kept."""
    with tenant_session(control, group.schema_name) as session:
        yield session
        session.rollback()


_counter = iter(range(1, 1_000_000))


@pytest.fixture
def make_tenant(control: Engine, template: dict[str, Any]) -> Iterator[Callable[..., Tenant]]:
    """Factory: ``make_tenant(slug=None, name=None, group=None, engine=None)``; dropped after."""
    made: list[tuple[Engine, str]] = []

    def make(
        slug: str | None = None,
        name: str | None = None,
        group: dict[str, Any] | None = None,
        engine: Engine | None = None,
    ) -> Tenant:
        slug = slug or f"grp_{os.getpid()}_{next(_counter)}"
        engine = engine or control
        tenant = service.provision_tenant(
            engine, slug=slug, name=name or f"Group {slug}", template=template, group=group
        )
        made.append((engine, slug))
        return tenant

    yield make
    for engine, slug in made:
        if service.find_tenant(engine, slug) is not None:
            service.drop_tenant(engine, slug)
