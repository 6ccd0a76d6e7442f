"""Documents (storage/service.py): a blob and its row in the tenant schema live and die together.

Each test provisions a tenant of its own on real PostgreSQL and runs over both blob stores.
"""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from propgroup.db import tenant_session
from propgroup.errors import InvalidInput, NotFound
from propgroup.identity import service as identity
from propgroup.org import service as org
from propgroup.storage import service as storage_service
from propgroup.storage.blobstore import new_key, store_from_url
from propgroup.storage.fs import FileSystemBlobStore
from propgroup.storage.s3 import S3BlobStore
from tests.test_storage import PDF, GeneratedStream, MiB, leftovers, moto_server, new_s3_store


@pytest.fixture(scope="module")
def s3_endpoint():
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(params=["fs", "s3"])
def store(request, tmp_path):
    if request.param == "fs":
        return store_from_url((tmp_path / "blobs").as_uri())
    return new_s3_store(request.getfixturevalue("s3_endpoint"))


@pytest.fixture
def documents():
    """The storage service, under the name the tests read best with."""
    return storage_service


@pytest.fixture
def tenant(documents, make_tenant):
    return make_tenant()


@pytest.fixture
def session(control, tenant):
    with tenant_session(control, tenant.schema_name) as session:
        yield session


def _store(documents, session, store, tenant, **overrides):
    arguments = {
        "tenant_slug": tenant.slug,
        "stream": io.BytesIO(PDF),
        "filename": "发票-2024-05.pdf",
        "entity_type": "expense_claim",
        "entity_id": 42,
        "max_bytes": MiB,
    } | overrides
    return documents.store_document(session, store, **arguments)


def _rows(control, tenant) -> int:
    with tenant_session(control, tenant.schema_name) as session:
        return session.scalar(text("select count(*) from documents"))


def test_store_document_writes_the_blob_and_the_row(documents, control, tenant, session, store):
    hq = org.get_unit_by_code(session, "HQ")
    user = identity.create_user(
        session,
        login="li.lei",
        display_name="李雷",
        email="li@x.test",
        password="a-long-passphrase",
    )
    document = _store(
        documents,
        session,
        store,
        tenant,
        filename="C:\\fakepath\\发票-2024-05.pdf",
        unit_id=hq.id,
        uploaded_by=user.id,
    )
    session.commit()
    assert document.blob_key.startswith(f"{tenant.slug}/{datetime.now(UTC).year}/")
    with tenant_session(control, tenant.schema_name) as reader:
        row, stream = documents.open_document(reader, store, document.id)
        with stream:
            assert stream.read() == PDF
        assert (row.filename, row.content_type, row.size_bytes) == (
            "发票-2024-05.pdf",
            "application/pdf",
            len(PDF),
        )
        assert len(row.sha256) == 64 and row.created_at is not None
        assert (row.unit_id, row.uploaded_by) == (hq.id, user.id)
        listed = documents.list_documents(reader, "expense_claim", 42)
        assert [d.id for d in listed] == [document.id]
        with pytest.raises(NotFound):
            documents.get_document(reader, document.id + 1000)


def test_download_is_a_short_presigned_link_on_s3_and_proxied_on_files(
    documents, tenant, session, store
):
    document = _store(documents, session, store, tenant)
    url = documents.download_url(store, document)
    if isinstance(store, S3BlobStore):
        assert "X-Amz-Expires=300" in url
    else:
        assert url is None


def test_rolled_back_document_leaves_an_orphan_the_sweep_removes_after_the_grace_period(
    documents, control, tenant, session, store
):
    kept = _store(documents, session, store, tenant, entity_id=1)
    session.commit()
    lost = _store(documents, session, store, tenant, entity_id=2)
    session.rollback()  # the row never commits; the blob is already stored
    assert store.exists(lost.blob_key) and _rows(control, tenant) == 1

    grace = timedelta(hours=1)
    assert documents.sweep_orphans(session, store, tenant_slug=tenant.slug, older_than=grace) == []
    assert store.exists(lost.blob_key)

    later = datetime.now(UTC) + timedelta(hours=2)
    swept = documents.sweep_orphans(
        session, store, tenant_slug=tenant.slug, older_than=grace, now=later
    )
    assert swept == [lost.blob_key]
    assert not store.exists(lost.blob_key)
    assert store.exists(kept.blob_key)  # the committed document's blob stays
    with pytest.raises(InvalidInput, match="grace"):
        documents.sweep_orphans(session, store, tenant_slug=tenant.slug, older_than=timedelta(0))


