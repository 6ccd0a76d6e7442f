"""The integrity check: every archived file still exists with the sha256 recorded when it was
filed. Missing or altered files are reported (an audit event), never repaired silently."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from propgroup.archives.models import ArchiveFile, ArchiveItem
from propgroup.audit.service import record
from propgroup.errors import NotFound
from propgroup.identity.principals import SYSTEM
from propgroup.storage.blobstore import BlobStore, iter_chunks
from propgroup.storage.models import Document

_BATCH = 500


@dataclass
class IntegrityReport:
    checked: int = 0
    missing: list[int] = field(default_factory=list)  # archive file ids
    altered: list[int] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not (self.missing or self.altered)


def _sha256(store: BlobStore, key: str) -> str | None:
    try:
        stream = store.open(key)
    except NotFound:
        return None
    digest = hashlib.sha256()
    for chunk in iter_chunks(stream):
        digest.update(chunk)
    return digest.hexdigest()


def check_integrity(session: Session, store: BlobStore) -> IntegrityReport:
    report = IntegrityReport()
    rows = session.execute(
        select(ArchiveFile.id, ArchiveFile.sha256, Document.blob_key)
        .join(Document, Document.id == ArchiveFile.document_id)
        .join(ArchiveItem, ArchiveItem.id == ArchiveFile.item_id)
        .where(ArchiveFile.destroyed_at.is_(None), ArchiveItem.stage != "destroyed")
        .order_by(ArchiveFile.id)
        .execution_options(yield_per=_BATCH)
    )
    for file_id, recorded, key in rows:
        report.checked += 1
        actual = _sha256(store, key)
        if actual is None:
            report.missing.append(file_id)
        elif actual != recorded:
            report.altered.append(file_id)
    record(
        session,
        SYSTEM,
        "archives.integrity_checked",
        "archive_files",
        None,
        after={"checked": report.checked, "missing": report.missing, "altered": report.altered},
    )
    return report
