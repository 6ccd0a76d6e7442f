"""Engines, declarative bases and sessions: the only place that knows how tenancy reaches SQL.

Tenant tables are declared once under the placeholder schema ``tenant``. A tenant session maps the
placeholder to ``t_<slug>`` with ``schema_translate_map`` (ORM and Core) and sets the search path
for the current transaction only (``text()`` SQL). A session without the map fails closed: the
``tenant`` schema does not exist.
"""

from __future__ import annotations

import threading
import time
from functools import lru_cache
from typing import TypeVar

import psycopg
from sqlalchemy import (
    Connection,
    Engine,
    MetaData,
    Numeric,
    column,
    create_engine,
    event,
    text,
)
from sqlalchemy import Row as SQLRow
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine.interfaces import BindTyping
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.sql import Select, TextClause
from sqlalchemy.sql.util import find_tables

from propgroup.config import sqlalchemy_url
from propgroup.errors import InvalidInput

TENANT_PLACEHOLDER = "tenant"
MONEY = Numeric(18, 2)  # every amount of money: exact, to the cent
BIGINT_MAX = 2**63 - 1  # ids beyond it are in no table (and would be a database error)
Row = TypeVar("Row")

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


def get_by_id(session: Session, model: type[Row], row_id: int, *, lock: bool = False) -> Row | None:
    """The row of ``model`` with that id (locked ``FOR UPDATE`` with ``lock``), or None: an id
    outside a bigint is in no table, and asking would be a database error."""
    return session.get(model, row_id, with_for_update=lock) if 0 < row_id <= BIGINT_MAX else None


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
                pool_timeout=10,
                connect_args={"connect_timeout": 10},  # a dead server is an error, not a hang
            )
            _ping_idle_connections(engine)
            _engines[url] = engine
        return engine


# A connection that sat in the pool longer than this is pinged before use, so one dropped while
# idle (server restart, PgBouncer or firewall idle timeout) is replaced instead of failing a
# request. One in steady use skips the round trip, which ``pool_pre_ping`` would pay on every
# checkout: a sixth of a short request's database time. A server lost under load fails the
# requests in flight either way; SQLAlchemy then invalidates the pool and they answer 503.
PING_AFTER_IDLE_SECONDS = 5.0


