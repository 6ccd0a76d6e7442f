"""Blobs as S3 objects (AWS S3 or MinIO) through boto3 (对象存储 S3 后端).

Credentials come from the standard chain (AWS_ACCESS_KEY_ID/…, profiles, instance roles), never
from STORAGE_URL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from propgroup.errors import Conflict, NotFound
from propgroup.storage.blobstore import (
    BlobStore,
    ReadableStream,
    StoredBlob,
    check_expiry,
    content_disposition,
    start_upload,
    validate_key,
    validate_prefix,
)

log = logging.getLogger(__name__)

PART_SIZE = 8 * 1024 * 1024
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})


def _transfer_config() -> TransferConfig:
    config = TransferConfig(
        multipart_threshold=PART_SIZE,
        multipart_chunksize=PART_SIZE,
        max_concurrency=2,
        preferred_transfer_client="classic",
    )
    # A non-seekable upload is buffered part by part, and only buffered parts can be in flight.
    # s3transfer's default of 10 is 80 MiB of parts per upload; two in flight keep a worker's
    # growth near 50 MB per upload (measured) and still outpace a client sending the bytes.
    config.max_in_memory_upload_chunks = 2
    return config


class S3BlobStore(BlobStore):
    def __init__(
        self, bucket: str, *, endpoint_url: str | None = None, region: str | None = None
    ) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        # MinIO and other S3-compatible servers want path-style URLs (no bucket subdomain).
        style = {"addressing_style": "path"} if endpoint_url else {}
        config = Config(
            signature_version="s3v4",
            s3=style,
            retries={"mode": "standard"},
            connect_timeout=5,
            read_timeout=60,
        )
        # A session of our own: boto3's default session is not safe to share across threads.
        self.client: Any = boto3.session.Session().client(
            "s3", endpoint_url=endpoint_url, region_name=region, config=config
        )
        self._transfer = _transfer_config()

    def __repr__(self) -> str:
        return f"S3BlobStore({self.bucket!r}, endpoint_url={self.endpoint_url!r})"

    def put(
        self, key: str, stream: ReadableStream, *, max_bytes: int, filename: str | None = None
    ) -> StoredBlob:
        reader, content_type = start_upload(key, stream, max_bytes, filename)
        try:
            self.client.upload_fileobj(
                reader,
                self.bucket,
                key,
                ExtraArgs={"ContentType": content_type},
                Config=self._transfer,
            )
        except BaseException:
            self._discard(key)
            raise
        return StoredBlob(key, reader.size, reader.sha256, content_type)

    def _discard(self, key: str) -> None:
        """After a failed put: no object and no multipart upload may remain for ``key``.

        s3transfer aborts its own multipart upload; this also covers a completion whose reply was
        lost. Failures here are logged, not raised, so the caller sees the original error; the
        orphan sweep and a bucket lifecycle rule for incomplete uploads are the backstop.
        """
        try:
            pages = self.client.get_paginator("list_multipart_uploads").paginate(
                Bucket=self.bucket, Prefix=key
            )
            for page in pages:
                for upload in page.get("Uploads", []):
                    if upload["Key"] == key:
                        self.client.abort_multipart_upload(
                            Bucket=self.bucket, Key=key, UploadId=upload["UploadId"]
                        )
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError):
            log.warning("could not clean up failed upload %s/%s", self.bucket, key, exc_info=True)

    def open(self, key: str) -> IO[bytes]:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=validate_key(key))
        except ClientError as exc:
            if _error_code(exc) in _MISSING:
                raise NotFound(f"blob {key!r} does not exist", code="blob_not_found") from None
            raise
        return response["Body"]

    def delete(self, key: str) -> None:
        """Every version of the key: on a versioned bucket (Object Lock needs one) a plain delete
        only adds a delete marker and the bytes stay. A locked version is refused by S3 itself."""
        key = validate_key(key)
        listed = self.client.list_object_versions(Bucket=self.bucket, Prefix=key)
        versions = [
            entry["VersionId"]
            for entry in listed.get("Versions", []) + listed.get("DeleteMarkers", [])
            if entry["Key"] == key
        ]
        try:
            for version in versions:
                self.client.delete_object(Bucket=self.bucket, Key=key, VersionId=version)
        except ClientError as exc:
            if _error_code(exc) == "AccessDenied":
                raise Conflict(
                    f"blob {key!r} is under retention or legal hold", code="blob_locked"
                ) from None
            raise

    def retain(self, key: str, until: datetime, mode: str) -> None:
        key = validate_key(key)
        current = self.client.head_object(Bucket=self.bucket, Key=key).get(
            "ObjectLockRetainUntilDate"
        )
        # A retention is only ever lengthened: shortening needs a bypass (governance) or is
        # impossible (compliance), and a later date set by an appraisal must stand.
        if current is not None and current >= until:
            return
        self.client.put_object_retention(
            Bucket=self.bucket,
            Key=key,
            Retention={"Mode": mode.upper(), "RetainUntilDate": until.astimezone(UTC)},
        )

    def legal_hold(self, key: str, on: bool) -> None:
        self.client.put_object_legal_hold(
            Bucket=self.bucket, Key=validate_key(key), LegalHold={"Status": "ON" if on else "OFF"}
        )

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=validate_key(key))
        except ClientError as exc:
            if _error_code(exc) in _MISSING:
                return False
            raise
        return True

    def list_keys(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=validate_prefix(prefix)
        )
        for page in pages:
            for item in page.get("Contents", []):
                yield item["Key"], item["LastModified"].astimezone(UTC)

    def download_url(
        self, key: str, *, expires_seconds: int, filename: str, content_type: str
    ) -> str | None:
        params = {
            "Bucket": self.bucket,
            "Key": validate_key(key),
            "ResponseContentDisposition": content_disposition(filename),
            "ResponseContentType": content_type,
        }
        return self.client.generate_presigned_url(
            "get_object", Params=params, ExpiresIn=check_expiry(expires_seconds)
        )


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
