"""Blob stores (ARCHITECTURE: storage): one contract, run against the filesystem store and a real
HTTP S3 endpoint (moto's threaded server); STORAGE_URL parsing; content sniffing."""

from __future__ import annotations

import hashlib
import io
import random
import re
import tracemalloc
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from propgroup.errors import InvalidInput, NotFound
from propgroup.storage.blobstore import (
    BlobStore,
    new_key,
    store_from_url,
    tenant_prefix,
)
from propgroup.storage.fs import FileSystemBlobStore
from propgroup.storage.s3 import S3BlobStore
from propgroup.storage.settings import DEFAULT_MAX_UPLOAD_BYTES, max_upload_bytes
from propgroup.storage.sniff import sniff_content_type

MiB = 1024 * 1024
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" * 50


# ---------------------------------------------------------------- S3 endpoint and store fixtures


@contextmanager
def moto_server() -> Iterator[str]:
    """A real S3 HTTP endpoint on a free local port, with test credentials in the environment."""
    from moto.server import ThreadedMotoServer

    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        env.setenv("AWS_EC2_METADATA_DISABLED", "true")
        env.delenv("AWS_PROFILE", raising=False)
        env.delenv("AWS_SESSION_TOKEN", raising=False)
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        try:
            yield f"http://{host}:{port}"
        finally:
            server.stop()


def new_s3_store(endpoint: str) -> S3BlobStore:
    bucket = f"docs-{uuid.uuid4().hex[:12]}"
    store = store_from_url(f"s3://{bucket}?endpoint={endpoint}&region=us-east-1")
    assert isinstance(store, S3BlobStore)
    store.client.create_bucket(Bucket=bucket)
    return store


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture(params=["fs", "s3"])
def store(request, tmp_path) -> BlobStore:
    if request.param == "fs":
        return store_from_url((tmp_path / "blobs").as_uri())
    return new_s3_store(request.getfixturevalue("s3_endpoint"))


def leftovers(store: BlobStore) -> list[str]:
    """Everything a failed upload could leave: files (temp files too), objects, multipart uploads."""
    found = [key for key, _ in store.list_keys("")]
    if isinstance(store, FileSystemBlobStore) and store.root.exists():
        found += [str(p) for p in store.root.rglob("*") if p.is_file()]
    if isinstance(store, S3BlobStore):
        uploads = store.client.list_multipart_uploads(Bucket=store.bucket).get("Uploads", [])
        found += [f"multipart:{u['Key']}" for u in uploads]
    return found


def read_all(store: BlobStore, key: str) -> bytes:
    with store.open(key) as stream:
        return stream.read()


# ---------------------------------------------------------------- generated streams


_BLOCK = random.Random(20240501).randbytes(MiB)


class GeneratedStream:
    """``total`` bytes made of one random MiB with a block counter stamped in front, produced as
    they are read and hashed on the way out: the test never holds the file either."""

    def __init__(self, total: int, max_read: int | None = None) -> None:
        self.remaining = total
        self.max_read = max_read
        self.block = 0
        self.offset = MiB
        self.current = memoryview(b"")
        self.sha256 = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        size = self.remaining if size is None or size < 0 else min(size, self.remaining)
        if self.max_read:
            size = min(size, self.max_read)
        if size <= 0:
            return b""
        if self.offset == MiB:
            self.current = memoryview(self.block.to_bytes(8, "big") + _BLOCK[8:])
            self.block += 1
            self.offset = 0
        data = bytes(self.current[self.offset : self.offset + size])
        self.offset += len(data)
        self.remaining -= len(data)
        self.sha256.update(data)
        return data


def sha256_of_stream(stream) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with stream:
        while chunk := stream.read(MiB):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


# ---------------------------------------------------------------- the contract, both backends


def test_round_trip_keeps_bytes_size_and_sha256(store):
    key = new_key("acme", datetime.now(UTC))
    blob = store.put(key, io.BytesIO(PDF), max_bytes=MiB, filename="invoice.pdf")
    assert (blob.key, blob.size, blob.sha256) == (key, len(PDF), hashlib.sha256(PDF).hexdigest())
    assert blob.content_type == "application/pdf"
    assert store.exists(key)
    assert read_all(store, key) == PDF
    store.delete(key)
    assert not store.exists(key)
    store.delete(key)  # deleting twice is fine: cleanups and sweeps repeat
    with pytest.raises(NotFound):
        store.open(key)


