"""Health: ``/healthz`` says the process is up, ``/readyz`` that its database and Redis answer."""

from __future__ import annotations

from flask import Blueprint, jsonify
from redis import Redis
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from propgroup.config import get_settings
from propgroup.db import engine_for

blp = Blueprint("health", __name__)


@blp.get("/healthz")
def healthz():
    return jsonify(status="ok")


def _check_database() -> str:
    try:
        with engine_for(get_settings().database_url).connect() as connection:
            connection.execute(text("set local statement_timeout = 2000"))
            connection.execute(text("select 1"))
        return "ok"
    except SQLAlchemyError as exc:
        return f"error: {type(getattr(exc, 'orig', None) or exc).__name__}"


def _check_redis() -> str:
    url = get_settings().redis_url
    if not url:
        return "error: REDIS_URL is not set"
    try:
        client = Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        client.ping()
        client.close()
        return "ok"
    except Exception as exc:  # any failure means "not ready"; the type says which
        return f"error: {type(exc).__name__}"


@blp.get("/readyz")
def readyz():
    checks = {"database": _check_database(), "redis": _check_redis()}
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ready" if ready else "unavailable", checks=checks), 200 if ready else 503
