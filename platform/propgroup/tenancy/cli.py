"""``propgroup tenants …``: provision, list, suspend, resume, drop, migrate."""

from __future__ import annotations

import sys

import click

from propgroup.ops.context import control_engine
from propgroup.tenancy import service
from propgroup.tenancy.cells import DEFAULT_CELL
from propgroup.tenancy.migrate import MigrationOutcome, migrate_tenants
from propgroup.tenancy.slugs import validate_slug
from propgroup.tenancy.templates import load_template


@click.group()
def tenants() -> None:
    """Manage tenants (property groups)."""


@tenants.command("create")
@click.argument("slug")
@click.option("--name", required=True, help="The group's display name.")
@click.option(
    "--template",
    "template_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="A policy pack, e.g. tenants/templates/commercial-property-cn.toml.",
)
@click.option("--cell", default=DEFAULT_CELL, show_default=True)
def create(slug: str, name: str, template_path: str, cell: str) -> None:
    """Provision a tenant: schema, tables at head, template data; all or nothing."""
    validate_slug(slug)
    template = load_template(template_path)  # bad files are refused before any connection
    service.validate_name(name)
    tenant = service.provision_tenant(
        control_engine(), slug=slug, name=name, template=template, cell=cell
    )
    click.echo(f"created {tenant.slug} in schema {tenant.schema_name} at {tenant.schema_revision}")


@tenants.command("list")
def list_() -> None:
    """One line per tenant: slug, status, schema, revision, name."""
    for t in service.list_tenants(control_engine()):
        problem = (
            "  FAILED: " + t.last_migration_error.splitlines()[0] if t.last_migration_error else ""
        )
        click.echo(f"{t.slug}\t{t.status}\t{t.schema_name}\t{t.schema_revision}\t{t.name}{problem}")


@tenants.command("suspend")
@click.argument("slug")
def suspend(slug: str) -> None:
    """Refuse every request for the tenant (403) until resumed; data is kept."""
    service.set_status(control_engine(), slug, "suspended")
    click.echo(f"suspended {slug}")


@tenants.command("resume")
@click.argument("slug")
def resume(slug: str) -> None:
    service.set_status(control_engine(), slug, "active")
    click.echo(f"resumed {slug}")


@tenants.command("drop")
@click.argument("slug")
@click.option("--yes", is_flag=True, help="Confirm: the schema and all its data are deleted.")
def drop(slug: str, yes: bool) -> None:
    """Delete a tenant's schema and registry row. Irreversible."""
    if not yes:
        click.echo(f"error: dropping {slug} deletes all its data; repeat with --yes", err=True)
        sys.exit(2)
    service.drop_tenant(control_engine(), slug)
    click.echo(f"dropped {slug}")


@tenants.command("migrate")
@click.option(
    "--jobs",
    default=2,
    show_default=True,
    type=click.IntRange(1, 32),
    help="Tenants upgraded at once, each in its own process and transaction.",
)
def migrate(jobs: int) -> None:
    """Upgrade every tenant schema to head; failures are reported and do not stop the others."""
    engine = control_engine()

    def report(outcome: MigrationOutcome) -> None:
        if not outcome.ok:
            click.echo(f"FAILED {outcome.slug}: {outcome.error}", err=True)
        for note in outcome.notes:
            click.echo(f"{outcome.slug}: {note}")

    result = migrate_tenants(
        engine.url.render_as_string(hide_password=False), jobs=jobs, on_outcome=report
    )
    click.echo(
        f"head {result.head}: {len(result.upgraded)} upgraded, {result.at_head} already at head, "
        f"{len(result.failed)} failed"
    )
    if result.failed:
        sys.exit(1)