@pytest.mark.parametrize(
    ("payload", "filename", "expected"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "scan.jpg", "image/png"),
        (b"GIF89a" + b"\x01" * 100, None, "image/gif"),
        (
            b"PK\x03\x04" + b"\x14" * 100,
            "budget.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        ("编号,金额\n1,100.00\n".encode(), "ledger.csv", "text/csv"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 100, "notes.txt", "application/octet-stream"),
    ],
)
def test_content_type_comes_from_the_bytes_and_is_stored_with_the_blob(
    store, payload, filename, expected
):
    key = new_key("acme", datetime.now(UTC))
    assert store.put(key, io.BytesIO(payload), max_bytes=MiB, filename=filename).content_type == (
        expected
    )
    if isinstance(store, S3BlobStore):
        head = store.client.head_object(Bucket=store.bucket, Key=key)
        assert head["ContentType"] == expected


def test_empty_upload_is_refused_and_leaves_nothing(store):
    with pytest.raises(InvalidInput, match="empty") as refused:
        store.put(new_key("acme", datetime.now(UTC)), io.BytesIO(b""), max_bytes=MiB)
    assert refused.value.code == "upload_empty"
    assert leftovers(store) == []


@pytest.mark.parametrize(
    ("size", "limit"),
    [(101, 100), (20 * MiB, 12 * MiB)],  # one request; multipart (parts of 8 MiB) then aborted
    ids=["small", "multipart"],
)
def test_oversized_upload_is_refused_and_leaves_nothing(store, size, limit):
    key = new_key("acme", datetime.now(UTC))
    calls: list[str] = []
    if isinstance(store, S3BlobStore):
        store.client.meta.events.register(
            "after-call.s3", lambda model, **_: calls.append(model.name)
        )
    with pytest.raises(InvalidInput, match=f"limit of {limit} bytes") as refused:
        store.put(key, GeneratedStream(size), max_bytes=limit)
    assert refused.value.code == "upload_too_large"
    assert leftovers(store) == []
    assert not store.exists(key)
    if isinstance(store, S3BlobStore) and size > 8 * MiB:  # the abort path really ran
        assert {"CreateMultipartUpload", "AbortMultipartUpload"} <= set(calls)


def test_upload_at_exactly_the_limit_is_accepted(store):
    blob = store.put(new_key("acme", datetime.now(UTC)), io.BytesIO(b"x" * 100), max_bytes=100)
    assert blob.size == 100


def test_short_reads_from_the_client_still_make_full_size_parts(store):
    """A socket hands out a few KiB per read; S3 refuses multipart parts under 5 MiB but the last,
    so the reader must fill each part."""
    source = GeneratedStream(9 * MiB + 5, max_read=64 * 1024)
    blob = store.put(new_key("acme", datetime.now(UTC)), source, max_bytes=16 * MiB)
    assert (blob.size, blob.sha256) == (9 * MiB + 5, source.sha256.hexdigest())
    assert sha256_of_stream(store.open(blob.key)) == (blob.sha256, blob.size)


def test_200_mb_upload_streams_through_without_holding_the_file(store):
    total = 200 * MiB
    source = GeneratedStream(total)
    key = new_key("acme", datetime.now(UTC))
    measuring = isinstance(store, FileSystemBlobStore)  # moto's server shares this process
    if measuring:
        tracemalloc.start()
    try:
        blob = store.put(key, source, max_bytes=DEFAULT_MAX_UPLOAD_BYTES)
        peak = tracemalloc.get_traced_memory()[1] if measuring else 0
    finally:
        tracemalloc.stop()
    assert source.remaining == 0
    assert (blob.size, blob.sha256) == (total, source.sha256.hexdigest())
    assert blob.content_type == "application/octet-stream"
    assert peak < 16 * MiB, f"peak Python allocation {peak / MiB:.1f} MiB"
    assert sha256_of_stream(store.open(key)) == (blob.sha256, total)


