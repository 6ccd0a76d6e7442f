"""Jobs through the outbox: a request that enqueues succeeds with Redis down; the relay delivers
each message exactly once; the worker runs it inside its tenant; failures retry, then show."""

from __future__ import annotations

import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Queue, Retry, SimpleWorker
from sqlalchemy import select, text

from propgroup.audit.models import AuditEvent
from propgroup.audit.service import record
from propgroup.config import get_settings
from propgroup.db import tenant_session
from propgroup.identity import service as identity
from propgroup.identity.principals import SYSTEM
from propgroup.jobs import relay
from propgroup.jobs.models import OutboxMessage
from propgroup.jobs.registry import tenant_job
from propgroup.jobs.service import enqueue

REFUSED = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused


@tenant_job("test.note_in_audit")
def note_in_audit(session, *, note: str) -> None:
    record(session, SYSTEM, "test.job_ran", "job", after={"note": note})


@tenant_job("test.always_fails")
def always_fails(session) -> None:
    raise RuntimeError("the job failed on purpose")


@pytest.fixture
def redis(database_url):
    connection = Redis.from_url(get_settings().redis_url)
    Queue("default", connection=connection).empty()
    yield connection
    Queue("default", connection=connection).empty()


def _status(control, tenant, message_id):
    with tenant_session(control, tenant.schema_name) as session:
        return session.get(OutboxMessage, message_id)


def _work(redis):
    SimpleWorker([Queue("default", connection=redis)], connection=redis).work(burst=True)


def test_request_enqueueing_a_job_succeeds_while_redis_is_down(
    control, make_tenant, monkeypatch, redis
):
    tenant = make_tenant()
    with tenant_session(control, tenant.schema_name) as session:
        _, token = identity.create_api_client(
            session, tenant_slug=tenant.slug, name="ops", scopes=["jobs:manage"]
        )
        session.commit()
    monkeypatch.setenv("REDIS_URL", REFUSED)
    get_settings.cache_clear()
    from propgroup.app import create_app

    response = (
        create_app({"TESTING": True})
        .test_client()
        .post(f"/t/{tenant.slug}/api/jobs/ping", headers={"Authorization": f"Bearer {token}"})
    )
    monkeypatch.undo()
    get_settings.cache_clear()
    assert response.status_code == 202, response.json
    message_id = response.json["id"]
    assert _status(control, tenant, message_id).status == "pending"

    with pytest.raises(RedisConnectionError):
        relay.relay_tenant(control, tenant, Redis.from_url(REFUSED))
    assert _status(control, tenant, message_id).status == "pending"  # nothing lost

    assert relay.relay_all(control, redis) == 1
    assert relay.relay_all(control, redis) == 0
    assert Queue("default", connection=redis).count == 1


def test_relay_never_delivers_twice_even_if_its_commit_was_lost(control, make_tenant, redis):
    tenant = make_tenant()
    with tenant_session(control, tenant.schema_name) as session:
        message = enqueue(session, "test.note_in_audit", {"note": "once"})
        session.commit()
    relay.relay_tenant(control, tenant, redis)
    # As if the relay died after Redis accepted the job but before its commit: the row is
    # pending again although the job is queued.
    with control.begin() as connection:
        connection.execute(
            text(
                f"update \"{tenant.schema_name}\".outbox_messages set status = 'pending' where id = :i"
            ),
            {"i": message.id},
        )
    assert relay.relay_tenant(control, tenant, redis) == 1  # marked sent again…
    assert Queue("default", connection=redis).count == 1  # …but not queued twice
    _work(redis)
    with tenant_session(control, tenant.schema_name) as session:
        notes = session.scalars(select(AuditEvent).where(AuditEvent.action == "test.job_ran")).all()
    assert [n.after["note"] for n in notes] == ["once"]
    assert _status(control, tenant, message.id).status == "done"


def test_worker_runs_the_job_inside_its_own_tenant(control, make_tenant, redis):
    a, b = make_tenant(), make_tenant()
    with tenant_session(control, a.schema_name) as session:
        enqueue(session, "test.note_in_audit", {"note": "for a"})
        session.commit()
    relay.relay_all(control, redis)
    _work(redis)
    for tenant, expected in ((a, ["for a"]), (b, [])):
        with tenant_session(control, tenant.schema_name) as session:
            notes = session.scalars(
                select(AuditEvent).where(AuditEvent.action == "test.job_ran")
            ).all()
            assert [n.after["note"] for n in notes] == expected


def test_failing_job_retries_then_ends_failed_and_visible(control, make_tenant, redis, monkeypatch):
    monkeypatch.setattr(relay, "RETRY", Retry(max=2))  # no waiting between attempts in a test
    tenant = make_tenant()
    with tenant_session(control, tenant.schema_name) as session:
        message = enqueue(session, "test.always_fails")
        _, token = identity.create_api_client(
            session, tenant_slug=tenant.slug, name="ops", scopes=["jobs:manage"]
        )
        session.commit()
    relay.relay_tenant(control, tenant, redis)
    _work(redis)
    final = _status(control, tenant, message.id)
    assert final.status == "failed"
    assert final.attempts == 3
    assert "failed on purpose" in final.last_error
    from propgroup.app import create_app

    listed = (
        create_app({"TESTING": True})
        .test_client()
        .get(
            f"/t/{tenant.slug}/api/jobs?status=failed", headers={"Authorization": f"Bearer {token}"}
        )
    )
    assert [j["id"] for j in listed.json] == [message.id]


def test_unknown_job_is_refused_at_enqueue(control, make_tenant):
    from propgroup.errors import InvalidInput

    tenant = make_tenant()
    with tenant_session(control, tenant.schema_name) as session, pytest.raises(InvalidInput):
        enqueue(session, "no.such.job")


def test_jobs_api_needs_the_right_r_org_2(control, make_tenant):
    tenant = make_tenant()
    with tenant_session(control, tenant.schema_name) as session:
        _, token = identity.create_api_client(
            session, tenant_slug=tenant.slug, name="ro", scopes=["org:read"]
        )
        session.commit()
    from propgroup.app import create_app

    response = (
        create_app({"TESTING": True})
        .test_client()
        .post(f"/t/{tenant.slug}/api/jobs/ping", headers={"Authorization": f"Bearer {token}"})
    )
    assert response.status_code == 403
