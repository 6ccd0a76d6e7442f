"""``propgroup audit verify SLUG``."""

from __future__ import annotations

import sys

import click

from propgroup.audit.service import verify
from propgroup.ops.context import control_engine
from propgroup.tenancy import service as tenancy


@click.group()
def audit() -> None:
    """The audit trail."""


@audit.command("verify")
@click.argument("slug")
def verify_command(slug: str) -> None:
    """Check the tenant's audit hash chain; exit 1 naming the first bad row."""
    engine = control_engine()
    with tenancy.open_tenant_session(engine, tenancy.get_tenant(engine, slug)) as session:
        report = verify(session)
    if report.intact:
        click.echo(f"{slug}: audit chain intact, {report.checked} events")
        return
    click.echo(f"{slug}: audit row {report.first_bad_id} {report.reason}", err=True)
    sys.exit(1)
