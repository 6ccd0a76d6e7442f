"""Approvals under concurrent approvers (`make bench`): it prints figures and asserts only correctness.

1,000 submitted requests (amount ≤ 5,000, so each has the two steps branch accountant → branch
head) spread over 20 new branches of the demo group, decided by 50 people at once through the
HTTP API on loopback (personal tokens) against the real app under gunicorn. Each approver loops:
``GET /api/approvals?status=in_approval&page_size=50`` (what they can see), then
``POST /api/approvals/<id>/decisions {"step": n, "approve": true}`` for every request waiting on
their step. Ten branches have two people on the same step (two accountants on five, two heads on
five), so they race for the same decision: one gets 200, the other 409.

Afterwards the database is checked: every step decided exactly once, by someone holding the role,
not the requester, never two steps by one person; every 200 matches the stored decider (no lost
update) and there are as many 200s as decided steps; one audit event per decision and the chain
intact; no 5xx. Those anomalies must be 0. The rate is printed, not asserted.

Target (issue): ≥ 200 decisions/s on 2 cores.

``BENCH_APR_TIME_LIMIT`` (default 90 s) caps the load phase; ``BENCH_API_WORKERS`` (2) sets the
gunicorn workers, as for the API read benchmark. The approvers' keep-alive connections are spread
evenly over the workers (gthread lets the first worker to wake keep whatever it accepts);
``BENCH_APR_BALANCE=0`` leaves them where they land.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import random
import statistics
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from sqlalchemy import make_url, text

from propgroup.approvals import service as approvals
from propgroup.audit.service import verify as verify_audit_chain
from propgroup.db import engine_for, tenant_session
from propgroup.identity import service as identity
from propgroup.identity.models import User
from propgroup.org import service as org
from propgroup.org.models import OrgUnit
from propgroup.tenancy.migrate import upgrade_control_plane
from tests.benchmarks.test_bench_api import (
    WORKERS,
    _cpu_s,
    _free_port,
    _report,
    _start_gunicorn,
    _stop,
    _wait_ready,
    _workers,
)
from tests.support.databases import redis_url, server_url, throwaway_database
from tests.support.groups import provision_demo

TIME_LIMIT_S = float(os.environ.get("BENCH_APR_TIME_LIMIT", "90"))
BRANCHES = 20
REQUESTS_PER_BRANCH = 50  # 1,000 requests, 2,000 decisions
DOUBLE_ACCOUNTANTS = range(0, 5)  # branches where two accountants race on step 1
DOUBLE_HEADS = range(5, 10)  # … and two heads on step 2 → 20×2 + 10 = 50 approvers
PAGE_SIZE = 50
BALANCE = os.environ.get("BENCH_APR_BALANCE", "1") != "0"  # spread connections over workers
IDLE_POLL_S = 0.05  # an approver with nothing to decide looks again after this
PASSWORD = "bench-approvals-2026"
SCOPES = ["approvals:read", "approvals:write"]
STEP_OF_ROLE = {"branch_accountant": 1, "branch_head": 2}


@dataclass
class Approver:
    login: str
    user_id: int
    role: str
    branch: str
    token: str

    @property
    def step(self) -> int:
        return STEP_OF_ROLE[self.role]


@dataclass
class Tally:
    """What one approver thread saw; merged after the run."""

    decided: list[tuple[int, int, int]] = field(default_factory=list)  # (request, step, user)
    decision_s: list[float] = field(default_factory=list)  # latency of each 200 POST
    conflict_s: list[float] = field(default_factory=list)  # latency of each 409 POST
    list_s: list[float] = field(default_factory=list)  # latency of each GET of the inbox
    statuses: Counter = field(default_factory=Counter)  # (method, status) → count
    unexpected: list[str] = field(default_factory=list)  # anything but 200/409, with its body
    bad_bodies: list[str] = field(default_factory=list)  # a 200 that does not show our decision
    post_transport_errors: int = 0  # a POST whose outcome we could not see
    reconnects: int = 0
    idle_polls: int = 0


@pytest.fixture(scope="module")
def approvals_db(workdir):
    """The demo group, 20 branches with their approvers and requesters, 1,000 submitted requests."""
    with throwaway_database(server_url(workdir), prefix="pgbenchapr") as url:
        engine = engine_for(url)
        upgrade_control_plane(engine)
        tenant = provision_demo(engine, "demo")
        approvers: list[Approver] = []
        requester_of_branch: dict[str, int] = {}
        request_ids: list[int] = []
        started = time.perf_counter()
        with tenant_session(engine, tenant.schema_name) as session:
            regions = [org.get_unit_by_code(session, code) for code in ("EAST", "SOUTH")]

            def person(login: str, role: str, unit: OrgUnit) -> User:
                user = identity.create_user(
                    session,
                    login=login,
                    display_name=login,
                    email=f"{login}@bench.test",
                    password=PASSWORD,
                )
                identity.assign_role(session, user, role, unit)
                return user

            branches = []
            for index in range(BRANCHES):
                code = f"APR-{index:02d}"
                branch = org.create_unit(
                    session,
                    code=code,
                    kind="branch",
                    name=f"审批基准项目分公司 {index:02d}",
                    parent=regions[index % 2],
                )
                branches.append(branch)
                people = [("acc", "branch_accountant"), ("head", "branch_head")]
                if index in DOUBLE_ACCOUNTANTS:
                    people.append(("acc2", "branch_accountant"))
                if index in DOUBLE_HEADS:
                    people.append(("head2", "branch_head"))
                for suffix, role in people:
                    user = person(f"apr{index:02d}.{suffix}", role, branch)
                    _, token = identity.create_api_client(
                        session,
                        tenant_slug=tenant.slug,
                        name=f"pat {user.login}",
                        scopes=SCOPES,
                        acting_user=user,
                    )
                    approvers.append(Approver(user.login, user.id, role, code, token))
                requester = person(f"apr{index:02d}.staff", "department_head", branch)
                requester_of_branch[code] = requester.id
            session.commit()
            people_s = time.perf_counter() - started

            for index, branch in enumerate(branches):
                requester = identity.user_principal(
                    identity.get_user(session, requester_of_branch[branch.code])
                )
                for number in range(REQUESTS_PER_BRANCH):
                    amount = Decimal(100 + (index * REQUESTS_PER_BRANCH + number) * 4)
                    assert amount <= 5000  # stays at the branch: accountant → head
                    request = approvals.create_request(
                        session,
                        requester,
                        request_type="expense_claim",
                        unit_id=branch.id,
                        title=f"差旅报销 {branch.code}-{number:02d}",
                        payee="基准员工",
                        lines=[
                            {
                                "category": "travel",
                                "description": "上海-杭州 高铁",
                                "amount": f"{amount:.2f}",
                            }
                        ],
                    )
                    approvals.submit(session, requester, request.id)
                    request_ids.append(request.id)
                session.commit()
        setup_s = time.perf_counter() - started
        with engine.connect() as connection:
            pg_version = connection.scalar(text("select current_setting('server_version')"))
            chains = connection.execute(
                text(
                    f"select request_id, string_agg(role, '>' order by seq) "
                    f'from "{tenant.schema_name}".approval_steps group by request_id'
                )
            ).all()
        chain_of = dict(chains)
        assert len(request_ids) == BRANCHES * REQUESTS_PER_BRANCH
        assert {chain_of[r] for r in request_ids} == {"branch_accountant>branch_head"}
        yield {
            "url": url,
            "engine": engine,
            "tenant": tenant,
            "approvers": approvers,
            "requester_of_branch": requester_of_branch,
            "request_ids": request_ids,
            "pg_version": pg_version,
            "people_s": people_s,
            "setup_s": setup_s,
        }


# load: one thread and one keep-alive connection per approver


def _approve_all(
    connection: http.client.HTTPConnection,
    slug: str,
    me: Approver,
    deadline: float,
    start: threading.Barrier,
    tally: Tally,
) -> None:
    headers = {"Authorization": f"Bearer {me.token}", "Accept": "application/json"}
    post_headers = {**headers, "Content-Type": "application/json"}
    base = f"/t/{slug}/api/approvals"
    shuffle = random.Random(me.user_id)  # racing colleagues work through the inbox differently
    port = connection.port

    def call(method: str, path: str, body: bytes | None, hdrs: dict[str, str]):
        nonlocal connection
        connection.request(method, path, body=body, headers=hdrs)
        response = connection.getresponse()
        data = response.read()
        if response.getheader("Connection", "").lower() == "close":
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        return response.status, response.getheader("X-Pagination"), data

    def reconnect() -> None:
        nonlocal connection
        connection.close()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        tally.reconnects += 1

    def inbox() -> tuple[list[dict], int] | None:
        """Requests waiting on my step, and how many in approval I can see; None on failure."""
        waiting: list[dict] = []
        page, total = 1, 0
        while True:
            path = f"{base}?status=in_approval&page_size={PAGE_SIZE}&page={page}"
            began = time.perf_counter()
            try:
                status, pagination, data = call("GET", path, None, headers)
            except (OSError, http.client.HTTPException):
                reconnect()
                return None
            tally.list_s.append(time.perf_counter() - began)
            tally.statuses["GET", status] += 1
            if status != 200:
                tally.unexpected.append(f"GET {status} {data[:300]!r}")
                return None
            rows = json.loads(data)
            total = json.loads(pagination)["total"] if pagination else len(rows)
            waiting += [r for r in rows if r["current_step"] == me.step]
            if waiting or page * PAGE_SIZE >= total:
                return waiting, total
            page += 1

    try:
        start.wait(timeout=120)
        while time.monotonic() < deadline:
            seen = inbox()
            if seen is None:
                time.sleep(IDLE_POLL_S)
                continue
            waiting, total = seen
            if total == 0 or (not waiting and me.step == 1):
                return  # nothing left that can ever wait on my step (no request is rejected)
            if not waiting:
                tally.idle_polls += 1
                time.sleep(IDLE_POLL_S)
                continue
            shuffle.shuffle(waiting)
            for row in waiting:
                if time.monotonic() >= deadline:
                    return
                body = json.dumps({"step": me.step, "approve": True}).encode()
                began = time.perf_counter()
                try:
                    status, _, data = call(
                        "POST", f"{base}/{row['id']}/decisions", body, post_headers
                    )
                except (OSError, http.client.HTTPException):
                    tally.post_transport_errors += 1
                    reconnect()
                    continue
                took = time.perf_counter() - began
                tally.statuses["POST", status] += 1
                if status == 200:
                    tally.decision_s.append(took)
                    tally.decided.append((row["id"], me.step, me.user_id))
                    shown = json.loads(data)
                    mine = shown["steps"][me.step - 1]
                    if mine["decided_by"] != me.user_id or mine["status"] != "approved":
                        tally.bad_bodies.append(f"{row['id']}/{me.step}: {mine}")
                elif status == 409:
                    tally.conflict_s.append(took)
                else:
                    tally.unexpected.append(f"POST {row['id']} {status} {data[:300]!r}")
    finally:
        connection.close()


# processes: the workers must all have loaded the app before the load starts, or the keep-alive
# connections all land on the first one and stay there; CPU seconds per process show the split.


def _wait_workers_loaded(master: int, expected: int, deadline_s: float = 60) -> list[int]:
    """Worker pids once each sits in its accept/keep-alive poll, i.e. has imported the app."""
    deadline, settled = time.monotonic() + deadline_s, 0
    while time.monotonic() < deadline:
        workers = _workers(master)
        waiting = []
        for pid in workers:
            try:
                with open(f"/proc/{pid}/wchan") as wchan:
                    name = wchan.read()
                waiting.append("poll" in name or "select" in name)
            except OSError:
                waiting.append(False)
        settled = settled + 1 if len(workers) == expected and all(waiting) else 0
        if settled >= 3:
            return workers
        time.sleep(0.1)
    pytest.fail(f"gunicorn workers did not all load the app: {_workers(master)}")


def _backends(database: str) -> list[int]:
    """PostgreSQL backends on this database, when the server runs on this machine."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    if f" {database} ".encode() in cmdline.read():
                        found.append(int(entry))
            except OSError:
                continue
    return found


