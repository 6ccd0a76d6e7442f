"""Tenancy benchmarks (`make bench`): they print figures and assert only correctness.

- provision 200 tenants: median and p95 per tenant (target: median ≤ 300 ms)
- upgrade 1,000 tenant schemas with one additive migration (target: ≤ 60 s on 2 cores)
- `tenants migrate` over 1,000 schemas already at head (target: ≤ 5 s)
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time

import pytest

from propgroup.config import PROJECT_HOME
from propgroup.db import engine_for
from propgroup.tenancy import service
from propgroup.tenancy.migrate import migrate_tenants, upgrade_control_plane
from propgroup.tenancy.templates import load_template
from tests.support.databases import server_url, throwaway_database
from tests.support.revisions import EXTRA_REVISION, write_extra_revision

TENANTS = int(os.environ.get("BENCH_TENANTS", "1000"))
JOBS = int(os.environ.get("BENCH_JOBS", str(os.cpu_count() or 2)))


def _machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def _report(title: str, **figures: object) -> None:
    print(f"\n[bench] {title}: " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)


@pytest.fixture(scope="module")
def bench_db(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("bench")
    with throwaway_database(server_url(workdir), prefix="pgbench") as url:
        engine = engine_for(url)
        upgrade_control_plane(engine)
        yield url, engine


def test_bench_tenancy(bench_db, tmp_path):
    url, engine = bench_db
    template = load_template(PROJECT_HOME / "tenants/templates/commercial-property-cn.toml")
    print(f"\n[bench] machine: {_machine()}; database: {engine.dialect.server_version_info}")

    timings = []
    for index in range(TENANTS):
        started = time.perf_counter()
        service.provision_tenant(
            engine, slug=f"bench_{index:05d}", name=f"B{index}", template=template
        )
        timings.append(time.perf_counter() - started)
    first = sorted(timings[:200])
    _report(
        "provision 200 tenants (per tenant)",
        median_ms=round(statistics.median(first) * 1000, 1),
        p95_ms=round(first[int(len(first) * 0.95) - 1] * 1000, 1),
        max_ms=round(first[-1] * 1000, 1),
    )
    _report(
        f"provision all {TENANTS}",
        total_s=round(sum(timings), 1),
        median_ms=round(statistics.median(timings) * 1000, 1),
    )

    started = time.perf_counter()
    noop = migrate_tenants(url, jobs=JOBS)
    elapsed = time.perf_counter() - started
    assert noop.at_head == TENANTS and not noop.upgraded and not noop.failed
    _report(f"migrate {TENANTS} schemas already at head (in process)", total_s=round(elapsed, 3))

    command = [sys.executable, "-m", "propgroup", "tenants", "migrate", "--jobs", str(JOBS)]
    started = time.perf_counter()
    result = subprocess.run(
        command,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stderr
    assert f"{TENANTS} already at head" in result.stdout
    _report(
        f"`propgroup tenants migrate` over {TENANTS} at head, new process",
        total_s=round(elapsed, 3),
    )

    extra = write_extra_revision(tmp_path / "versions")
    started = time.perf_counter()
    report = migrate_tenants(url, jobs=JOBS, extra_locations=[extra])
    elapsed = time.perf_counter() - started
    assert not report.failed and len(report.upgraded) == TENANTS
    assert all(t.schema_revision == EXTRA_REVISION for t in service.list_tenants(engine))
    _report(
        f"upgrade {TENANTS} schemas, one additive migration (column + index)",
        jobs=JOBS,
        total_s=round(elapsed, 2),
        per_tenant_ms=round(elapsed / TENANTS * 1000, 1),
    )
