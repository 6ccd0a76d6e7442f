"""The BlobStore interface (对象存储), blob keys, and STORAGE_URL parsing.

Backends read uploads through :class:`MeteredReader`, so hashing, counting and the size limit are
the same everywhere and no backend ever holds a whole file in memory.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import IO, Protocol
from urllib.parse import parse_qs, quote, unquote, urlsplit

from propgroup.errors import InvalidInput, TooLarge
from propgroup.storage.sniff import sniff_content_type

CHUNK_SIZE = 1024 * 1024
SNIFF_BYTES = 64 * 1024
MAX_KEY_LENGTH = 1024
# Presigned links are handed to a browser for one download; a leaked link should die quickly.
MAX_URL_EXPIRY_SECONDS = 3600

_SEGMENT = re.compile(r"[A-Za-z0-9_.-]{1,255}")


class ReadableStream(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class StoredBlob:
    key: str
    size: int
    sha256: str
    content_type: str


def validate_key(key: object) -> str:
    """Refuse keys that could leave the store's root: ``..``, absolute paths, odd characters."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(f"blob key must be 1-{MAX_KEY_LENGTH} characters", code="bad_blob_key")
    for segment in key.split("/"):
        if segment in ("", ".", "..") or not _SEGMENT.fullmatch(segment):
            raise InvalidInput(
                f"blob key {key!r} must be '/'-separated names of letters, digits, '.', '_' or "
                "'-', with no empty, '.' or '..' parts",
                code="bad_blob_key",
            )
    return key


def validate_prefix(prefix: str) -> str:
    """A listing prefix: empty, or a valid key that may end with '/'."""
    if prefix:
        validate_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


def tenant_prefix(tenant_slug: str) -> str:
    # The trailing slash keeps tenant "acme" from listing "acme2/…".
    return validate_key(tenant_slug) + "/"


def new_key(tenant_slug: str, now: datetime) -> str:
    """``<tenant>/<yyyy>/<uuid4 hex>``: grouped by tenant so a tenant's blobs list and delete
    together, by year so listings stay short; the uuid keeps the name free of user text."""
    return f"{tenant_prefix(tenant_slug)}{now.year:04d}/{uuid.uuid4().hex}"


def content_disposition(filename: str) -> str:
    """RFC 6266 attachment header: an ASCII fallback plus the UTF-8 name (Chinese names survive)."""
    name = PurePosixPath(filename.replace("\\", "/")).name or "download"
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\;' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def check_max_bytes(max_bytes: object) -> int:
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes <= 0:
        raise InvalidInput("max_bytes must be a positive integer", code="bad_max_bytes")
    return max_bytes


def check_expiry(expires_seconds: object) -> int:
    if (
        isinstance(expires_seconds, bool)
        or not isinstance(expires_seconds, int)
        or not 1 <= expires_seconds <= MAX_URL_EXPIRY_SECONDS
    ):
        raise InvalidInput(
            f"expires_seconds must be 1-{MAX_URL_EXPIRY_SECONDS}", code="bad_url_expiry"
        )
    return expires_seconds


class MeteredReader:
    """A forward-only view of ``stream`` that hashes and counts every byte it hands out.

    ``read(n)`` returns exactly ``n`` bytes unless the source ends (S3 multipart parts must be
    full-sized), and raises InvalidInput as soon as the source passes ``max_bytes``. It is not
    seekable on purpose: s3transfer then reads it front to back, once.
    """

    def __init__(self, stream: ReadableStream, max_bytes: int) -> None:
        self._stream = stream
        self._max_bytes = check_max_bytes(max_bytes)
        self._hash = hashlib.sha256()
        self._head = b""
        self.size = 0

    def peek(self, size: int) -> bytes:
        """The first ``size`` bytes, still to be returned by ``read``; call before reading."""
        if not self._head and self.size == 0:
            self._head = self._pull(size)
        return self._head

    def read(self, size: int | None = -1) -> bytes:
        if size is None or size < 0:
            parts = [self.read(CHUNK_SIZE)]
            while parts[-1]:
                parts.append(self.read(CHUNK_SIZE))
            return b"".join(parts)
        head, self._head = self._head[:size], self._head[size:]
        return head + self._pull(size - len(head)) if len(head) < size else head

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()

    def _pull(self, size: int) -> bytes:
        parts: list[bytes] = []
        wanted = size
        while wanted > 0:
            data = self._stream.read(min(wanted, CHUNK_SIZE))
            if not data:
                break
            self.size += len(data)
            if self.size > self._max_bytes:
                raise TooLarge(
                    f"upload is larger than the limit of {self._max_bytes} bytes",
                    code="upload_too_large",
                )
            self._hash.update(data)
            parts.append(data)
            wanted -= len(data)
        return b"".join(parts)


def start_upload(
    key: str, stream: ReadableStream, max_bytes: int, filename: str | None
) -> tuple[MeteredReader, str]:
    """Checks every backend makes before writing: key, limit, not empty; sniffs the type."""
    validate_key(key)
    reader = MeteredReader(stream, max_bytes)
    head = reader.peek(SNIFF_BYTES)
    if not head:
        raise InvalidInput("upload is empty", code="upload_empty")
    return reader, sniff_content_type(head, filename)