def _worker_of_client_port(workers: list[int], port: int) -> dict[int, int]:
    """Client-side port of each accepted connection → the worker pid holding it."""
    owner_of_inode = {}
    for pid in workers:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    owner_of_inode[target[8:-1]] = pid
        except OSError:
            continue
    found = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as lines:
                rows = lines.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if int(local.rpartition(":")[2], 16) == port and inode in owner_of_inode:
                found[int(remote.rpartition(":")[2], 16)] = owner_of_inode[inode]
    return found


def _dial_balanced(port: int, workers: list[int], count: int) -> list[http.client.HTTPConnection]:
    """``count`` keep-alive connections, as evenly spread over the workers as we can make them.

    gunicorn's gthread workers race to accept, and the winner keeps a keep-alive connection for
    good: left alone, one worker often ends up with most of them and the run measures one
    process (one GIL) instead of the deployment. A connection that lands on a worker which has
    its share already is closed and dialled again.
    """
    share = -(-count // len(workers))
    held: Counter = Counter()
    connections = []
    for _ in range(count):
        for _attempt in range(50):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", "/")  # accepted once answered
            connection.getresponse().read()
            owner = _worker_of_client_port(workers, port).get(connection.sock.getsockname()[1])
            if owner is None or held[owner] < share:
                break
            connection.close()
        held[owner] += 1
        connections.append(connection)
    return connections


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(len(ordered) * q + 0.5) - 1))]