def test_keys_are_tenant_then_year_then_uuid_and_list_by_tenant(store):
    when = datetime(2024, 5, 1, tzinfo=UTC)
    key = new_key("acme", when)
    assert re.fullmatch(r"acme/2024/[0-9a-f]{32}", key)
    assert new_key("acme", when) != key
    store.put(key, io.BytesIO(b"ours"), max_bytes=MiB)
    store.put(new_key("acme2", when), io.BytesIO(b"theirs"), max_bytes=MiB)
    listed = list(store.list_keys(tenant_prefix("acme")))
    assert [k for k, _ in listed] == [key]
    modified = listed[0][1]
    assert modified.tzinfo is not None
    assert abs((datetime.now(UTC) - modified).total_seconds()) < 120


@pytest.mark.parametrize(
    "key", ["../x", "acme/../../x", "/etc/passwd", "acme//x", "acme/./x", "acme\\..\\x", "", "a b"]
)
def test_keys_that_could_leave_the_store_are_refused(store, tmp_path, key):
    with pytest.raises(InvalidInput, match="blob key"):
        store.put(key, io.BytesIO(b"data"), max_bytes=MiB)
    for action in (store.open, store.delete, store.exists):
        with pytest.raises(InvalidInput, match="blob key"):
            action(key)
    assert leftovers(store) == []
    assert not (tmp_path / "x").exists()


def test_download_url_expiry_must_be_short(store):
    key = new_key("acme", datetime.now(UTC))
    for seconds in (0, 3601):
        with pytest.raises(InvalidInput, match="expires_seconds"):
            store.download_url(
                key, expires_seconds=seconds, filename="a.pdf", content_type="application/pdf"
            )


def test_filesystem_has_no_direct_link_so_the_app_proxies(tmp_path):
    store = FileSystemBlobStore(tmp_path)
    key = new_key("acme", datetime.now(UTC))
    store.put(key, io.BytesIO(PDF), max_bytes=MiB)
    assert store.download_url(key, expires_seconds=60, filename="a.pdf", content_type="x/y") is None


def test_filesystem_blob_appears_whole_or_not_at_all(tmp_path):
    """Written to a temp file beside the final name and linked into place: a failed upload leaves
    neither a partial final file nor the temp file."""

    class Broken(GeneratedStream):
        def read(self, size=-1):
            if self.block >= 3:
                raise ConnectionResetError("client went away")
            return super().read(size)

    store = FileSystemBlobStore(tmp_path)
    key = new_key("acme", datetime.now(UTC))
    with pytest.raises(ConnectionResetError):
        store.put(key, Broken(10 * MiB), max_bytes=64 * MiB)
    assert leftovers(store) == []


def test_s3_presigned_url_downloads_with_a_short_expiry_and_the_filename(s3_endpoint):
    store = new_s3_store(s3_endpoint)
    key = new_key("acme", datetime.now(UTC))
    store.put(key, io.BytesIO(PDF), max_bytes=MiB)
    url = store.download_url(
        key, expires_seconds=60, filename="发票 2024.pdf", content_type="application/pdf"
    )
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["60"]
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert abs((datetime.now(UTC) - signed_at).total_seconds()) < 60
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.read() == PDF
        assert response.headers["Content-Type"] == "application/pdf"
        disposition = response.headers["Content-Disposition"]
    assert "filename*=UTF-8''%E5%8F%91%E7%A5%A8%202024.pdf" in disposition
    assert 'filename="__ 2024.pdf"' in disposition


def test_s3_presigned_url_is_signed_for_this_object_only(s3_endpoint):
    store = new_s3_store(s3_endpoint)
    key = new_key("acme", datetime.now(UTC))
    store.put(key, io.BytesIO(PDF), max_bytes=MiB)
    url = store.download_url(key, expires_seconds=30, filename="a.pdf", content_type="x/y")
    tampered = url.replace(key.rsplit("/", 1)[1], uuid.uuid4().hex)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(tampered, timeout=10)
    assert refused.value.code in (403, 404)


