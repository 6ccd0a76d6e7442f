"""The ``propgroup`` command: serve, db, tenants, demo, worker.

Every refusal is a non-zero exit with the reason on stderr; nothing is half-written because each
command's writes sit in one transaction in the service it calls.
"""

from __future__ import annotations

import sys
from typing import Any

import click
from sqlalchemy.exc import DataError, OperationalError

from propgroup.errors import DomainError


class Commands(click.Group):
    """Turns domain refusals and an unreachable database into a clear message and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DomainError as exc:
            click.echo(f"error: {exc.message}", err=True)
            sys.exit(2)
        except DataError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            click.echo(f"error: a value does not fit: {reason}", err=True)
            sys.exit(2)
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            click.echo(f"error: cannot reach the database: {reason}", err=True)
            sys.exit(2)


@click.group(cls=Commands)
def main() -> None:
    """PropGroup platform commands."""


def _register() -> None:
    from propgroup.audit.cli import audit
    from propgroup.identity.cli import clients, users
    from propgroup.ops.cli import db, demo, relay, scheduler, serve, worker
    from propgroup.tenancy.cli import tenants

    for command in (serve, db, demo, worker, relay, scheduler, tenants, audit, clients, users):
        main.add_command(command)


_register()