# the anomaly check, straight from the database


def _anomalies(
    db: dict, decided: list[tuple[int, int, int]]
) -> tuple[dict[str, int], list[str], list[int]]:
    schema = db["tenant"].schema_name
    ours = set(db["request_ids"])
    roles_of: dict[tuple[str, str], set[int]] = defaultdict(set)
    for approver in db["approvers"]:
        roles_of[approver.branch, approver.role].add(approver.user_id)
    with db["engine"].connect() as connection:
        steps = connection.execute(
            text(
                f"select s.request_id, s.revision, s.seq, s.role, s.status, s.decided_by, "
                f"s.acting_for, u.code as branch, r.requester_id, r.status as request_status, "
                f"r.current_step "
                f'from "{schema}".approval_steps s '
                f'join "{schema}".approval_requests r on r.id = s.request_id '
                f'join "{schema}".org_units u on u.id = r.unit_id '
                f"where r.id = any(:ids) order by s.request_id, s.revision, s.seq"
            ),
            {"ids": sorted(ours)},
        ).all()
        audited = connection.execute(
            text(
                f"select entity_id::bigint, (after->>'step')::int, count(*), "
                f"array_agg(actor_id) "
                f"from \"{schema}\".audit_events where action = 'approvals.approved' "
                f"group by 1, 2"
            )
        ).all()
    with tenant_session(db["engine"], schema) as session:
        chain = verify_audit_chain(session)

    found: Counter = Counter()
    examples: list[str] = []

    def flag(kind: str, detail: str) -> None:
        found[kind] += 1
        if len(examples) < 10:
            examples.append(f"{kind}: {detail}")

    # Client side: one 200 per step, ever.
    answered = Counter((request, step) for request, step, _ in decided)
    for key, times in answered.items():
        if times > 1:
            flag("double_decision_200", f"{key} answered 200 {times} times")
    decider_by_response = {(request, step): user for request, step, user in decided}

    by_request: dict[int, list] = defaultdict(list)
    for row in steps:
        by_request[row.request_id].append(row)
    decided_steps = 0
    unfinished: list[int] = []
    for request_id in sorted(ours):
        rows = by_request.get(request_id, [])
        if [(r.revision, r.seq) for r in rows] != [(1, 1), (1, 2)]:
            flag("bad_chain", f"{request_id}: {[(r.revision, r.seq) for r in rows]}")
            continue
        first = rows[0]
        if first.request_status == "in_approval":
            unfinished.append(request_id)  # the time limit ran out before it was decided
        elif first.request_status != "approved" or first.current_step is not None:
            flag("not_approved", f"{request_id}: {first.request_status}/{first.current_step}")
        deciders = []
        for row in rows:
            if row.status == "pending" and first.request_status == "in_approval":
                continue
            if row.status != "approved" or row.decided_by is None:
                flag("step_not_decided", f"{request_id}/{row.seq}: {row.status}")
                continue
            decided_steps += 1
            deciders.append(row.decided_by)
            if row.acting_for is not None:
                flag("unexpected_delegation", f"{request_id}/{row.seq}")
            if row.decided_by not in roles_of[row.branch, row.role]:
                flag("wrong_decider", f"{request_id}/{row.seq} by {row.decided_by}")
            if row.decided_by == row.requester_id:
                flag("self_approval", f"{request_id}/{row.seq}")
            answered_by = decider_by_response.get((request_id, row.seq))
            if answered_by is None:
                flag("decided_without_200", f"{request_id}/{row.seq} by {row.decided_by}")
            elif answered_by != row.decided_by:
                flag(
                    "lost_update",
                    f"{request_id}/{row.seq}: 200 to {answered_by}, stored {row.decided_by}",
                )
        if len(deciders) == 2 and deciders[0] == deciders[1]:
            flag("two_steps_one_person", f"{request_id} by {deciders[0]}")
    if len(decided) != decided_steps:
        flag("responses_vs_steps", f"{len(decided)} 200s, {decided_steps} decided steps")

    events = {(int(r[0]), r[1]): (r[2], r[3]) for r in audited if int(r[0]) in ours}
    decided_keys = {(r.request_id, r.seq) for r in steps if r.status != "pending"}
    for request_id in sorted(ours):
        for seq in (1, 2):
            count, actors = events.get((request_id, seq), (0, []))
            if count == 0 and (request_id, seq) not in decided_keys:
                continue  # left pending by the time limit
            if count != 1:
                flag("audit_events_per_decision", f"{request_id}/{seq}: {count} events")
            elif actors[0] != decider_by_response.get((request_id, seq), actors[0]):
                flag("audit_actor", f"{request_id}/{seq}: {actors}")
    if not chain.intact:
        flag("audit_chain", f"row {chain.first_bad_id}: {chain.reason}")
    return dict(found), examples, unfinished


