"""API read benchmark (`make bench`): it prints figures and asserts only correctness.

One authenticated page of 50 org units (``GET /t/<slug>/api/org/units?page_size=50`` with a
bearer token: tenant resolution, token check, authorization filter, pagination with a count,
marshmallow serialization) under gunicorn on loopback, next to a bare Flask + SQLAlchemy endpoint
doing the same query (``tests/benchmarks/bare_app.py``) under the same gunicorn settings, in the
same run. Load comes from ``wrk`` when it is installed, else from a Python keep-alive generator.

Target (issue): the platform's requests/s ≥ 0.7 of the bare endpoint's, best of three runs each,
alternating. Each run prints how the workers shared the CPU: gunicorn listens with SO_REUSEPORT
(``infra/gunicorn.conf.py``), so the kernel spreads wrk's connections over the workers.

``BENCH_API_SECONDS`` (default 12, per measured run), ``BENCH_API_CONNECTIONS`` (16) and
``BENCH_API_WORKERS`` (2 gunicorn workers) vary the load.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from propgroup.config import PROJECT_HOME
from propgroup.db import engine_for, tenant_session
from propgroup.identity import service as identity
from propgroup.org import service as org
from propgroup.tenancy.migrate import upgrade_control_plane
from tests.support.databases import redis_url, server_url, throwaway_database
from tests.support.groups import provision_demo

SECONDS = int(os.environ.get("BENCH_API_SECONDS", "12"))
CONNECTIONS = int(os.environ.get("BENCH_API_CONNECTIONS", "16"))
WORKERS = int(os.environ.get("BENCH_API_WORKERS", "2"))
WARM_UP_SECONDS = 3
RUNS = 3  # of each, alternating
PAGE_SIZE = 50
EXTRA_BRANCHES = 20
FIELDS = {"id", "parent_id", "kind", "code", "name", "depth", "active"}


def _report(title: str, **figures: object) -> None:
    print(f"\n[bench] {title}: " + ", ".join(f"{k}={v}" for k, v in figures.items()), flush=True)


@pytest.fixture(scope="module")
def api_db(workdir):
    """The demo group plus 20 branches (a full page of 50) and an org:read client's token."""
    with throwaway_database(server_url(workdir), prefix="pgbenchapi") as url:
        engine = engine_for(url)
        upgrade_control_plane(engine)
        tenant = provision_demo(engine, "demo")
        with tenant_session(engine, tenant.schema_name) as session:
            region = org.get_unit_by_code(session, "EAST")
            for index in range(EXTRA_BRANCHES):
                org.create_unit(
                    session,
                    code=f"BENCH-{index:02d}",
                    kind="branch",
                    name=f"基准项目分公司 {index:02d}",
                    parent=region,
                )
            _, token = identity.create_api_client(
                session, tenant_slug=tenant.slug, name="bench", scopes=["org:read"]
            )
            session.commit()
        with engine.connect() as connection:
            units = connection.scalar(
                text(f'select count(*) from "{tenant.schema_name}".org_units')
            )
            pg_version = connection.scalar(text("select current_setting('server_version')"))
        yield {
            "url": url,
            "tenant": tenant,
            "token": token,
            "units": units,
            "pg_version": pg_version,
        }


