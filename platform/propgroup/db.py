"""Engines, declarative bases and sessions: the only place that knows how tenancy reaches SQL.

Tenant tables are declared once under the placeholder schema ``tenant``. A tenant session maps the
placeholder to ``t_<slug>`` with ``schema_translate_map`` (ORM and Core) and sets the search path
for the current transaction only (``text()`` SQL). A session without the map fails closed: the
``tenant`` schema does not exist.
"""

from __future__ import annotations

import threading

from sqlalchemy import Connection, Engine, MetaData, create_engine, event, text
from sqlalchemy.orm import DeclarativeBase, Session

from propgroup.config import sqlalchemy_url

TENANT_PLACEHOLDER = "tenant"

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class PublicBase(DeclarativeBase):
    """Control-plane tables (schema ``public``)."""

    metadata = MetaData(schema="public", naming_convention=NAMING_CONVENTION)


class TenantBase(DeclarativeBase):
    """Tables that exist once per tenant schema."""

    metadata = MetaData(schema=TENANT_PLACEHOLDER, naming_convention=NAMING_CONVENTION)


def unqualified(metadata: MetaData) -> MetaData:
    """The same tables without a schema, as migrations see them through the search path."""
    copy = MetaData(naming_convention=NAMING_CONVENTION)
    for table in metadata.sorted_tables:
        table.to_metadata(copy, schema=None)
    return copy


_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def engine_for(url: str, *, pool_size: int = 5) -> Engine:
    """One engine (one pool) per database URL per process."""
    url = sqlalchemy_url(url)
    with _engines_lock:
        engine = _engines.get(url)
        if engine is None:
            engine = create_engine(
                url,
                pool_size=pool_size,
                max_overflow=10,
                pool_pre_ping=True,
                pool_timeout=10,
                connect_args={"connect_timeout": 10},  # a dead server is an error, not a hang
            )
            _engines[url] = engine
        return engine


def dispose_engines() -> None:
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


# The per-tenant database role: NOLOGIN, granted only on its own schema. Roles are cluster-wide, so
# the database's name is folded in to keep two databases on one server (dev, tests) apart.
TENANT_ROLE_SQL = "'tr_' || left(md5(current_database()), 8) || '_' || substr(:schema, 3)"


def set_local_search_path(connection: Connection, schema: str) -> None:
    """Search path for this transaction only; a session-level SET leaks across pooled conns."""
    connection.execute(
        text("select set_config('search_path', :path, true)"), {"path": f'"{schema}"'}
    )


def enter_tenant(connection: Connection, schema: str) -> None:
    """Until the transaction ends, act as the tenant's role with its schema on the search path.

    The role is what makes isolation hold for hand-written SQL too: another tenant's schema, or
    the control plane, is ``permission denied`` rather than merely absent from the search path.
    """
    connection.execute(
        text(
            "select set_config('search_path', :path, true), "
            f"set_config('role', {TENANT_ROLE_SQL}, true)"
        ),
        {"path": f'"{schema}"', "schema": schema},
    )


def translated(connection: Connection, schema: str) -> Connection:
    """ORM and Core statements on ``connection`` address ``schema`` instead of the placeholder."""
    return connection.execution_options(schema_translate_map={TENANT_PLACEHOLDER: schema})


def bind_tenant(connection: Connection, schema: str) -> Connection:
    """A connection whose ORM, Core and text() SQL all act inside ``schema`` as its role."""
    bound = translated(connection, schema)
    enter_tenant(bound, schema)
    return bound


def tenant_session(engine: Engine, schema: str) -> Session:
    bound = engine.execution_options(schema_translate_map={TENANT_PLACEHOLDER: schema})
    session = Session(bind=bound, expire_on_commit=False)
    session.info["tenant_schema"] = schema
    return session


@event.listens_for(Session, "after_begin")
def _enter_tenant_per_transaction(session: Session, _transaction, connection: Connection) -> None:
    schema = session.info.get("tenant_schema")
    if schema:
        enter_tenant(connection, schema)
