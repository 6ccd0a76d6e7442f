"""Documents (附件): store a blob and its row together, open it, sweep blobs no row names.

The blob is written before the row, because a row must never name a missing blob. Whatever
fails in between is cleaned up: a failing insert deletes the blob at once; a transaction rolled
back later, or a crash, leaves a blob that ``sweep_orphans`` removes after a grace period. A
rollback does not delete the blob itself: when a COMMIT fails on the wire nobody knows whether it
took, and an orphan costs disk while a missing blob loses evidence.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath
from typing import IO

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from propgroup.audit.service import record
from propgroup.db import TENANT_PLACEHOLDER, get_by_id
from propgroup.errors import InvalidInput, NotFound
from propgroup.identity.authz import authorize
from propgroup.identity.principals import Principal
from propgroup.org import service as org
from propgroup.org.models import OrgUnit
from propgroup.storage.blobstore import BlobStore, ReadableStream, new_key, tenant_prefix
from propgroup.storage.models import Document
from propgroup.tenancy.slugs import schema_for

log = logging.getLogger(__name__)

DEFAULT_URL_EXPIRY_SECONDS = 300
# Longer than any upload transaction may stay open; shorter grace risks deleting a blob whose row
# is about to commit.
DEFAULT_SWEEP_GRACE = timedelta(hours=24)
_SWEEP_BATCH = 500
_ENTITY_TYPE = re.compile(r"[a-z][a-z0-9_]{0,59}")


def _require_tenant(session: Session, tenant_slug: str) -> None:
    """Blobs of one tenant must never land under another's prefix: that tenant's sweep, which
    finds no row for them, would delete them."""
    expected = schema_for(tenant_slug)
    # From the bind, not session.connection(): that would open a transaction for the whole upload.
    mapping = session.get_bind().get_execution_options().get("schema_translate_map") or {}
    if mapping.get(TENANT_PLACEHOLDER) != expected:
        raise InvalidInput(
            f"session is bound to {mapping.get(TENANT_PLACEHOLDER)!r}, not tenant {tenant_slug!r}",
            code="tenant_mismatch",
        )


def clean_filename(filename: object) -> str:
    """The name shown on download: last path part only (browsers send C:\\fakepath\\…)."""
    if not isinstance(filename, str):
        raise InvalidInput("filename is required", code="bad_filename")
    name = PurePosixPath(filename.replace("\\", "/")).name.strip()
    if not name or len(name) > 255 or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise InvalidInput(
            "filename must be 1-255 characters without control characters", code="bad_filename"
        )
    return name


def _check_link(entity_type: object, entity_id: object) -> None:
    if not isinstance(entity_type, str) or not _ENTITY_TYPE.fullmatch(entity_type):
        raise InvalidInput(
            "entity_type must be 1-60 characters: a lowercase letter, then lowercase letters, "
            "digits or underscores",
            code="bad_entity_type",
        )
    if isinstance(entity_id, bool) or not isinstance(entity_id, int) or entity_id <= 0:
        raise InvalidInput("entity_id must be a positive integer", code="bad_entity_id")


def store_document(
    session: Session,
    store: BlobStore,
    *,
    tenant_slug: str,
    stream: ReadableStream,
    filename: str,
    entity_type: str,
    entity_id: int,
    unit_id: int | None = None,
    uploaded_by: int | None = None,
    max_bytes: int,
    now: datetime | None = None,
) -> Document:
    """Stream the upload to the store, then insert its row (flushed; the caller commits).

    Nothing touches the database until the bytes are stored, so an upload that takes minutes does
    not hold a transaction open unless the caller already began one."""
    name = clean_filename(filename)
    _check_link(entity_type, entity_id)
    _require_tenant(session, tenant_slug)
    key = new_key(tenant_slug, now or datetime.now(UTC))
    blob = store.put(key, stream, max_bytes=max_bytes, filename=name)
    document = Document(
        blob_key=blob.key,
        filename=name,
        content_type=blob.content_type,
        size_bytes=blob.size,
        sha256=blob.sha256,
        entity_type=entity_type,
        entity_id=entity_id,
        unit_id=unit_id,
        uploaded_by=uploaded_by,
    )
    try:
        # A savepoint: a refused insert leaves the caller's transaction usable.
        with session.begin_nested():
            session.add(document)
    except IntegrityError as exc:
        _forget_blob(store, key)
        raise _reference_error(exc, unit_id, uploaded_by) from exc
    except BaseException:
        _forget_blob(store, key)
        raise
    return document


def _forget_blob(store: BlobStore, key: str) -> None:
    try:
        store.delete(key)
    except Exception:  # the sweep will find it; the caller needs the original error
        log.warning("could not delete blob %s after a failed insert", key, exc_info=True)


def _reference_error(exc: IntegrityError, unit_id: int | None, uploaded_by: int | None):
    constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
    if constraint == "fk_documents_unit_id_org_units":
        return InvalidInput(f"unit {unit_id} does not exist", code="unit_not_found")
    if constraint == "fk_documents_uploaded_by_users":
        return InvalidInput(f"user {uploaded_by} does not exist", code="user_not_found")
    return exc


def get_document(session: Session, document_id: int) -> Document:
    document = get_by_id(session, Document, document_id)
    if document is None:
        raise NotFound(f"document {document_id} does not exist", code="document_not_found")
    return document


# Built once (its SQL cache key computed once): every answer showing a request's vouchers runs it.
_DOCUMENTS_OF = (
    select(Document)
    .where(
        Document.entity_type == bindparam("entity_type"),
        Document.entity_id == bindparam("entity_id"),
    )
    .order_by(Document.id)
)


def list_documents(session: Session, entity_type: str, entity_id: int) -> list[Document]:
    return list(
        session.scalars(_DOCUMENTS_OF, {"entity_type": entity_type, "entity_id": entity_id})
    )


def open_document(
    session: Session, store: BlobStore, document_id: int
) -> tuple[Document, IO[bytes]]:
    """The row and a readable stream of its bytes (the caller closes it)."""
    document = get_document(session, document_id)
    return document, store.open(document.blob_key)


def download_url(
    store: BlobStore, document: Document, *, expires_seconds: int = DEFAULT_URL_EXPIRY_SECONDS
) -> str | None:
    """A short-lived direct link (S3), or None: stream ``open_document`` through the app."""
    return store.download_url(
        document.blob_key,
        expires_seconds=expires_seconds,
        filename=document.filename,
        content_type=document.content_type,
    )


def sweep_orphans(
    session: Session,
    store: BlobStore,
    *,
    tenant_slug: str,
    older_than: timedelta = DEFAULT_SWEEP_GRACE,
    now: datetime | None = None,
) -> list[str]:
    """Delete the tenant's blobs older than ``older_than`` that no document row names.

    ``older_than`` must exceed the longest upload transaction, or a blob whose row is about to
    commit could go. Returns the deleted keys."""
    _require_tenant(session, tenant_slug)
    if older_than <= timedelta(0):
        raise InvalidInput("older_than must be a positive grace period", code="bad_grace_period")
    cutoff = (now or datetime.now(UTC)) - older_than
    swept: list[str] = []
    batch: list[str] = []
    for key, modified in store.list_keys(tenant_prefix(tenant_slug)):
        if modified < cutoff:
            batch.append(key)
        if len(batch) >= _SWEEP_BATCH:
            swept += _sweep_batch(session, store, batch)
            batch = []
    swept += _sweep_batch(session, store, batch)
    return swept


def _sweep_batch(session: Session, store: BlobStore, keys: Iterable[str]) -> list[str]:
    keys = list(keys)
    if not keys:
        return []
    known = set(session.scalars(select(Document.blob_key).where(Document.blob_key.in_(keys))))
    orphans = [key for key in keys if key not in known]
    for key in orphans:
        store.delete(key)
    if orphans:
        log.info("swept %d orphan blobs: %s…", len(orphans), orphans[0])
    return orphans


# On behalf of someone: authorised at the document's unit and audited.


def _unit_for(session: Session, unit_id: int | None) -> OrgUnit:
    return org.get_unit(session, unit_id) if unit_id is not None else org.get_root(session)


# Documents of these entities are added only through their capability, which checks who may add
# them and when (an approval request's vouchers: its requester, until it is decided).
OWNED_ENTITY_TYPES = {
    "approval_request": "POST /api/approvals/<id>/attachments",
    "archive_item": "POST /api/archives/items/<id>/files",
    "bank_account": "POST /api/banking/accounts/<id>/documents",
    "bank_account_request": "POST /api/banking/requests/<id>/documents",
}


def check_upload(
    session: Session, principal: Principal, unit_id: int, entity_type: str | None = None
) -> None:
    """Refuse before a single byte is read; ``entity_type`` is given by the generic upload."""
    if entity_type in OWNED_ENTITY_TYPES:
        raise InvalidInput(
            f"documents of {entity_type} are added with {OWNED_ENTITY_TYPES[entity_type]}",
            code="owned_entity_type",
        )
    authorize(session, principal, "documents:write", _unit_for(session, unit_id))


def upload_document(
    session: Session,
    store: BlobStore,
    principal: Principal,
    *,
    tenant_slug: str,
    unit_id: int,
    stream: ReadableStream,
    filename: str,
    entity_type: str,
    entity_id: int,
    max_bytes: int,
) -> Document:
    check_upload(session, principal, unit_id)
    document = store_document(
        session,
        store,
        tenant_slug=tenant_slug,
        stream=stream,
        filename=filename,
        entity_type=entity_type,
        entity_id=entity_id,
        unit_id=unit_id,
        uploaded_by=principal.id if principal.kind == "user" else None,
        max_bytes=max_bytes,
    )
    session.flush()
    record(
        session,
        principal,
        "documents.uploaded",
        "document",
        document.id,
        after={
            "filename": document.filename,
            "sha256": document.sha256,
            "size": document.size_bytes,
            "entity": f"{entity_type}:{entity_id}",
        },
    )
    return document


def read_document(session: Session, principal: Principal, document_id: int) -> Document:
    document = get_document(session, document_id)
    authorize(session, principal, "documents:read", _unit_for(session, document.unit_id))
    return document
