"""Moving outbox rows to RQ.

Each message becomes the RQ job ``outbox-<slug>-<id>``. The row is marked sent in the same
transaction that enqueued it; if that transaction dies after Redis accepted the job, the next pass
finds the job id already in Redis and only marks the row. So a message is delivered once.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.job import Job
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from propgroup.db import bind_tenant
from propgroup.jobs.models import OutboxMessage
from propgroup.tenancy import service as tenancy
from propgroup.tenancy.cells import cell_engine
from propgroup.tenancy.models import Tenant

log = logging.getLogger(__name__)
RETRY = Retry(max=3, interval=[10, 60, 300])  # backoff between attempts, seconds
RESULT_TTL = int(timedelta(days=7).total_seconds())  # keeps job ids known for de-duplication
FAILURE_TTL = int(timedelta(days=30).total_seconds())


def rq_job_id(slug: str, message_id: int) -> str:
    return f"outbox-{slug}-{message_id}"


def relay_tenant(engine: Engine, tenant: Tenant, redis: Redis, *, batch: int = 200) -> int:
    """Send up to ``batch`` pending messages of one tenant; returns how many were sent."""
    with engine.connect() as connection, connection.begin():
        session = Session(bind=bind_tenant(connection, tenant.schema_name))
        pending = session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == "pending")
            .order_by(OutboxMessage.id)
            .limit(batch)
            .with_for_update(skip_locked=True)
        ).all()
        for message in pending:
            job_id = rq_job_id(tenant.slug, message.id)
            if not Job.exists(job_id, connection=redis):
                Queue(message.queue, connection=redis).enqueue(
                    "propgroup.jobs.runner.run_outbox_message",
                    tenant.slug,
                    message.id,
                    job_id=job_id,
                    retry=RETRY,
                    result_ttl=RESULT_TTL,
                    failure_ttl=FAILURE_TTL,
                )
            message.status = "sent"
            message.sent_at = datetime.now(UTC)
        session.flush()
        return len(pending)


def tenants_with_pending(control: Engine, tenants: list[Tenant]) -> list[Tenant]:
    """One query per 200 schemas instead of one transaction per tenant."""
    found: set[str] = set()
    for start in range(0, len(tenants), 200):
        chunk = tenants[start : start + 200]
        union = " union all ".join(
            f"select '{t.slug}' where exists (select 1 from \"{t.schema_name}\".outbox_messages "
            "where status = 'pending')"
            for t in chunk
        )
        with control.connect() as connection:
            found |= set(connection.scalars(text(union)))
    return [t for t in tenants if t.slug in found]


def relay_all(control: Engine, redis: Redis) -> int:
    active = [t for t in tenancy.list_tenants(control) if t.status == "active"]
    sent = 0
    for tenant in tenants_with_pending(control, active):
        sent += relay_tenant(cell_engine(control, tenant.cell_name), tenant, redis)
    return sent


def relay_forever(control: Engine, redis: Redis, *, idle_seconds: float = 1.0) -> None:
    """The relay process: pass after pass; while Redis is away, wait longer and keep the rows."""
    delay = idle_seconds
    while True:
        try:
            relay_all(control, redis)
            delay = idle_seconds
        except RedisError as exc:
            delay = min(delay * 2, 30.0)
            log.warning("relay: Redis unavailable (%s); retrying in %.0fs", exc, delay)
        time.sleep(delay)
