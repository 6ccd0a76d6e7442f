"""Alembic environment for one tenant schema, for writing migrations by hand.

The application migrates tenants with ``propgroup tenants migrate``, which does not read this
file. Here the schema comes from ``-x schema=t_<slug>``; scripts carry no schema and reach the
tenant's tables through the transaction's search path.
"""

from alembic import context

from propgroup import models  # noqa: F401 - fills the metadata
from propgroup.config import get_settings
from propgroup.db import TenantBase, engine_for, set_local_search_path, translated, unqualified

schema = context.get_x_argument(as_dictionary=True).get("schema")
if not schema or not schema.startswith("t_"):
    raise SystemExit("pass the tenant schema: alembic -n tenant -x schema=t_<slug> …")

with engine_for(get_settings().database_url).begin() as connection:
    connection = translated(connection, schema)
    set_local_search_path(connection, schema)
    context.configure(
        connection=connection,
        target_metadata=unqualified(TenantBase.metadata),
        version_table_schema=schema,
        include_name=lambda name, type_, _: not (type_ == "table" and name == "alembic_version"),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
