"""WORM storage for archived files: the store is made to agree with the catalogue.

Each file of an item not destroyed is retained until the item's due date (local midnight), or
until ``PERMANENT_UNTIL`` for a permanent item, in the tenant's lock mode, and carries a legal hold
exactly while the item is held. On S3 that is Object Lock, enforced by the bucket; the filesystem
store marks files read-only and the archives service refuses the rest. Storage calls run in a job
(outbox), so filing, holding or paying never waits for S3, and a failure is retried.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from propgroup.archives.models import ArchiveFile, ArchiveItem, RetentionRule, held
from propgroup.jobs.service import enqueue
from propgroup.storage.blobstore import BlobStore
from propgroup.storage.models import Document
from propgroup.tenancy.settings import archive_lock_mode, tenant_zone

# S3 needs a date even for "forever"; a permanent record's lock is renewed long before this.
PERMANENT_UNTIL = date(2200, 1, 1)
JOB = "archives.sync_locks"
_BATCH = 500


def sync_later(
    session: Session,
    *,
    item_ids: Sequence[int] | None = None,
    class_code: str | None = None,
    hold_id: int | None = None,
) -> None:
    """Have the store follow these items (or a class's, or a hold's) after this commits."""
    enqueue(
        session,
        JOB,
        {"item_ids": list(item_ids or []), "class_code": class_code, "hold_id": hold_id},
    )


def _lock_until(session: Session, item: ArchiveItem, permanent: bool) -> datetime | None:
    day = PERMANENT_UNTIL if permanent else item.due_on
    if day is None:  # an asset card whose asset is still in use: its period has not started
        return None
    return datetime.combine(day, time.min, tzinfo=tenant_zone(session))


def sync(session: Session, store: BlobStore, items: Any) -> int:
    """Apply retention and legal hold to every file of ``items`` (a select of ArchiveItem ids);
    returns how many files were brought in line."""
    mode = archive_lock_mode(session)
    permanent = set(
        session.scalars(select(RetentionRule.class_code).where(RetentionRule.permanent))
    )
    rows = session.execute(
        select(ArchiveItem, held(), Document.blob_key)
        .join(ArchiveFile, ArchiveFile.item_id == ArchiveItem.id)
        .join(Document, Document.id == ArchiveFile.document_id)
        .where(
            ArchiveItem.id.in_(items),
            ArchiveItem.stage != "destroyed",
            ArchiveFile.destroyed_at.is_(None),
        )
        .order_by(ArchiveFile.id)
        .execution_options(yield_per=_BATCH)
    )
    count = 0
    for item, is_held, key in rows:
        until = _lock_until(session, item, item.class_code in permanent)
        if until is not None:
            store.retain(key, until, mode)
        store.legal_hold(key, bool(is_held))
        count += 1
    return count