# ---------------------------------------------------------------- STORAGE_URL


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", "empty"),
        ("ftp://host/blobs", "unknown scheme 'ftp'"),
        ("/srv/blobs", "unknown scheme '(none)'"),
        ("file:relative/blobs", "must be absolute"),
        ("file://relative/blobs", "absolute path"),
        ("file:///srv/../etc", "'..'"),
        ("file:///srv/blobs?mode=x", "no query"),
        ("s3://", "needs a bucket"),
        ("s3://?region=us-east-1", "needs a bucket"),
        ("s3://Bad_Bucket", "not a valid bucket name"),
        ("s3://ab", "not a valid bucket name"),
        ("s3://key:secret@bucket", "no credentials"),
        ("s3://bucket/prefix", "no path"),
        ("s3://bucket?endpont=http://minio:9000", "unknown s3 parameter(s) endpont"),
        ("s3://bucket?region=us-east-1&region=eu-west-1", "region given more than once"),
        ("s3://bucket?endpoint=minio:9000", "http:// or https://"),
        ("s3://bucket?endpoint=http://minio:99999", "bad port"),
        ("s3://bucket?endpoint=http://minio:9000/path", "scheme://host[:port] only"),
        ("s3://bucket?region=US%20EAST", "not a region name"),
        ("s3://bucket?region", "malformed"),
    ],
)
def test_bad_storage_url_is_refused_naming_the_problem(url, reason):
    with pytest.raises(InvalidInput) as refused:
        store_from_url(url)
    assert refused.value.code == "bad_storage_url"
    assert reason in refused.value.message
    assert refused.value.message.startswith("STORAGE_URL: ")


def test_storage_url_chooses_the_backend_and_creates_nothing(tmp_path):
    root = tmp_path / "not yet"
    store = store_from_url(root.as_uri())
    assert isinstance(store, FileSystemBlobStore) and store.root == root
    assert not root.exists()
    assert isinstance(store_from_url(f"file://localhost{tmp_path}"), FileSystemBlobStore)
    s3 = store_from_url("s3://propgroup?endpoint=http://minio:9000&region=us-east-1")
    assert isinstance(s3, S3BlobStore)
    assert (s3.bucket, s3.endpoint_url, s3.client.meta.region_name) == (
        "propgroup",
        "http://minio:9000",
        "us-east-1",
    )
    assert isinstance(store_from_url("s3://propgroup"), S3BlobStore)  # AWS itself


def test_max_upload_bytes_comes_from_the_environment(monkeypatch):
    monkeypatch.delenv("MAX_UPLOAD_BYTES", raising=False)
    assert max_upload_bytes() == 512 * MiB
    monkeypatch.setenv("MAX_UPLOAD_BYTES", "1048576")
    assert max_upload_bytes() == MiB
    for bad in ("0", "-5", "1e6", "lots"):
        monkeypatch.setenv("MAX_UPLOAD_BYTES", bad)
        with pytest.raises(InvalidInput, match="MAX_UPLOAD_BYTES"):
            max_upload_bytes()


# ---------------------------------------------------------------- sniffing


@pytest.mark.parametrize(
    ("head", "filename", "expected"),
    [
        (b"%PDF-1.4\n", None, "application/pdf"),
        (b"\r\n%PDF-1.4\n", "x.bin", "application/pdf"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", None, "image/png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", None, "image/jpeg"),
        (b"GIF87a\x01\x00", None, "image/gif"),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", None, "image/webp"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None, "application/octet-stream"),
        (b"PK\x03\x04\x14\x00", None, "application/zip"),
        (b"PK\x03\x04\x14\x00", "archive.zip", "application/zip"),
        (
            b"PK\x03\x04\x14\x00",
            "C:\\fakepath\\报表.XLSX",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        (
            b"PK\x03\x04\x14\x00",
            "contract.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (b"PK\x05\x06" + b"\x00" * 18, None, "application/zip"),
        (b"hello, world\n", None, "text/plain"),
        (b"a,b\r\n1,2\r\n", "data.csv", "text/csv"),
        ("\ufeff名称,金额\n物业费,100\n".encode(), "x.csv", "text/csv"),
        ("名称,金额\n物业费,100\n".encode("gb18030"), "导出.csv", "text/csv"),
        ("合同".encode()[:-1], None, "text/plain"),  # chunk ends inside a character
        ("文本".encode("utf-16"), None, "text/plain"),
        (b"text with a NUL\x00", None, "application/octet-stream"),
        (b"\x1b[0mbell\x07", None, "application/octet-stream"),
        (bytes(range(256)), "x.csv", "application/octet-stream"),
        (b"\x7fELF\x02\x01", "evil.pdf", "application/octet-stream"),
    ],
)
def test_sniffing_reads_magic_bytes_and_text_not_the_claimed_type(head, filename, expected):
    assert sniff_content_type(head, filename) == expected