# the benchmark


def test_bench_approvals_concurrent_decisions(approvals_db, workdir, tmp_path):
    db = approvals_db
    tenant, approvers = db["tenant"], db["approvers"]
    assert len(approvers) == 50
    env = {
        **os.environ,
        "DATABASE_URL": db["url"],
        "REDIS_URL": redis_url(workdir),
        "STORAGE_URL": (tmp_path / "blobs").as_uri(),
        "GUNICORN_ACCESSLOG": os.environ.get("GUNICORN_ACCESSLOG", "-"),
    }
    port = _free_port()
    log = tmp_path / "gunicorn-approvals.log"
    tallies = [Tally() for _ in approvers]
    server = _start_gunicorn("wsgi:app", port, env, log)
    try:
        _wait_ready(server, port, log)
        workers = _wait_workers_loaded(server.pid, WORKERS)
        connections = (
            _dial_balanced(port, workers, len(approvers))
            if BALANCE
            else [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in approvers]
        )
        owners = _worker_of_client_port(workers, port)
        spread = Counter(owners.get(c.sock.getsockname()[1]) for c in connections if c.sock)
        print(
            f"\n[bench] machine: {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}, PostgreSQL {db['pg_version']}; "
            f"load: python-threads, {len(approvers)} approvers (one keep-alive connection each, "
            f"{'balanced' if BALANCE else 'as accepted'} over the workers); "
            f"gunicorn {WORKERS} workers (infra/gunicorn.conf.py); "
            f"{len(db['request_ids'])} requests × 2 steps over {BRANCHES} branches, "
            f"{len(DOUBLE_ACCOUNTANTS) + len(DOUBLE_HEADS)} with two people on one step; "
            f"setup {db['setup_s']:.1f} s (people {db['people_s']:.1f} s)",
            flush=True,
        )
        start = threading.Barrier(len(approvers) + 1)
        deadline = time.monotonic() + TIME_LIMIT_S
        threads = [
            threading.Thread(
                target=_approve_all,
                args=(connection, tenant.slug, approver, deadline, start, tally),
                name=f"approver-{approver.login}",
                daemon=True,  # a failed run must not keep pytest from exiting
            )
            for approver, tally, connection in zip(approvers, tallies, connections, strict=True)
        ]
        database = make_url(db["url"]).database
        cpu_before = {pid: _cpu_s(pid) for pid in [*workers, *_backends(database)]}
        client_before = time.process_time()
        for thread in threads:
            thread.start()
        start.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join(timeout=TIME_LIMIT_S + 60)
        wall_s = time.perf_counter() - began
        client_cpu_s = time.process_time() - client_before
        worker_cpu_s = [_cpu_s(pid) - cpu_before[pid] for pid in workers]
        postgres_cpu_s = sum(_cpu_s(pid) - cpu_before.get(pid, 0.0) for pid in _backends(database))
        assert not any(thread.is_alive() for thread in threads), "an approver thread hung"
        server_alive = server.poll() is None
    finally:
        _stop(server)
    assert server_alive, f"gunicorn died during the run:\n{log.read_text()[-3000:]}"

    decided = [d for t in tallies for d in t.decided]
    decision_s = [s for t in tallies for s in t.decision_s]
    conflict_s = [s for t in tallies for s in t.conflict_s]
    list_s = [s for t in tallies for s in t.list_s]
    statuses = sum((t.statuses for t in tallies), Counter())
    unexpected = [u for t in tallies for u in t.unexpected]
    bad_bodies = [b for t in tallies for b in t.bad_bodies]
    post_transport_errors = sum(t.post_transport_errors for t in tallies)
    server_errors = sum(n for (_, status), n in statuses.items() if status >= 500)

    found, examples, unfinished = _anomalies(db, decided)
    anomalies = sum(found.values()) + len(bad_bodies)
    _report(
        "approvals",
        decisions=len(decided),
        wall_s=round(wall_s, 2),
        decisions_per_s=round(len(decided) / wall_s, 1),
        p50_ms=round(_percentile(decision_s, 0.50) * 1000, 1),
        p99_ms=round(_percentile(decision_s, 0.99) * 1000, 1),
        conflicts_409=statuses["POST", 409],
        anomalies=anomalies,
    )
    if unfinished:
        _report("approvals", unfinished=len(unfinished), time_limit_s=TIME_LIMIT_S)
    _report(
        "approvals detail",
        posts=sum(n for (method, _), n in statuses.items() if method == "POST"),
        gets=sum(n for (method, _), n in statuses.items() if method == "GET"),
        get_p50_ms=round(_percentile(list_s, 0.50) * 1000, 1),
        get_p99_ms=round(_percentile(list_s, 0.99) * 1000, 1),
        conflict_p50_ms=round(_percentile(conflict_s, 0.50) * 1000, 1),
        mean_decision_ms=round(statistics.fmean(decision_s) * 1000, 1) if decision_s else 0,
        idle_polls=sum(t.idle_polls for t in tallies),
        reconnects=sum(t.reconnects for t in tallies),
        connections_per_worker="/".join(str(spread[pid]) for pid in workers) if BALANCE else "-",
        cpu_s=f"workers {'/'.join(f'{c:.1f}' for c in worker_cpu_s)}, "
        f"postgres {postgres_cpu_s:.1f}, load generator {client_cpu_s:.1f}",
        statuses="/".join(f"{m}:{s}={n}" for (m, s), n in sorted(statuses.items())),
        anomaly_kinds=found or "none",
        target=">= 200 decisions/s on 2 cores (printed, not asserted)",
    )

    # Correctness only.
    assert server_errors == 0, f"{server_errors} 5xx responses:\n{log.read_text()[-3000:]}"
    assert not unexpected, unexpected[:10]
    assert post_transport_errors == 0, f"{post_transport_errors} POSTs without an answer"
    assert not bad_bodies, bad_bodies[:10]
    assert anomalies == 0, (found, examples)
    assert not unfinished, f"{len(unfinished)} requests still in approval after {TIME_LIMIT_S} s"
