"""Storage jobs: the nightly orphan sweep (孤儿文件清理), run in each tenant by the scheduler."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from propgroup.jobs.registry import tenant_job
from propgroup.storage import service
from propgroup.storage.settings import configured_store
from propgroup.tenancy.slugs import SCHEMA_PREFIX


@tenant_job("storage.sweep_orphans")
def sweep_orphans(session: Session, *, older_than_hours: float | None = None) -> list[str]:
    """Delete this tenant's blobs that no document row names, after the grace period."""
    schema = session.info["tenant_schema"]
    grace = (
        timedelta(hours=older_than_hours)
        if older_than_hours is not None
        else service.DEFAULT_SWEEP_GRACE
    )
    return service.sweep_orphans(
        session,
        configured_store(),
        tenant_slug=schema.removeprefix(SCHEMA_PREFIX),
        older_than=grace,
    )
