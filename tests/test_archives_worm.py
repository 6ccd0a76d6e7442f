"""WORM storage of archived files: against a real HTTP S3 endpoint (moto's threaded server) with
Object Lock, a locked object cannot be deleted at the storage layer, whatever the application
does; retention follows the item's due date in the tenant's mode; a legal hold follows R-ARC-2."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select, update

from propgroup.archives import holds, locks, service
from propgroup.archives.models import ArchiveItem
from propgroup.errors import Conflict
from propgroup.org import service as org
from propgroup.storage.blobstore import store_from_url
from propgroup.storage.s3 import S3BlobStore
from propgroup.tenancy import service as tenancy
from propgroup.tenancy.models import TenantSettings
from propgroup.tenancy.settings import tenant_zone
from tests.support.groups import person, provision_demo
from tests.test_storage import moto_server


@pytest.fixture(scope="module")
def s3_endpoint():
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def locked_store(s3_endpoint) -> S3BlobStore:
    """A bucket created with Object Lock, as infra/compose.yaml's MinIO bucket is."""
    bucket = f"arc-{uuid.uuid4().hex[:12]}"
    store = store_from_url(f"s3://{bucket}?endpoint={s3_endpoint}&region=us-east-1")
    store.client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    return store


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(control, "arc_worm", "档案WORM")
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


def _put(store, content=b"%PDF-1.4 voucher"):
    key = f"arc_worm/2026/{uuid.uuid4().hex}"
    store.put(key, io.BytesIO(content), max_bytes=1024, filename="v.pdf")
    return key


def _retention(store, key):
    """From the object's headers (moto's GetObjectRetention answers 500)."""
    head = store.client.head_object(Bucket=store.bucket, Key=key)
    return {
        "Mode": head.get("ObjectLockMode"),
        "RetainUntilDate": head.get("ObjectLockRetainUntilDate"),
    }


def _legal_hold(store, key):
    head = store.client.head_object(Bucket=store.bucket, Key=key)
    return head.get("ObjectLockLegalHoldStatus", "OFF")


@pytest.mark.parametrize("mode", ["governance", "compliance"])
def test_r_arc_1_locked_object_cannot_be_deleted_at_the_storage_layer(locked_store, mode):
    key = _put(locked_store)
    locked_store.retain(key, datetime.now(UTC) + timedelta(days=365), mode)
    with pytest.raises(Conflict) as refused:
        locked_store.delete(key)
    assert refused.value.code == "blob_locked"
    # Not even the raw client, without the app's checks, removes the bytes.
    version = locked_store.client.list_object_versions(Bucket=locked_store.bucket, Prefix=key)
    with pytest.raises(Exception, match="AccessDenied"):
        locked_store.client.delete_object(
            Bucket=locked_store.bucket, Key=key, VersionId=version["Versions"][0]["VersionId"]
        )
    with locked_store.open(key) as stream:
        assert stream.read() == b"%PDF-1.4 voucher"
    assert _retention(locked_store, key)["Mode"] == mode.upper()


def test_r_arc_1_retention_only_lengthens_and_a_lapsed_one_allows_delete(locked_store):
    key = _put(locked_store)
    later = datetime(2060, 1, 1, tzinfo=UTC)
    locked_store.retain(key, later, "governance")
    locked_store.retain(key, datetime(2040, 1, 1, tzinfo=UTC), "governance")
    assert _retention(locked_store, key)["RetainUntilDate"] == later
    lapsed = _put(locked_store)
    locked_store.retain(lapsed, datetime.now(UTC) + timedelta(seconds=1), "governance")
    locked_store.client.put_object_retention(  # as if the date had passed
        Bucket=locked_store.bucket,
        Key=lapsed,
        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": datetime.now(UTC) - timedelta(days=1)},
        BypassGovernanceRetention=True,
    )
    locked_store.delete(lapsed)
    assert not locked_store.exists(lapsed)


def test_r_arc_2_legal_hold_blocks_delete_until_lifted(locked_store):
    key = _put(locked_store)
    locked_store.legal_hold(key, True)
    with pytest.raises(Conflict):
        locked_store.delete(key)
    locked_store.legal_hold(key, False)
    locked_store.delete(key)
    assert not locked_store.exists(key)


def test_r_arc_1_item_files_retained_until_due_date_and_held_while_held(db, locked_store):
    """The lock job applies the catalogue: retain-until = the due date's local midnight in the
    tenant's mode (compliance here), a legal hold exactly while a hold covers the item."""
    db.execute(update(TenantSettings).values(archive_lock_mode="compliance"))
    accountant = person(db, "li.kuaiji")
    unit = org.get_unit_by_code(db, "SH-XTD")
    item = service.new_item(
        db,
        accountant,
        {
            "class_code": "bank_statement",
            "unit_id": unit.id,
            "fiscal_year": 2025,
            "title": "银行对账单 2025",
        },
    )
    permanent = service.new_item(
        db,
        accountant,
        {
            "class_code": "annual_report",
            "unit_id": unit.id,
            "fiscal_year": 2025,
            "title": "2025年度财务报告",
        },
    )
    for target in (item, permanent):
        service.add_file(
            db,
            locked_store,
            accountant,
            target.id,
            stream=io.BytesIO(b"%PDF-1.4 s"),
            filename="s.pdf",
            max_bytes=1024,
        )
    key = service.files_of(db, item)[0][1].blob_key
    kept_key = service.files_of(db, permanent)[0][1].blob_key
    ids = select(ArchiveItem.id).where(ArchiveItem.id.in_([item.id, permanent.id]))

    assert locks.sync(db, locked_store, ids) == 2
    due = datetime.combine(item.due_on, time.min, tzinfo=tenant_zone(db))
    assert item.due_on.isoformat() == "2036-01-01"
    assert _retention(locked_store, key) == {"Mode": "COMPLIANCE", "RetainUntilDate": due}
    forever = datetime.combine(locks.PERMANENT_UNTIL, time.min, tzinfo=tenant_zone(db))
    assert _retention(locked_store, kept_key)["RetainUntilDate"] == forever
    assert _legal_hold(locked_store, key) == "OFF"

    hold = holds.place_hold(
        db, person(db, "wang.xiangmu"), reason="诉讼", unit_id=unit.id, fiscal_year=2025
    )
    locks.sync(db, locked_store, holds.items_under(hold))
    assert _legal_hold(locked_store, key) == "ON" and _legal_hold(locked_store, kept_key) == "ON"
    with pytest.raises(Conflict):
        locked_store.delete(key)
    holds.release_hold(db, person(db, "sun.diqucaiwu"), hold.id, reason="结案")
    locks.sync(db, locked_store, holds.items_under(hold))
    assert _legal_hold(locked_store, key) == "OFF"
    with pytest.raises(Conflict):  # still retained until its due date
        locked_store.delete(key)
