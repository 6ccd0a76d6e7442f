"""Enqueueing: one outbox row in the caller's transaction. No Redis involved, so a request that
enqueues a job succeeds while Redis is down, and the job leaves once the relay can reach it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, bindparam, insert, select
from sqlalchemy.orm import Session

from propgroup.audit.service import record
from propgroup.errors import InvalidInput, NotFound
from propgroup.identity.authz import authorize
from propgroup.identity.principals import Principal
from propgroup.jobs.models import OutboxMessage
from propgroup.jobs.registry import job_named
from propgroup.org import service as org


def _check_job(job: str) -> None:
    if job_named(job) is None:
        raise InvalidInput(f"no job is called {job!r}", code="unknown_job")


def enqueue(
    session: Session, job: str, payload: dict[str, Any] | None = None, *, queue: str = "default"
) -> OutboxMessage:
    _check_job(job)
    message = OutboxMessage(job=job, payload=payload or {}, queue=queue, status="pending")
    session.add(message)
    session.flush()
    return message


# ``enqueue`` as a statement, for a caller that sends it beside writes of its own in one round
# trip (as a CTE); its parameters come from ``outbox_params``. Built once: it is on hot paths.
OUTBOX_INSERT = insert(OutboxMessage).values(
    job=bindparam("outbox_job", type_=OutboxMessage.job.type),
    payload=bindparam("outbox_payload", type_=OutboxMessage.payload.type),
    queue=bindparam("outbox_queue", type_=OutboxMessage.queue.type),
    status="pending",
    attempts=0,
)


def outbox_params(
    job: str, payload: dict[str, Any] | None = None, *, queue: str = "default"
) -> dict[str, Any]:
    _check_job(job)
    return {"outbox_job": job, "outbox_payload": payload or {}, "outbox_queue": queue}


def _authorize_group_wide(session: Session, principal: Principal) -> None:
    # Jobs belong to the whole group, so the right is checked at the HQ.
    authorize(session, principal, "jobs:manage", org.get_root(session))


def jobs_query(
    session: Session, principal: Principal, *, status: str | None = None
) -> Select[tuple[OutboxMessage]]:
    _authorize_group_wide(session, principal)
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    return query if status is None else query.where(OutboxMessage.status == status)


def get_job(session: Session, principal: Principal, message_id: int) -> OutboxMessage:
    _authorize_group_wide(session, principal)
    message = session.get(OutboxMessage, message_id)
    if message is None:
        raise NotFound(f"job {message_id} does not exist", code="job_not_found")
    return message


def ping(session: Session, principal: Principal) -> OutboxMessage:
    """Send a no-op job through outbox, relay, queue and worker; its status shows the pipe works."""
    _authorize_group_wide(session, principal)
    message = enqueue(session, "noop")
    record(session, principal, "jobs.ping", "outbox_message", message.id)
    return message
