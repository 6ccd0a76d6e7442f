"""Archive jobs: the yearly retention sweep, the integrity check, and storage locks following
the catalogue (retain-until, legal holds)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from propgroup.approvals.service import today
from propgroup.archives import appraisal, integrity, locks
from propgroup.archives.holds import items_under
from propgroup.archives.models import ArchiveItem, LegalHold
from propgroup.jobs.registry import tenant_job
from propgroup.storage.settings import configured_store


@tenant_job("archives.sweep_due")
def sweep_due(session: Session, **_: Any) -> int:
    """Items whose retention has run out become due for appraisal (R-ARC-1)."""
    return appraisal.sweep_due(session, today(session))


@tenant_job("archives.check_integrity")
def check_integrity(session: Session, **_: Any) -> dict[str, Any]:
    report = integrity.check_integrity(session, configured_store())
    return {"checked": report.checked, "missing": report.missing, "altered": report.altered}


@tenant_job(locks.JOB)
def sync_locks(
    session: Session,
    *,
    item_ids: list[int] | None = None,
    class_code: str | None = None,
    hold_id: int | None = None,
    **_: Any,
) -> int:
    """Bring the store's retention and legal holds in line with these items."""
    if hold_id is not None:
        items = items_under(session.get(LegalHold, hold_id))
    elif class_code is not None:
        items = select(ArchiveItem.id).where(ArchiveItem.class_code == class_code)
    else:
        items = select(ArchiveItem.id).where(ArchiveItem.id.in_(item_ids or []))
    return locks.sync(session, configured_store(), items)
