"""What a CLI command needs before it touches data: services up, settings read, engine made."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine

from propgroup.config import PROJECT_HOME, get_settings
from propgroup.db import engine_for
from propgroup.embedded import ensure_services


def instance_path() -> Path:
    return Path(os.environ.get("PROPGROUP_INSTANCE", str(PROJECT_HOME / "instance"))).resolve()


def control_engine(*, redis: bool = False) -> Engine:
    ensure_services(instance_path(), redis=redis)
    return engine_for(get_settings().database_url)
