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


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str
    storage_url: str
    secret_key: str
    base_domain: str | None
    instance_path: Path
    timezone: str = "Asia/Shanghai"


def sqlalchemy_url(url: str) -> str:
    """Pin the psycopg 3 driver whatever spelling of a PostgreSQL URL we were given."""
    for prefix in ("postgresql+psycopg2://", "postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    instance = Path(os.environ.get("PROPGROUP_INSTANCE", PROJECT_HOME / "instance")).resolve()
    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if not database_url or not redis_url:
        raise Unavailable(
            "DATABASE_URL and REDIS_URL must be set; `make run` starts embedded services "
            "and sets them, or use `propgroup` commands which start them on demand",
            code="not_configured",
        )
    return Settings(
        database_url=sqlalchemy_url(database_url),
        redis_url=redis_url,
        storage_url=os.environ.get("STORAGE_URL", (instance / "blobs").as_uri()),
        secret_key=os.environ.get("SECRET_KEY", "dev-only-secret-change-me"),
        base_domain=os.environ.get("BASE_DOMAIN") or None,
        instance_path=instance,
    )
