"""Documents over the API: streamed upload authorised at the unit (R-ORG-2), refusals that write
nothing, and short-lived signed download links."""

from __future__ import annotations

import hashlib
import io
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from propgroup.audit.models import AuditEvent
from propgroup.config import get_settings
from propgroup.db import tenant_session
from propgroup.errors import Forbidden
from propgroup.identity import service as identity
from propgroup.org import service as org
from propgroup.storage.links import sign_download, verify_download
from propgroup.storage.models import Document
from propgroup.tenancy import service as tenancy
from tests.support.groups import provision_demo

PDF = b"%PDF-1.7\n" + b"invoice line\n" * 200


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(control, "docs_demo", "Docs")
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


@pytest.fixture
def client(control):
    get_settings.cache_clear()
    from propgroup.app import create_app

    return create_app({"TESTING": True}).test_client()


@pytest.fixture
def east_writer(control, group):
    with tenant_session(control, group.schema_name) as session:
        _, token = identity.create_api_client(
            session,
            tenant_slug=group.slug,
            name="scanner",
            scopes=["documents:write", "documents:read"],
            unit=org.get_unit_by_code(session, "EAST"),
        )
        units = {code: org.get_unit_by_code(session, code).id for code in ("SH-XTD", "SZ-NS")}
        session.commit()
    return {"Authorization": f"Bearer {token}"}, units


def _upload(client, group, headers, unit_id, body=PDF, filename="发票.pdf"):
    return client.post(
        f"/t/{group.slug}/api/documents",
        query_string={
            "filename": filename,
            "entity_type": "expense_claim",
            "entity_id": 7,
            "unit_id": unit_id,
        },
        data=body,
        headers={**headers, "Content-Type": "application/octet-stream"},
    )


def _documents(control, group):
    with tenant_session(control, group.schema_name) as session:
        return session.scalar(select(func.count()).select_from(Document))


def test_upload_inside_the_subtree_is_stored_hashed_and_audited_r_org_2(
    client, control, group, east_writer
):
    headers, units = east_writer
    response = _upload(client, group, headers, units["SH-XTD"])
    assert response.status_code == 201, response.json
    assert response.json["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert response.json["size_bytes"] == len(PDF)
    assert response.json["content_type"] == "application/pdf"
    assert response.json["filename"] == "发票.pdf"
    with tenant_session(control, group.schema_name) as session:
        event = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "documents.uploaded",
                AuditEvent.entity_id == str(response.json["id"]),
            )
        ).one()
        assert event.after["sha256"] == response.json["sha256"]


def test_upload_outside_the_subtree_is_refused_and_writes_nothing_r_org_2(
    client, control, group, east_writer
):
    headers, units = east_writer
    before = _documents(control, group)
    response = _upload(client, group, headers, units["SZ-NS"])
    assert response.status_code == 403
    assert _documents(control, group) == before


def test_empty_and_oversized_uploads_are_refused(client, control, group, east_writer, monkeypatch):
    headers, units = east_writer
    before = _documents(control, group)
    empty = _upload(client, group, headers, units["SH-XTD"], body=b"")
    assert empty.status_code == 422
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "1000")
    big = _upload(client, group, headers, units["SH-XTD"], body=b"x" * 5000)
    assert big.status_code == 413 and big.json["code"] == "upload_too_large"
    # Sent chunked, the size is only learnt while streaming: still a 413, still nothing kept.
    chunked = client.post(
        f"/t/{group.slug}/api/documents",
        query_string={
            "filename": "big.bin",
            "entity_type": "expense_claim",
            "entity_id": 7,
            "unit_id": units["SH-XTD"],
        },
        input_stream=io.BytesIO(b"x" * 5000),
        headers={
            **headers,
            "Content-Type": "application/octet-stream",
            "Transfer-Encoding": "chunked",
        },
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert chunked.status_code == 413 and chunked.json["code"] == "upload_too_large"
    assert _documents(control, group) == before


def test_download_link_serves_the_bytes_and_cannot_be_tampered(client, group, east_writer):
    headers, units = east_writer
    document_id = _upload(client, group, headers, units["SH-XTD"]).json["id"]
    link = client.get(f"/t/{group.slug}/api/documents/{document_id}/download", headers=headers)
    assert link.status_code == 200 and link.json["expires_in"] <= 300
    parts = urlsplit(link.json["url"])
    fetched = client.get(f"{parts.path}?{parts.query}")  # no API token: the link is the credential
    assert fetched.status_code == 200
    assert fetched.data == PDF
    assert "attachment" in fetched.headers["Content-Disposition"]
    tampered = client.get(f"{parts.path}?{parts.query[:-3]}abc")
    assert tampered.status_code == 403
    other = client.get(f"/t/{group.slug}/api/documents/{document_id + 999}/content?{parts.query}")
    assert other.status_code == 403


def test_download_link_from_a_token_only_call_names_the_tenant(client, group, east_writer):
    headers, units = east_writer
    document_id = _upload(client, group, headers, units["SH-XTD"]).json["id"]
    link = client.get(f"/api/documents/{document_id}/download", headers=headers).json["url"]
    parts = urlsplit(link)
    assert parts.path.startswith(f"/t/{group.slug}/api/documents/")
    assert client.get(f"{parts.path}?{parts.query}").data == PDF


def test_download_links_expire():
    token = sign_download("secret", "acme", 5)
    verify_download("secret", token, "acme", 5, max_age=60)
    with pytest.raises(Forbidden, match="expired"):
        verify_download("secret", token, "acme", 5, max_age=-1)
    with pytest.raises(Forbidden):
        verify_download("secret", token, "other", 5, max_age=60)


def test_reading_metadata_needs_documents_read(client, control, group, east_writer):
    headers, units = east_writer
    document_id = _upload(client, group, headers, units["SH-XTD"]).json["id"]
    with tenant_session(control, group.schema_name) as session:
        _, token = identity.create_api_client(
            session, tenant_slug=group.slug, name="org-only", scopes=["org:read"]
        )
        session.commit()
    refused = client.get(
        f"/t/{group.slug}/api/documents/{document_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert refused.status_code == 403
    allowed = client.get(f"/t/{group.slug}/api/documents/{document_id}", headers=headers)
    assert allowed.status_code == 200 and allowed.json["entity_type"] == "expense_claim"
