"""Settings read from the environment once per process."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from propgroup.errors import Unavailable


def _project_home() -> Path:
    """Where alembic.ini, migrations/ and tenants/ are: the checkout, or the image's workdir."""
    if "PROPGROUP_HOME" in os.environ:
        return Path(os.environ["PROPGROUP_HOME"]).resolve()
    checkout = Path(__file__).resolve().parents[2]
    return checkout if (checkout / "alembic.ini").exists() else Path.cwd()


PROJECT_HOME = _project_home()


DEV_SECRET = "dev-only-secret-change-me"  # noqa: S105 - the marker of an unset SECRET_KEY


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str | None
    storage_url: str
    secret_key: str
    base_domain: str | None


def sqlalchemy_url(url: str) -> str:
    """Pin the psycopg 3 driver whatever spelling of a PostgreSQL URL we were given."""
    for prefix in ("postgresql+psycopg2://", "postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_path() -> Path:
    """Local state of ``make run``: embedded databases, blobs, outgoing mail."""
    return Path(os.environ.get("PROPGROUP_INSTANCE", PROJECT_HOME / "instance")).resolve()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    database_url = os.environ.get("DATABASE_URL")
    if not database_url:
        raise Unavailable(
            "DATABASE_URL is not set; `make run` and the `propgroup` commands start an embedded "
            "database when it is unset",
            code="not_configured",
        )
    return Settings(
        database_url=sqlalchemy_url(database_url),
        redis_url=os.environ.get("REDIS_URL") or None,
        storage_url=os.environ.get("STORAGE_URL", (instance_path() / "blobs").as_uri()),
        secret_key=os.environ.get("SECRET_KEY", DEV_SECRET),
        base_domain=os.environ.get("BASE_DOMAIN") or None,
    )


def require_redis_url() -> str:
    url = get_settings().redis_url
    if not url:
        raise Unavailable("REDIS_URL is not set", code="not_configured")
    return url
