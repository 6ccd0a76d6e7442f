"""Alembic environment for the control plane (schema ``public``)."""

from alembic import context
from sqlalchemy import Connection

from propgroup import models  # noqa: F401 - fills the metadata
from propgroup.db import PublicBase, engine_for

config = context.config


def _include(name, type_, parent_names):
    if type_ == "schema":
        return name in (None, "public")
    return not (type_ == "table" and name == "alembic_version")


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=PublicBase.metadata,
        version_table_schema="public",
        include_schemas=True,
        include_name=_include,
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
