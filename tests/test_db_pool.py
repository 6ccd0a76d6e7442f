"""The connection pool pings only connections that sat idle, and replaces one that died idle."""

from __future__ import annotations

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.exc import OperationalError

from propgroup import db


@pytest.fixture
def pool_engine(database_url):
    # A URL of its own gives this test a pool of its own (engine_for keeps one per URL).
    url = make_url(database_url).update_query_dict({"application_name": "pool-test"})
    engine = db.engine_for(url.render_as_string(hide_password=False), pool_size=1)
    yield engine
    engine.dispose()


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(text("select pg_backend_pid()"))


def _kill(control, pid: int) -> None:
    with control.connect() as connection:
        assert connection.scalar(text("select pg_terminate_backend(:pid)"), {"pid": pid})


def test_a_connection_that_died_while_idle_is_replaced_not_handed_out(
    pool_engine, control, monkeypatch
):
    first = _backend_pid(pool_engine)
    _kill(control, first)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 0.0)  # it has now been idle "long enough"
    assert _backend_pid(pool_engine) != first


def test_a_connection_in_steady_use_is_not_pinged(pool_engine, control, monkeypatch):
    """The trade-off, pinned: without the idle ping, a connection killed between two requests
    fails the next one (which the API answers 503) and the pool then reconnects."""
    first = _backend_pid(pool_engine)
    _kill(control, first)
    monkeypatch.setattr(db, "PING_AFTER_IDLE_SECONDS", 3600.0)
    with pytest.raises(OperationalError):
        _backend_pid(pool_engine)
    assert _backend_pid(pool_engine) != first
