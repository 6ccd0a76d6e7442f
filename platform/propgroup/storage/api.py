"""``/api/documents``: streamed upload, metadata, and short-lived download links."""

from __future__ import annotations

from flask import Response, request, stream_with_context, url_for
from sqlalchemy.orm import Session

from propgroup.api import Blueprint
from propgroup.api.auth import current_principal
from propgroup.config import get_settings
from propgroup.errors import TooLarge
from propgroup.storage import service
from propgroup.storage.blobstore import content_disposition, iter_chunks
from propgroup.storage.links import sign_download, verify_download
from propgroup.storage.schemas import (
    ContentQuerySchema,
    DocumentSchema,
    DownloadLinkSchema,
    UploadQuerySchema,
)
from propgroup.storage.settings import configured_store, max_upload_bytes
from propgroup.tenancy.middleware import current_tenant, tenant_db

blp = Blueprint("documents", __name__, url_prefix="/api/documents", description="Documents")
LINK_SECONDS = service.DEFAULT_URL_EXPIRY_SECONDS


@blp.route("", methods=["POST"])
@blp.arguments(UploadQuerySchema, location="query")
@blp.response(201, DocumentSchema)
def upload(query):
    """Upload a file as the raw request body (any content type); it is streamed to storage."""
    limit = max_upload_bytes()
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"the file is larger than the {limit} byte limit", code="upload_too_large")
    session, principal = tenant_db(), current_principal()
    service.check_upload(session, principal, query["unit_id"], query["entity_type"])
    # No transaction stays open while the body streams in, however long that takes.
    session.commit()
    return service.upload_document(
        session,
        configured_store(),
        principal,
        tenant_slug=current_tenant().slug,
        stream=request.stream,
        max_bytes=limit,
        **query,
    )


@blp.route("/<int:document_id>")
@blp.response(200, DocumentSchema)
def metadata(document_id: int):
    return service.read_document(tenant_db(), current_principal(), document_id)


@blp.route("/<int:document_id>/download")
@blp.response(200, DownloadLinkSchema)
def download_link(document_id: int):
    """A link valid for a few minutes: presigned on S3, else signed and served by the app."""
    document = service.read_document(tenant_db(), current_principal(), document_id)
    url = service.download_url(configured_store(), document, expires_seconds=LINK_SECONDS)
    if url is None:
        slug = current_tenant().slug
        token = sign_download(get_settings().secret_key, slug, document_id)
        path = url_for("documents.content", document_id=document_id, token=token)
        if not path.startswith(f"/t/{slug}/"):
            path = f"/t/{slug}{path}"  # a token-only call has no prefix; the link needs one
        url = request.host_url.rstrip("/") + path
    return {"url": url, "expires_in": LINK_SECONDS}


@blp.route("/<int:document_id>/content")
@blp.arguments(ContentQuerySchema, location="query")
def content(query, document_id: int):
    """The bytes, for the holder of a fresh signed link (no API token needed)."""
    verify_download(
        get_settings().secret_key, query["token"], current_tenant().slug, document_id, LINK_SECONDS
    )
    return document_response(tenant_db(), document_id)


def document_response(session: Session, document_id: int) -> Response:
    """A stored document's bytes streamed back, never rendered inline by guesswork; the caller
    has checked the reader may see it."""
    document, stream = service.open_document(session, configured_store(), document_id)

    def chunks():
        with stream:
            yield from iter_chunks(stream)

    return Response(
        stream_with_context(chunks()),
        mimetype=document.content_type,
        headers={
            "Content-Disposition": content_disposition(document.filename),
            "Content-Length": str(document.size_bytes),
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
