"""Storage benchmark (`make bench`): prints figures and asserts only correctness.

- stream 1 GiB into the filesystem store and back: MB/s each way, and the peak RSS growth of the
  process doing it (target: < 64 MB, i.e. the file is never held in memory)
- the same through the S3 store against moto's HTTP server (figures for the client side only:
  moto runs in this process, the upload in a child; moto's speed is not S3's)

The upload runs in a child process so the peak resident set (VmHWM) belongs to it alone.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

from propgroup.config import PROJECT_HOME

SIZE = int(os.environ.get("BENCH_UPLOAD_BYTES", str(1024**3)))

_CHILD = r"""
import hashlib, json, random, sys, time
from datetime import UTC, datetime

from propgroup.storage.blobstore import iter_chunks, new_key, store_from_url

MiB = 1024 * 1024
size, url = int(sys.argv[1]), sys.argv[2]
block = random.Random(1).randbytes(MiB)


class Generated:
    # One random MiB with a counter in front, made as it is read: nothing accumulates.
    def __init__(self, total):
        self.remaining, self.index, self.pending = total, 0, b""

    def read(self, n=-1):
        if not self.pending and self.remaining:
            self.pending = self.index.to_bytes(8, "big") + block[8:]
            self.index += 1
        n = min(n if n >= 0 else MiB, len(self.pending), self.remaining)
        out, self.pending = self.pending[:n], self.pending[n:]
        self.remaining -= n
        return out


def status_kib(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])


def hwm_kib():
    return status_kib("VmHWM")


def reset_hwm():
    # Writing 5 to clear_refs resets the peak to the current RSS (Linux >= 4.0), so the set-up
    # above (imports, the expected hash) does not hide what the upload itself needs.
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


expected, source = hashlib.sha256(), Generated(size)
while chunk := source.read(MiB):
    expected.update(chunk)

store = store_from_url(url)
if url.startswith("s3://"):
    store.client.create_bucket(Bucket=store.bucket)
key = new_key("bench", datetime.now(UTC))
reset_hwm()
before_kib = status_kib("VmRSS")
started = time.perf_counter()
blob = store.put(key, Generated(size), max_bytes=size)
upload_s = time.perf_counter() - started
after_upload_kib = hwm_kib()

started = time.perf_counter()
digest, read = hashlib.sha256(), 0
for chunk in iter_chunks(store.open(key)):
    digest.update(chunk)
    read += len(chunk)
download_s = time.perf_counter() - started
print(json.dumps({
    "size": blob.size, "sha256": blob.sha256, "expected": expected.hexdigest(),
    "read": read, "read_sha256": digest.hexdigest(),
    "upload_s": upload_s, "download_s": download_s,
    "hwm_before_kib": before_kib, "hwm_after_upload_kib": after_upload_kib,
    "hwm_after_download_kib": hwm_kib(),
}))
"""


@pytest.fixture(params=["fs", "s3"])
def storage_url(request, tmp_path):
    if request.param == "fs":
        yield (tmp_path / "blobs").as_uri(), {}
        return
    from tests.test_storage import moto_server

    with moto_server() as endpoint:
        yield f"s3://bench?endpoint={endpoint}&region=us-east-1", dict(os.environ)


def test_bench_streamed_upload(storage_url, tmp_path):
    url, env = storage_url
    print(
        f"\n[bench] machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; store {url}",
        flush=True,
    )
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(SIZE), url],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_HOME,
        env=env or None,
        timeout=900,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    mb = SIZE / 1e6
    growth_mb = (result["hwm_after_upload_kib"] - result["hwm_before_kib"]) * 1024 / 1e6
    download_growth_mb = (result["hwm_after_download_kib"] - result["hwm_before_kib"]) * 1024 / 1e6
    print(
        f"[bench] streamed upload of {mb:.0f} MB ({url.split(':')[0]}): "
        f"{mb / result['upload_s']:.0f} MB/s ({result['upload_s']:.1f} s), "
        f"peak RSS growth {growth_mb:.1f} MB (target < 64 MB: "
        f"{'met' if growth_mb < 64 else 'MISSED'}), RSS {result['hwm_before_kib'] / 1024:.1f} "
        f"MiB before, peak {result['hwm_after_upload_kib'] / 1024:.1f} MiB during",
        flush=True,
    )
    print(
        f"[bench] streamed download: {mb / result['download_s']:.0f} MB/s, "
        f"peak RSS growth incl. upload {download_growth_mb:.1f} MB",
        flush=True,
    )
    assert result["size"] == result["read"] == SIZE
    assert result["sha256"] == result["expected"] == result["read_sha256"]
