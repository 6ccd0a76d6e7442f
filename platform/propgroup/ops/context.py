"""What a CLI command needs before it touches data: services up, settings read, engine made."""

from __future__ import annotations

from sqlalchemy import Engine, text

from propgroup.config import get_settings, instance_path
from propgroup.db import engine_for
from propgroup.embedded import ensure_services
from propgroup.errors import Unavailable


def control_engine(*, redis: bool = False, migrated: bool = True) -> Engine:
    """The control-plane engine; with ``migrated``, refuse clearly if it was never migrated."""
    ensure_services(instance_path(), redis=redis)
    engine = engine_for(get_settings().database_url)
    if migrated:
        with engine.connect() as connection:
            if connection.scalar(text("select to_regclass('public.tenants')")) is None:
                raise Unavailable(
                    "the control plane is not set up in this database: run `propgroup db upgrade`",
                    code="not_migrated",
                )
    return engine
