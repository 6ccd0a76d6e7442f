"""Alembic environment for the control plane (schema ``public``).

Like the tenant tree, it compares unqualified tables under a transaction-local search path:
reflection reports foreign keys into the search path without a schema, so a qualified model
would show false differences.
"""

from alembic import context
from sqlalchemy import Connection

from propgroup import models  # noqa: F401 - fills the metadata
from propgroup.db import PublicBase, engine_for, set_local_search_path, unqualified

config = context.config


def include_name(name, type_, _parents):
    return not (type_ == "table" and name == "alembic_version")


def _run(connection: Connection) -> None:
    set_local_search_path(connection, "public")
    context.configure(
        connection=connection,
        target_metadata=unqualified(PublicBase.metadata),
        version_table_schema="public",
        include_name=include_name,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from propgroup.config import get_settings

    with engine_for(get_settings().database_url).begin() as connection:
        _run(connection)
