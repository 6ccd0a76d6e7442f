"""What the RQ worker runs: one outbox message, inside its tenant's schema and role."""

from __future__ import annotations

from datetime import UTC, datetime

from rq import get_current_job
from sqlalchemy import update

from propgroup.config import get_settings
from propgroup.db import engine_for
from propgroup.jobs.models import OutboxMessage
from propgroup.jobs.registry import job_named
from propgroup.tenancy import service as tenancy


def run_outbox_message(slug: str, message_id: int) -> str:
    control = engine_for(get_settings().database_url)
    tenant = tenancy.active_tenant(control, slug)
    with tenancy.open_tenant_session(control, tenant) as session:
        message = session.get(OutboxMessage, message_id, with_for_update=True)
        if message is None:
            raise LookupError(f"outbox message {message_id} of {slug} does not exist")
        if message.status == "done":
            return "already done"  # a duplicate delivery changes nothing
        try:
            job = job_named(message.job)
            if job is None:
                raise LookupError(f"no job is called {message.job!r}")
            job(session, **message.payload)
            message.status, message.finished_at = "done", datetime.now(UTC)
            message.attempts += 1
            session.commit()
        except Exception as exc:
            session.rollback()
            _note_failure(control, tenant, message_id, exc)
            raise
    return "done"


def _note_failure(control, tenant, message_id: int, exc: Exception) -> None:
    """Count the attempt; when RQ has no retries left the message ends visibly ``failed``."""
    current = get_current_job()
    final = current is None or not current.retries_left
    with tenancy.open_tenant_session(control, tenant) as session:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(
                attempts=OutboxMessage.attempts + 1,
                last_error=f"{type(exc).__name__}: {exc}"[:2000],
                status="failed" if final else "sent",
                finished_at=datetime.now(UTC) if final else None,
            )
        )
        session.commit()
