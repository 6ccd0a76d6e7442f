"""Papers of an account or of one of its requests (the bank's opening papers, a signed form, the
closing papers): added only here, by the account's own finance (banking:write at its unit), at
the account's unit, so the closed account's file (closure.py) holds nothing another unit put in.
The generic upload refuses these entity types (storage.OWNED_ENTITY_TYPES)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from propgroup.banking.closure import ACCOUNT_ENTITY
from propgroup.banking.lifecycle import read_request
from propgroup.banking.models import LIVE_REQUEST_STATUSES
from propgroup.banking.service import read_account
from propgroup.errors import Conflict
from propgroup.identity.principals import Principal
from propgroup.storage import service as storage
from propgroup.storage.blobstore import BlobStore, ReadableStream
from propgroup.storage.models import Document
from propgroup.tenancy.slugs import tenant_slug


def check_attach(session: Session, principal: Principal, entity_type: str, entity_id: int) -> int:
    """The unit the document belongs to; refused unless the caller writes the account's records
    there and the account (or request) is still open to papers. Run before and after the upload
    streams in."""
    if entity_type == ACCOUNT_ENTITY:
        account = read_account(session, principal, entity_id, "banking:write")
        if account.status == "closed":
            raise Conflict(f"account {account.id} is closed and filed", code="account_closed")
        unit_id = account.unit_id
    else:
        request = read_request(session, principal, entity_id, "banking:write")
        if request.status not in LIVE_REQUEST_STATUSES:
            raise Conflict(f"request {request.id} is {request.status}", code="bad_state")
        unit_id = request.unit_id
    storage.check_upload(session, principal, unit_id)
    return unit_id


def attach(
    session: Session,
    store: BlobStore,
    principal: Principal,
    entity_type: str,
    entity_id: int,
    *,
    stream: ReadableStream,
    filename: str,
    max_bytes: int,
) -> Document:
    unit_id = check_attach(session, principal, entity_type, entity_id)
    document = storage.upload_document(
        session,
        store,
        principal,
        tenant_slug=tenant_slug(session),
        unit_id=unit_id,
        stream=stream,
        filename=filename,
        entity_type=entity_type,
        entity_id=entity_id,
        max_bytes=max_bytes,
    )
    check_attach(session, principal, entity_type, entity_id)
    return document
