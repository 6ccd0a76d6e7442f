"""With DATABASE_URL and REDIS_URL unset, the embedded PostgreSQL and Redis are started and used."""

from __future__ import annotations

import os

import pytest
from redis import Redis
from sqlalchemy import create_engine, text

from propgroup import embedded
from propgroup.config import sqlalchemy_url


@pytest.fixture
def stop_embedded():
    """Stop what the test started while its folder still exists (pgserver would otherwise try at
    interpreter exit, after pytest removed the folder, and fall back to killing the server)."""
    yield
    for name in ("pg", "redis"):
        handle = embedded._handles.pop(name, None)
        if name == "pg" and handle is not None:
            handle.cleanup()
        elif handle is not None:
            handle.shutdown(nosave=True)


def test_embedded_postgres_and_redis_start_when_nothing_is_configured(
    tmp_path, monkeypatch, stop_embedded
):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    database_url = embedded.ensure_database(tmp_path / "instance")
    redis_url = embedded.ensure_redis(tmp_path / "instance")
    assert os.environ["DATABASE_URL"] == database_url
    engine = create_engine(sqlalchemy_url(database_url))
    with engine.connect() as connection:
        assert connection.scalar(text("select current_database()")) == embedded.DATABASE_NAME
    engine.dispose()
    assert Redis.from_url(redis_url).ping()
    # A second call reuses the same data folder instead of starting over.
    monkeypatch.delenv("DATABASE_URL")
    assert embedded.ensure_database(tmp_path / "instance") == database_url


def test_configured_urls_always_win(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://example/x")
    monkeypatch.setenv("REDIS_URL", "redis://example:6379/0")
    assert embedded.ensure_database(tmp_path) == "postgresql://example/x"
    assert embedded.ensure_redis(tmp_path) == "redis://example:6379/0"
    assert not (tmp_path / "pg").exists()
