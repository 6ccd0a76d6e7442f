"""DDL that walls a tenant in: its schema, its NOLOGIN role, and the grants between them.

The login role owns every schema and runs migrations; the tenant role may only read and write
rows of its own schema. Grants for tables created later come from default privileges, so new
migrations need no grant statements of their own.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from propgroup.db import TENANT_ROLE_SQL


def tenant_role(connection: Connection, schema: str) -> str:
    return connection.scalar(text(f"select {TENANT_ROLE_SQL}"), {"schema": schema})


def _role_exists(connection: Connection, role: str) -> bool:
    return bool(connection.scalar(text("select 1 from pg_roles where rolname = :r"), {"r": role}))


def create_walled_schema(connection: Connection, schema: str) -> str:
    """Create ``schema`` and its role in the caller's transaction; returns the role name."""
    role = tenant_role(connection, schema)
    if not _role_exists(connection, role):
        connection.execute(text(f'create role "{role}" nologin noinherit'))
    # Lets a login role without superuser switch into the tenant role.
    connection.execute(text(f'grant "{role}" to current_user'))
    connection.execute(text(f'create schema "{schema}"'))
    connection.execute(text(f'grant usage on schema "{schema}" to "{role}"'))
    connection.execute(
        text(
            f'alter default privileges in schema "{schema}" '
            f'grant select, insert, update, delete on tables to "{role}"'
        )
    )
    connection.execute(
        text(
            f'alter default privileges in schema "{schema}" '
            f'grant usage, select, update on sequences to "{role}"'
        )
    )
    return role


# Tables the tenant role may only append to and read: the revision is the migrations' business,
# and audit rows are never changed by the application (issue: grant, not just convention).
APPEND_ONLY_TABLES = ("audit_events",)


# Audit rows are append-only for the owner too (mirrors migration t0005; runs with the tenant
# schema on the search path).
APPEND_ONLY_AUDIT = """
create function audit_events_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'audit events are append-only' using errcode = 'insufficient_privilege';
end $$;
create trigger audit_events_no_change before update or delete on audit_events
    for each row execute function audit_events_append_only();
create trigger audit_events_no_truncate before truncate on audit_events
    for each statement execute function audit_events_append_only();
"""


def restrict_special_tables(connection: Connection, schema: str) -> None:
    connection.execute(text(APPEND_ONLY_AUDIT))
    role = tenant_role(connection, schema)
    connection.execute(text(f'revoke all on "{schema}".alembic_version from "{role}"'))
    for table in APPEND_ONLY_TABLES:
        connection.execute(
            text(f'revoke update, delete, truncate on "{schema}"."{table}" from "{role}"')
        )


def drop_walled_schema(connection: Connection, schema: str) -> None:
    role = tenant_role(connection, schema)
    connection.execute(text(f'drop schema if exists "{schema}" cascade'))
    if _role_exists(connection, role):
        connection.execute(text(f'drop owned by "{role}"'))
        connection.execute(text(f'drop role "{role}"'))
