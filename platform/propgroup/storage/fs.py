"""Blobs as files under one root directory (本地文件存储): the embedded default."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from propgroup.errors import Conflict, InvalidInput, NotFound
from propgroup.storage.blobstore import (
    CHUNK_SIZE,
    BlobStore,
    ReadableStream,
    StoredBlob,
    check_expiry,
    start_upload,
    validate_key,
    validate_prefix,
)

# Partial files sit next to their final name (same filesystem, so the rename is atomic). A crash
# leaves one behind; it lists as a key no document row names, so the orphan sweep removes it.
TEMP_PREFIX = ".upload-"
READ_ONLY = 0o440


class FileSystemBlobStore(BlobStore):
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(os.path.abspath(root))

    def __repr__(self) -> str:
        return f"FileSystemBlobStore({str(self.root)!r})"

    def _path(self, key: str) -> Path:
        path = self.root.joinpath(*validate_key(key).split("/"))
        # validate_key already refuses '..'; this guards against a future change to it.
        if os.path.commonpath([self.root, os.path.normpath(path)]) != str(self.root):
            raise InvalidInput(f"blob key {key!r} escapes the store root", code="bad_blob_key")
        return path

    def put(
        self, key: str, stream: ReadableStream, *, max_bytes: int, filename: str | None = None
    ) -> StoredBlob:
        reader, content_type = start_upload(key, stream, max_bytes, filename)
        path = self._path(key)
        if path.exists():
            raise Conflict(f"blob {key!r} already exists", code="blob_exists")
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".part", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                while chunk := reader.read(CHUNK_SIZE):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temp, READ_ONLY)  # written once; nobody should edit evidence in place
            try:
                os.link(temp, path)  # atomic like rename, but never replaces an existing blob
            except FileExistsError:
                raise Conflict(f"blob {key!r} already exists", code="blob_exists") from None
        finally:
            with suppress(FileNotFoundError):
                os.unlink(temp)
        _fsync_directory(path.parent)
        return StoredBlob(key, reader.size, reader.sha256, content_type)

    def open(self, key: str) -> IO[bytes]:
        try:
            return open(self._path(key), "rb")  # the caller closes it
        except (FileNotFoundError, IsADirectoryError):
            raise NotFound(f"blob {key!r} does not exist", code="blob_not_found") from None

    def delete(self, key: str) -> None:
        with suppress(FileNotFoundError):
            self._path(key).unlink()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    # A directory cannot refuse a delete by date: files are read-only from the start (put), and
    # the archives service is what refuses destroying a held or undue item on this backend.
    def retain(self, key: str, until: datetime, mode: str) -> None:
        path = self._path(key)
        if not path.is_file():
            raise NotFound(f"blob {key!r} does not exist", code="blob_not_found")
        os.chmod(path, READ_ONLY)

    def legal_hold(self, key: str, on: bool) -> None:
        self.retain(key, datetime.now(UTC), "governance")

    def list_keys(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        validate_prefix(prefix)
        # Walk only the deepest directory the prefix names, not the whole store.
        base = self.root.joinpath(*prefix.split("/")[:-1])
        for directory, _dirs, files in os.walk(base):
            for name in files:
                path = Path(directory, name)
                key = path.relative_to(self.root).as_posix()
                if not key.startswith(prefix):
                    continue
                try:
                    mtime = path.stat().st_mtime
                except FileNotFoundError:  # deleted or renamed while we walked
                    continue
                yield key, datetime.fromtimestamp(mtime, UTC)

    def download_url(
        self, key: str, *, expires_seconds: int, filename: str, content_type: str
    ) -> str | None:
        validate_key(key)
        check_expiry(expires_seconds)
        return None  # no direct link to a local file: the app streams it


def _fsync_directory(directory: Path) -> None:
    """Make the new directory entry durable, not only the file's bytes."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