def test_sweep_touches_only_its_own_tenant(documents, control, make_tenant, store):
    """Tenant ``grp_1`` and ``grp_10`` share a store; prefixes end in '/' so neither lists the
    other's blobs, and a session bound to one tenant cannot sweep another's prefix."""
    a = make_tenant()
    b = make_tenant(slug=f"{a.slug}0")
    later = datetime.now(UTC) + timedelta(days=2)
    with tenant_session(control, a.schema_name) as session_a:
        document = _store(documents, session_a, store, a)
        session_a.commit()
        with pytest.raises(InvalidInput, match="not tenant") as refused:
            documents.sweep_orphans(session_a, store, tenant_slug=b.slug, now=later)
        assert refused.value.code == "tenant_mismatch"
    with tenant_session(control, b.schema_name) as session_b:
        assert documents.sweep_orphans(session_b, store, tenant_slug=b.slug, now=later) == []
    assert store.exists(document.blob_key)


def test_failing_insert_deletes_the_blob_at_once(documents, control, tenant, session, store):
    with pytest.raises(InvalidInput, match="unit 987654 does not exist") as refused:
        _store(documents, session, store, tenant, unit_id=987654)
    assert refused.value.code == "unit_not_found"
    with pytest.raises(InvalidInput, match="user 987654 does not exist"):
        _store(documents, session, store, tenant, uploaded_by=987654)
    assert leftovers(store) == []
    # Only the savepoint failed: the caller's transaction goes on.
    document = _store(documents, session, store, tenant)
    session.commit()
    assert [key for key, _ in store.list_keys("")] == [document.blob_key]
    assert _rows(control, tenant) == 1


def test_database_error_during_the_insert_deletes_the_blob(
    documents, control, tenant, session, store
):
    """A schema not migrated yet (no documents table): the insert fails after the blob is stored."""
    with control.begin() as connection:
        connection.execute(text(f'drop table "{tenant.schema_name}".documents cascade'))
    with pytest.raises(ProgrammingError, match="documents"):
        _store(documents, session, store, tenant)
    assert leftovers(store) == []


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"entity_type": "x" * 61}, "bad_entity_type"),
        ({"entity_type": "ExpenseClaim"}, "bad_entity_type"),
        ({"entity_id": 0}, "bad_entity_id"),
        ({"filename": "  "}, "bad_filename"),
        ({"filename": "a\nb.pdf"}, "bad_filename"),
        ({"filename": "长" * 256}, "bad_filename"),
        ({"stream": lambda: io.BytesIO(b"")}, "upload_empty"),
        ({"stream": lambda: GeneratedStream(MiB + 1)}, "upload_too_large"),
        ({"tenant_slug": "someone_else"}, "tenant_mismatch"),
    ],
)
def test_bad_input_is_refused_before_anything_is_written(
    documents, control, tenant, session, store, overrides, code
):
    overrides = {k: v() if callable(v) else v for k, v in overrides.items()}  # fresh streams
    with pytest.raises(InvalidInput) as refused:
        _store(documents, session, store, tenant, **overrides)
    assert refused.value.code == code
    assert leftovers(store) == []
    session.rollback()
    assert _rows(control, tenant) == 0


def test_blob_missing_from_the_store_is_not_found(documents, tenant, session, store):
    document = _store(documents, session, store, tenant)
    session.commit()
    store.delete(document.blob_key)
    with pytest.raises(NotFound) as refused:
        documents.open_document(session, store, document.id)
    assert refused.value.code == "blob_not_found"


def test_documents_are_indexed_by_the_entity_they_belong_to(control, tenant):
    with control.connect() as connection:
        definitions = connection.scalars(
            text("select indexdef from pg_indexes where schemaname = :s and tablename = :t"),
            {"s": tenant.schema_name, "t": "documents"},
        ).all()
    assert any("(entity_type, entity_id)" in d for d in definitions)
    assert any("UNIQUE" in d and "(blob_key)" in d for d in definitions)


def test_nightly_sweep_job_removes_old_orphans_of_its_tenant(documents, control, tenant):
    """A crash between blob and row leaves a blob only; the scheduled job finds it once old."""
    import propgroup.storage.jobs  # noqa: F401 -- registers the job
    from propgroup.jobs.registry import job_named
    from propgroup.storage.settings import configured_store

    store = configured_store()  # STORAGE_URL, set by the session fixtures
    assert isinstance(store, FileSystemBlobStore)
    old = store.put(new_key(tenant.slug, datetime.now(UTC)), io.BytesIO(PDF), max_bytes=MiB)
    fresh = store.put(new_key(tenant.slug, datetime.now(UTC)), io.BytesIO(PDF), max_bytes=MiB)
    two_days_ago = (datetime.now(UTC) - timedelta(days=2)).timestamp()
    os.utime(store.root / old.key, (two_days_ago, two_days_ago))
    job = job_named("storage.sweep_orphans")
    with tenant_session(control, tenant.schema_name) as session:
        assert job(session) == [old.key]
        assert job(session, older_than_hours=72) == []
    assert not store.exists(old.key) and store.exists(fresh.key)