def _ping_idle_connections(engine: Engine) -> None:
    def note_checkin(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    def ping_if_idle(dbapi_connection, record, _proxy) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError("idle connection lost") from error  # the pool reconnects

    event.listen(engine, "checkin", note_checkin)
    event.listen(engine, "checkout", ping_if_idle)


def dispose_engines() -> None:
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()
    _translated_engine.cache_clear()


# The per-tenant database role: NOLOGIN, granted only on its own schema. Roles are cluster-wide, so
# the database's name is folded in to keep two databases on one server (dev, tests) apart.
TENANT_ROLE_SQL = "'tr_' || left(md5(current_database()), 8) || '_' || substr(:schema, 3)"


def set_local_search_path(connection: Connection, schema: str) -> None:
    """Search path for this transaction only; a session-level SET leaks across pooled conns."""
    connection.execute(
        text("select set_config('search_path', :path, true)"), {"path": f'"{schema}"'}
    )


_ENTER_TENANT_SQL = (
    f"select set_config('search_path', :path, true), set_config('role', {TENANT_ROLE_SQL}, true)"
)
_ENTER_TENANT = text(_ENTER_TENANT_SQL).columns(column("search_path"), column("role"))


def enter_tenant(connection: Connection, schema: str) -> None:
    """Until the transaction ends, act as the tenant's role with its schema on the search path.

    The role is what makes isolation hold for hand-written SQL too: another tenant's schema, or
    the control plane, is ``permission denied`` rather than merely absent from the search path.
    One text statement built once, so SQLAlchemy compiles it and describes its result once.
    """
    connection.execute(_ENTER_TENANT, {"path": f'"{schema}"', "schema": schema})


def translated(connection: Connection, schema: str) -> Connection:
    """ORM and Core statements on ``connection`` address ``schema`` instead of the placeholder."""
    return connection.execution_options(schema_translate_map={TENANT_PLACEHOLDER: schema})


def bind_tenant(connection: Connection, schema: str) -> Connection:
    """A connection whose ORM, Core and text() SQL all act inside ``schema`` as its role."""
    bound = translated(connection, schema)
    enter_tenant(bound, schema)
    return bound


@lru_cache(maxsize=4096)
def _translated_engine(engine: Engine, schema: str) -> Engine:
    # Kept, not rebuilt per request: the options engine is the same for every session.
    return engine.execution_options(schema_translate_map={TENANT_PLACEHOLDER: schema})


def tenant_session(engine: Engine, schema: str) -> Session:
    session = Session(bind=_translated_engine(engine, schema), expire_on_commit=False)
    session.info["tenant_schema"] = schema
    return session


@event.listens_for(Session, "after_begin")
def _enter_tenant_per_transaction(session: Session, _transaction, connection: Connection) -> None:
    schema = session.info.get("tenant_schema")
    if not schema:
        return
    companion = session.info.pop(_COMPANION, None)
    if companion is None:
        enter_tenant(connection, schema)
        return
    statement, params = companion
    entry = {"path": f'"{schema}"', "schema": schema}
    session.info[_COMPANION_ROW] = connection.execute(
        _entering_with(statement, schema), {**params, **entry}
    ).first()


# A read that opens a tenant transaction goes in the statement that enters the tenant: one round
# trip instead of two on every API call (the bearer token's check).
_COMPANION, _COMPANION_ROW = "propgroup.companion", "propgroup.companion_row"


# Renders ``:name`` parameters without casts, which text() reads back as its bind parameters.
_NAMED = postgresql.dialect(paramstyle="named")
_NAMED.bind_typing = BindTyping.NONE


@lru_cache(maxsize=4096)
def _entering_with(statement: Select, schema: str) -> TextClause:
    # Text with typed columns, one per schema: SQLAlchemy compiles it and reads its result's
    # columns once, where SQL sent to the driver would have its result described every time.
    if any(table.schema != TENANT_PLACEHOLDER for table in find_tables(statement)):
        # It runs before the tenant's role applies: only tenant tables, translated by name.
        raise ValueError("a read on entry names tenant tables only")
    companion = statement.compile(
        dialect=_NAMED,
        schema_translate_map={TENANT_PLACEHOLDER: schema},
        render_schema_translate=True,
    )
    return text(
        f"select companion.* from ({_ENTER_TENANT_SQL}) as entered "
        f"left join lateral ({companion}) as companion on true"
    ).columns(*(column(c.name, c.type) for c in statement.selected_columns))


def read_on_entry(session: Session, statement: Select, params: dict[str, object]) -> SQLRow | None:
    """The first row of ``statement``, read in the round trip that enters the tenant when it is
    the session's first; else an ordinary read. Its first column must be NOT NULL (None there
    means no row).

    It runs in the statement that sets the search path and the role, so under the login role:
    ``statement`` is built from the models, whose schema is translated to this tenant's by
    name, and it must take no table or schema from its parameters. Its SQL is read back as
    text, so it holds no literal ``:word`` (its values are parameters anyway).
    """
    if session.in_transaction() or not session.info.get("tenant_schema"):
        return session.connection().execute(statement, params).first()
    session.info[_COMPANION] = (statement, params)
    try:
        session.connection()
    finally:
        session.info.pop(_COMPANION, None)
    row = session.info.pop(_COMPANION_ROW)
    return None if row is None or row[0] is None else row


def undo(session: Session) -> None:
    """Undo the transaction of a request that failed or was refused: what it did must not stay.

    ROLLBACK does that, but psycopg also discards every statement it has prepared on the
    connection then (and sends DEALLOCATE ALL), so after each refusal PostgreSQL parses and
    plans the connection's statements afresh. A transaction PostgreSQL gave no transaction id
    changed no row and locked none: COMMIT ends it with the same effect and keeps them (a NOTIFY
    would still be delivered, and the application sends none). The session then forgets its own
    state as after a rollback (objects never flushed, queued audit events). Under the approvals
    race (a 409 for one request in six) the lost statements took a quarter of PostgreSQL's CPU.
    """
    transaction = session.get_transaction()
    if transaction is not None and transaction.is_active:
        connection = session.connection()
        driver = connection.connection.driver_connection
        if (
            driver.info.transaction_status == psycopg.pq.TransactionStatus.INTRANS
            and connection.exec_driver_sql(_WROTE_NOTHING).scalar()
        ):
            driver.commit()
    session.rollback()


_WROTE_NOTHING = "select pg_current_xact_id_if_assigned() is null"


# Text PostgreSQL cannot hold: the driver refuses NUL before sending (no SQLSTATE), the server a
# character its encoding lacks (22021) or a \u0000 escape in JSON (22P05).
_UNSTORABLE_TEXT = ("22021", "22P05")


def unstorable_text(error: BaseException) -> InvalidInput | None:
    """The client's error, when a statement failed on text no column can store (a NUL typed
    into any field): one check for every input, instead of a 500 wherever one was missed."""
    cause = getattr(error, "orig", None) or error
    if isinstance(cause, psycopg.DataError) and (
        "NUL" in str(cause) or cause.sqlstate in _UNSTORABLE_TEXT
    ):
        return InvalidInput("text may not contain NUL (0x00) characters", code="bad_character")
    return None
