"""Alembic for the two trees: ``public`` (control plane) and ``tenant`` (every tenant schema).

Tenant migrations are written without a schema and run with the transaction's search path set to
the tenant schema, so one script serves every tenant. The runner drives Alembic's MigrationContext
directly (no env.py per schema) and runs tenants in worker *processes*: Alembic's ``op`` is a
module-level proxy, so two migrations in one process at once would cross their wires.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

from alembic import command
from alembic.config import Config
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, func, select, text, update

from propgroup import models as _all_models  # noqa: F401 - complete metadata for create_all
from propgroup.config import PROJECT_HOME
from propgroup.db import (
    TenantBase,
    engine_for,
    set_local_search_path,
    translated,
)
from propgroup.errors import Conflict
from propgroup.tenancy.models import Tenant

TREES = ("public", "tenant")


def alembic_config(tree: str, extra_locations: Sequence[str] = ()) -> Config:
    config = Config(str(PROJECT_HOME / "alembic.ini"), ini_section=tree)
    if extra_locations:
        # Extra folders add revisions on top of the tree (used by the migration tests and bench).
        locations = [str(PROJECT_HOME / "migrations" / tree / "versions"), *extra_locations]
        config.set_section_option(tree, "version_locations", " ".join(locations))
        config.set_section_option(tree, "path_separator", "space")
    return config


@lru_cache(maxsize=8)
def script_directory(tree: str, extra_locations: tuple[str, ...] = ()) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(tree, extra_locations))


def single_head(script: ScriptDirectory) -> str:
    heads = script.get_heads()
    if len(heads) != 1:
        raise Conflict(f"migration tree has {len(heads)} heads: {heads}", code="multiple_heads")
    return heads[0]


def upgrade_control_plane(engine: Engine) -> None:
    config = alembic_config("public")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def _context(connection: Connection, schema: str, **opts: object) -> MigrationContext:
    return MigrationContext.configure(
        connection, opts={"version_table_schema": schema, "transactional_ddl": True, **opts}
    )


def create_tenant_tables(connection: Connection, schema: str, script: ScriptDirectory) -> str:
    """Fresh schema straight to head: create the tables from the models, then stamp the head."""
    bound = translated(connection, schema)
    set_local_search_path(bound, schema)
    TenantBase.metadata.create_all(bound, checkfirst=False)
    head = single_head(script)
    _context(bound, schema).stamp(script, head)
    return head


def upgrade_tenant_schema(
    connection: Connection, schema: str, script: ScriptDirectory, destination: str = "heads"
) -> str | None:
    """Upgrade one schema inside the caller's transaction; returns the revision it ends at."""
    connection.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(schema, 0))))
    # Migrations run as the schema's owner (the login role), not as the tenant role.
    bound = translated(connection, schema)
    set_local_search_path(bound, schema)

    def steps(revision: tuple[str, ...], _context: MigrationContext) -> list:
        return script._upgrade_revs(destination, revision)

    context = _context(bound, schema, fn=steps, script=script)
    with Operations.context(context):
        context.run_migrations()
    return context.get_current_revision()


@dataclass(frozen=True)
class MigrationOutcome:
    slug: str
    revision: str | None
    error: str | None = None
    notes: tuple[str, ...] = ()  # template data the group was completed with

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class MigrationReport:
    head: str
    upgraded: list[MigrationOutcome]
    failed: list[MigrationOutcome]
    at_head: int


def tenants_behind(engine: Engine, head: str) -> list[tuple[str, str, str, str]]:
    """(slug, schema, cell, template) of each tenant not recorded at head: one query for any
    number."""
    with engine.connect() as connection:
        rows = connection.execute(
            select(Tenant.slug, Tenant.schema_name, Tenant.cell_name, Tenant.template)
            .where(Tenant.schema_revision.is_distinct_from(head))
            .order_by(Tenant.slug)
        )
        return [tuple(row) for row in rows]


def _record(engine: Engine, outcome: MigrationOutcome) -> None:
    values: dict[str, object] = {"last_migration_error": outcome.error, "migrated_at": func.now()}
    if outcome.ok:
        values["schema_revision"] = outcome.revision
    with engine.begin() as connection:
        connection.execute(update(Tenant).where(Tenant.slug == outcome.slug).values(**values))


# State of a worker process, set once by _init_worker.
_worker: dict[str, object] = {}


def _init_worker(database_url: str, extra_locations: tuple[str, ...]) -> None:
    _worker["engine"] = engine_for(database_url, pool_size=1)
    _worker["script"] = script_directory("tenant", extra_locations)


def _migrate_one(slug: str, schema: str, cell: str, template: str) -> MigrationOutcome:
    from propgroup.tenancy.cells import cell_engine
    from propgroup.tenancy.service import complete_tenant  # it builds on this module

    control: Engine = _worker["engine"]  # type: ignore[assignment]
    script: ScriptDirectory = _worker["script"]  # type: ignore[assignment]
    try:
        with cell_engine(control, cell).begin() as connection:
            revision = upgrade_tenant_schema(connection, schema, script)
            # A group provisioned before a capability gets that capability's template data
            # (budgets' chart and approval rules), in the upgrade's transaction.
            notes = complete_tenant(connection, schema, template)
            outcome = MigrationOutcome(slug, revision, notes=tuple(notes))
    except Exception as exc:
        outcome = MigrationOutcome(slug, None, f"{type(exc).__name__}: {exc}".strip()[:2000])
    _record(control, outcome)
    return outcome


def migrate_tenants(
    database_url: str,
    *,
    jobs: int = 2,
    extra_locations: Sequence[str] = (),
    on_outcome: Callable[[MigrationOutcome], None] | None = None,
) -> MigrationReport:
    """Upgrade every tenant that is behind; each in its own transaction, ``jobs`` at a time."""
    extra = tuple(extra_locations)
    head = single_head(script_directory("tenant", extra))
    engine = engine_for(database_url)
    total = _count_tenants(engine)
    behind = tenants_behind(engine, head)
    outcomes: Iterable[MigrationOutcome]
    if jobs <= 1 or len(behind) <= 1:
        _init_worker(database_url, extra)
        outcomes = (_migrate_one(*row) for row in behind)
        return _collect(head, outcomes, total - len(behind), on_outcome)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=context,
        initializer=_init_worker,
        initargs=(database_url, extra),
    ) as pool:
        outcomes = pool.map(_migrate_one, *zip(*behind, strict=True), chunksize=8)
        return _collect(head, outcomes, total - len(behind), on_outcome)


def _count_tenants(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(Tenant)) or 0


def _collect(
    head: str,
    outcomes: Iterable[MigrationOutcome],
    at_head: int,
    on_outcome: Callable[[MigrationOutcome], None] | None,
) -> MigrationReport:
    upgraded: list[MigrationOutcome] = []
    failed: list[MigrationOutcome] = []
    for outcome in outcomes:
        (upgraded if outcome.ok else failed).append(outcome)
        if on_outcome:
            on_outcome(outcome)
    return MigrationReport(head, upgraded, failed, at_head)


def schema_exists(connection: Connection, schema: str) -> bool:
    return bool(
        connection.scalar(
            text("select 1 from pg_namespace where nspname = :schema"), {"schema": schema}
        )
    )