# gunicorn


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _start_gunicorn(target: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "-c",
        "infra/gunicorn.conf.py",
        "-b",
        f"127.0.0.1:{port}",
        "-w",
        str(WORKERS),
        target,
    ]
    with log.open("wb") as out:
        return subprocess.Popen(
            command, cwd=PROJECT_HOME, env=env, stdout=out, stderr=subprocess.STDOUT
        )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=35)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _get(port: int, path: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def _wait_ready(process: subprocess.Popen, port: int, log: Path, deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            _get(port, "/", {})
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail(f"gunicorn did not answer on port {port}:\n{log.read_text()[-3000:]}")


def _workers(master: int) -> list[int]:
    """The gunicorn master's worker processes."""
    found = []
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat") as stat:
                if int(stat.read().rpartition(")")[2].split()[1]) == master:
                    found.append(int(entry))
        except OSError:
            continue
    return sorted(found)


def _cpu_s(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# load


_WRK_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _wrk_ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    assert match, value
    return float(match.group(1)) * _WRK_UNITS[match.group(2)]


def _run_wrk(url: str, headers: dict[str, str], seconds: int) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    result = subprocess.run(
        [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 30
    )
    out = result.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.MULTILINE))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": rps,
        "p50_ms": _wrk_ms(latency["50"]),
        "p99_ms": _wrk_ms(latency["99"]),
        "requests": total,
        "non_2xx": int(bad.group(1)) if bad else 0,
        # connect, read, write; a timeout (wrk's 2 s) is a slow answer, counted apart
        "socket_errors": sum(int(n) for n in errors.groups()[:3]) if errors else 0,
        "timeouts": int(errors.group(4)) if errors else 0,
    }


def _run_python(url: str, headers: dict[str, str], seconds: int) -> dict[str, float]:
    """Fallback without wrk: one keep-alive connection per thread (the GIL caps it)."""
    _, _, rest = url.partition("://")
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.partition(":")
    path = "/" + path
    latencies: list[float] = []
    failures = [0, 0]  # non-2xx, errors
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def hammer() -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        mine: list[float] = []
        bad = errors = 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                if response.status >= 300:
                    bad += 1
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except (OSError, http.client.HTTPException):
                errors += 1
                connection.close()
                connection = http.client.HTTPConnection(host, int(port), timeout=10)
                continue
            mine.append(time.perf_counter() - started)
        connection.close()
        with lock:
            latencies.extend(mine)
            failures[0] += bad
            failures[1] += errors

    started = time.perf_counter()
    threads = [threading.Thread(target=hammer) for _ in range(CONNECTIONS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000 if latencies else 0.0,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else 0.0,
        "requests": len(latencies),
        "non_2xx": failures[0],
        "socket_errors": failures[1],
        "timeouts": 0,
    }


LOAD_TOOL = "wrk" if shutil.which("wrk") else "python-threads"
_load = _run_wrk if LOAD_TOOL == "wrk" else _run_python


# the benchmark


def test_bench_api_read(api_db, workdir, tmp_path):
    tenant, token = api_db["tenant"], api_db["token"]
    headers = {"Authorization": f"Bearer {token}"}
    env = {
        **os.environ,
        "DATABASE_URL": api_db["url"],
        "REDIS_URL": redis_url(workdir),
        "STORAGE_URL": (tmp_path / "blobs").as_uri(),
        "BARE_DATABASE_URL": api_db["url"],
        "BARE_SCHEMA": tenant.schema_name,
    }
    app_port, bare_port = _free_port(), _free_port()
    while bare_port == app_port:
        bare_port = _free_port()
    app_path = f"/t/{tenant.slug}/api/org/units?page_size={PAGE_SIZE}"
    bare_path = f"/units?page_size={PAGE_SIZE}"
    app_log, bare_log = tmp_path / "gunicorn-app.log", tmp_path / "gunicorn-bare.log"
    servers: list[subprocess.Popen] = []
    try:
        servers.append(_start_gunicorn("wsgi:app", app_port, env, app_log))
        servers.append(_start_gunicorn("tests.benchmarks.bare_app:app", bare_port, env, bare_log))
        _wait_ready(servers[0], app_port, app_log)
        _wait_ready(servers[1], bare_port, bare_log)

        # Correctness: both answer 200 with the same full page, in the same order.
        status, app_headers, body = _get(app_port, app_path, headers)
        assert status == 200, body[:500]
        app_rows = json.loads(body)
        assert len(app_rows) == PAGE_SIZE
        assert set(app_rows[0]) == FIELDS
        assert json.loads(app_headers["X-Pagination"])["total"] == api_db["units"]
        status, bare_headers, body = _get(bare_port, bare_path, headers)
        assert status == 200, body[:500]
        bare_rows = json.loads(body)
        assert [r["id"] for r in bare_rows] == [r["id"] for r in app_rows]
        assert int(bare_headers["X-Total-Count"]) == api_db["units"]
        assert _get(app_port, app_path, {})[0] == 401  # the token is really checked

        print(
            f"\n[bench] machine: {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, PostgreSQL {api_db['pg_version']}; "
            f"load: {LOAD_TOOL}, {CONNECTIONS} connections, {SECONDS} s/run; "
            f"gunicorn {WORKERS} workers (infra/gunicorn.conf.py); "
            f"{api_db['units']} units in the tenant",
            flush=True,
        )
        app_url = f"http://127.0.0.1:{app_port}{app_path}"
        bare_url = f"http://127.0.0.1:{bare_port}{bare_path}"
        for url in (bare_url, app_url):
            _load(url, headers, WARM_UP_SECONDS)

        runs: dict[str, list[dict[str, float]]] = {"bare": [], "app": []}
        workers = {"bare": _workers(servers[1].pid), "app": _workers(servers[0].pid)}
        for name in ("bare", "app") * RUNS:
            cpu_before = [_cpu_s(pid) for pid in workers[name]]
            figures = _load(bare_url if name == "bare" else app_url, headers, SECONDS)
            assert figures["requests"] > 0 and figures["rps"] > 0, figures
            assert figures["non_2xx"] == 0 and figures["socket_errors"] == 0, figures
            figures["worker_cpu_s"] = "/".join(
                f"{_cpu_s(pid) - before:.1f}"
                for pid, before in zip(workers[name], cpu_before, strict=True)
            )
            runs[name].append(figures)
    finally:
        for server in servers:
            _stop(server)

    best = {name: max(results, key=lambda r: r["rps"]) for name, results in runs.items()}
    for name, label in (("app", "propgroup"), ("bare", "bare Flask + SQLAlchemy")):
        _report(
            f"api read {PAGE_SIZE} rows ({label})",
            rps=round(best[name]["rps"], 1),
            p50_ms=round(best[name]["p50_ms"], 2),
            p99_ms=round(best[name]["p99_ms"], 2),
            runs_rps="/".join(str(round(r["rps"], 1)) for r in runs[name]),
            timeouts=sum(r["timeouts"] for r in runs[name]),
            worker_cpu_s=" ".join(r["worker_cpu_s"] for r in runs[name]),
            median_rps=round(statistics.median(r["rps"] for r in runs[name]), 1),
        )
    ratio = best["app"]["rps"] / best["bare"]["rps"]
    _report("ratio app/bare", ratio=round(ratio, 3), target=f">= 0.7 (best run of {RUNS} each)")
