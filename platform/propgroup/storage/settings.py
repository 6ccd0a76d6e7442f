"""Storage settings read from the environment: the configured store and the upload limit."""

from __future__ import annotations

import os
import threading

from propgroup.config import get_settings
from propgroup.errors import InvalidInput
from propgroup.storage.blobstore import BlobStore, store_from_url

DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024 * 1024

_stores: dict[str, BlobStore] = {}
_stores_lock = threading.Lock()


def max_upload_bytes() -> int:
    """``MAX_UPLOAD_BYTES`` (a whole number of bytes), else 512 MiB."""
    raw = os.environ.get("MAX_UPLOAD_BYTES", "").strip()
    if not raw:
        return DEFAULT_MAX_UPLOAD_BYTES
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise InvalidInput(
            f"MAX_UPLOAD_BYTES must be a positive whole number of bytes, not {raw!r}",
            code="bad_max_upload_bytes",
        )
    return value


def configured_store(url: str | None = None) -> BlobStore:
    """The store STORAGE_URL names (default ``instance/blobs``), one per URL per process:
    a boto3 client is costly to build and safe to share between threads."""
    url = url or get_settings().storage_url
    with _stores_lock:
        store = _stores.get(url)
        if store is None:
            store = _stores[url] = store_from_url(url)
        return store