def iter_chunks(stream: IO[bytes], chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    """Chunks of ``stream`` until it ends, closing it at the end (for streamed responses)."""
    try:
        while chunk := stream.read(chunk_size):
            yield chunk
    finally:
        stream.close()


class BlobStore(ABC):
    """Where document bytes live. Keys come from :func:`new_key`; blobs are written once."""

    @abstractmethod
    def put(
        self, key: str, stream: ReadableStream, *, max_bytes: int, filename: str | None = None
    ) -> StoredBlob:
        """Stream ``stream`` to ``key``. Empty or over ``max_bytes``: InvalidInput, nothing left.

        ``filename`` only helps sniffing (xlsx/docx are zip inside, csv is text)."""

    @abstractmethod
    def open(self, key: str) -> IO[bytes]:
        """A readable binary stream of the blob (close it); NotFound if there is none."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the blob; a missing blob is not an error (sweeps and cleanups repeat). A blob
        under retention or legal hold is refused (Conflict ``blob_locked``) where the backend
        enforces locks itself."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def retain(self, key: str, until: datetime, mode: str) -> None:
        """Write-once until ``until`` (aware): no delete or overwrite before then. ``mode`` is
        ``governance`` or ``compliance`` (S3 Object Lock); a later date already set stays."""

    @abstractmethod
    def legal_hold(self, key: str, on: bool) -> None:
        """Place or lift a legal hold: while on, the blob cannot be deleted at all."""

    @abstractmethod
    def list_keys(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        """(key, last modified, aware UTC) of every blob whose key starts with ``prefix``."""

    @abstractmethod
    def download_url(
        self, key: str, *, expires_seconds: int, filename: str, content_type: str
    ) -> str | None:
        """A short-lived direct link, or None: the app must stream the blob itself."""


def _bad_url(message: str) -> InvalidInput:
    return InvalidInput(f"STORAGE_URL: {message}", code="bad_storage_url")


def store_from_url(url: str) -> BlobStore:
    """``file:///abs/path`` or ``s3://bucket?endpoint=http://host:9000&region=us-east-1``.

    Nothing is created or contacted here, so a bad URL fails before anything is written.
    """
    if not isinstance(url, str) or not url.strip():
        raise _bad_url("is empty")
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 -- raises ValueError for a non-numeric port
    except ValueError as exc:
        raise _bad_url(f"{url!r} is not a valid URL ({exc})") from exc
    if parts.scheme == "file":
        return _file_store(parts)
    if parts.scheme == "s3":
        return _s3_store(parts)
    raise _bad_url(f"unknown scheme {parts.scheme or '(none)'!r}; use file:///path or s3://bucket")


def _file_store(parts) -> BlobStore:
    from propgroup.storage.fs import FileSystemBlobStore

    if parts.netloc not in ("", "localhost"):
        raise _bad_url(
            f"file URLs name an absolute path: file:///path, not file://{parts.netloc}/… "
            "(a relative path or a host)"
        )
    if parts.query or parts.fragment:
        raise _bad_url("file URLs take no query or fragment")
    path = unquote(parts.path)
    if not path.startswith("/"):
        raise _bad_url(f"file path {path!r} must be absolute (file:///srv/blobs)")
    if "\x00" in path or any(p in (".", "..") for p in path.split("/")):
        raise _bad_url(f"file path {path!r} must not contain '.', '..' or NUL")
    return FileSystemBlobStore(path)


_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
# AWS names (us-east-1) and the free-form names MinIO accepts.
_REGION = re.compile(r"[a-z0-9][a-z0-9-]{1,39}")
_S3_PARAMS = ("endpoint", "region")


def _s3_store(parts) -> BlobStore:
    from propgroup.storage.s3 import S3BlobStore

    if "@" in parts.netloc:
        raise _bad_url("put no credentials in the URL; use AWS_ACCESS_KEY_ID/… or an AWS profile")
    bucket = parts.netloc
    if not bucket:
        raise _bad_url("s3 URL needs a bucket: s3://bucket?endpoint=…&region=…")
    if not _BUCKET.fullmatch(bucket) or ".." in bucket:
        raise _bad_url(f"{bucket!r} is not a valid bucket name (3-63 of a-z, 0-9, '.', '-')")
    if parts.path not in ("", "/") or parts.fragment:
        raise _bad_url("s3 URL is s3://bucket with no path or fragment")
    try:
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError as exc:
        raise _bad_url(f"query {parts.query!r} is malformed") from exc
    unknown = sorted(set(query) - set(_S3_PARAMS))
    if unknown:
        raise _bad_url(f"unknown s3 parameter(s) {', '.join(unknown)}; allowed: endpoint, region")
    repeated = sorted(name for name, values in query.items() if len(values) > 1)
    if repeated:
        raise _bad_url(f"s3 parameter(s) {', '.join(repeated)} given more than once")
    endpoint = query.get("endpoint", [None])[0]
    region = query.get("region", [None])[0]
    if endpoint is not None:
        target = urlsplit(endpoint)
        if target.scheme not in ("http", "https") or not target.hostname:
            raise _bad_url(f"endpoint {endpoint!r} must be an http:// or https:// URL with a host")
        if target.path not in ("", "/") or target.query or target.username:
            raise _bad_url(f"endpoint {endpoint!r} must be scheme://host[:port] only")
        try:
            target.port  # noqa: B018 -- raises ValueError for a bad port
        except ValueError as exc:
            raise _bad_url(f"endpoint {endpoint!r} has a bad port") from exc
    if region is not None and not _REGION.fullmatch(region):
        raise _bad_url(f"region {region!r} is not a region name like us-east-1")
    return S3BlobStore(bucket, endpoint_url=endpoint, region=region)
