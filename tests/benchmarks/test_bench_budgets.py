"""HQ plan versus actual on a large group (`make bench`): prints figures, asserts only that the
endpoint and the bare SQL agree.

A tenant with 1 HQ, 10 regions and 300 branches, 150 budget categories planned for 12 months in
every unit's approved expense plan (311 × 150 × 12 ≈ 560k cells) and 2 million ledger rows.
Timed, in the same run and on the same data:
- the endpoint ``GET /api/budgets/figures?unit_id=<HQ>&depth=0`` in process (resolution, token,
  authorization, the rolled-up query and JSON of every category line, heading included);
- the bare SQL aggregate: HQ's plan and actual per category, rolled up the category tree, as one
  hand-written statement over the same tables.

Target (issue): endpoint ≤ 1 s and ≤ 1.5 × the bare SQL. ``BENCH_BUD_RUNS`` (default 7) runs
each; the median is reported.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from decimal import Decimal

import pytest
from sqlalchemy import text

from propgroup.approvals.service import today
from propgroup.config import get_settings
from propgroup.db import engine_for, tenant_session
from propgroup.identity import service as identity
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from propgroup.tenancy.migrate import upgrade_control_plane
from propgroup.tenancy.templates import load_template
from tests.benchmarks.test_bench_api import _report
from tests.conftest import TEMPLATE_PATH
from tests.support.databases import redis_url, server_url, throwaway_database

REGIONS, BRANCHES_PER_REGION, CATEGORIES, ACTUAL_ROWS = 10, 30, 150, 2_000_000
RUNS = int(os.environ.get("BENCH_BUD_RUNS", "7"))

_BARE = """
with own as (
    select category_id, sum(plan) as plan, sum(actual) as actual from (
        select l.category_id, a.amount as plan, 0 as actual
        from budget_plan_amounts a
        join budget_plan_lines l on l.id = a.line_id
        join budget_plan_versions v on v.id = l.version_id and v.status in ('approved', 'locked')
        join budget_plans p on p.id = v.plan_id and p.fiscal_year = :year
        union all
        select category_id, 0, amount from budget_actuals where fiscal_year = :year
    ) f group by category_id
)
select up.id, sum(own.plan), sum(own.actual)
from own join budget_categories c on c.id = own.category_id,
     unnest(string_to_array(trim(c.path, '/'), '/')::bigint[]) as up(id)
group by up.id
"""


def _group() -> dict:
    units = [{"code": "HQ", "kind": "hq", "name": "集团", "parent": None}]
    for r in range(REGIONS):
        units.append({"code": f"R{r:02}", "kind": "region", "name": f"地区{r}", "parent": "HQ"})
        units += [
            {"code": f"R{r:02}-B{b:02}", "kind": "branch", "name": "项目", "parent": f"R{r:02}"}
            for b in range(BRANCHES_PER_REGION)
        ]
    return {"tenant": {}, "units": units, "users": []}


def _load(session, year: int) -> None:
    """Set-based inserts: categories, one approved plan per unit with every month, actuals."""
    statements = [
        "insert into budget_categories (code, name, plan_kind, side, path, depth, is_leaf)"
        " values ('BENCH', 'bench', 'expense', 'expense', '', 0, false)",
        "update budget_categories set path = '/' || id || '/' where code = 'BENCH'",
        "insert into budget_categories (code, name, plan_kind, side, parent_id, path, depth)"
        " select 'BENCH-' || n, 'c' || n, 'expense', 'expense', b.id, '', 1"
        f" from generate_series(1, {CATEGORIES}) n, budget_categories b where b.code = 'BENCH'",
        "update budget_categories c set path = b.path || c.id || '/'"
        " from budget_categories b where b.code = 'BENCH' and c.parent_id = b.id",
        "insert into budget_plans (unit_id, fiscal_year, plan_kind)"
        " select id, :year, 'expense' from org_units where kind <> 'department'",
        "insert into budget_plan_versions (plan_id, number, status)"
        " select id, 1, 'approved' from budget_plans",
        "insert into budget_plan_lines (version_id, category_id)"
        " select v.id, c.id from budget_plan_versions v, budget_categories c"
        " where c.code like 'BENCH-%'",
        "insert into budget_plan_amounts (line_id, month, amount)"
        " select l.id, m, (100 + (l.id * 7 + m) % 900)::numeric(18,2)"
        " from budget_plan_lines l, generate_series(1, 12) m",
        "insert into budget_actuals (unit_id, category_id, fiscal_year, month, amount, source)"
        " select u.ids[1 + n % array_length(u.ids, 1)], c.ids[1 + (n / 7) % array_length(c.ids, 1)],"
        " :year, 1 + n % 12, ((n % 50000) / 100.0)::numeric(18,2), 'ledger'"
        f" from generate_series(1, {ACTUAL_ROWS}) n,"
        " (select array_agg(id) ids from org_units where kind <> 'department') u,"
        " (select array_agg(id) ids from budget_categories where code like 'BENCH-%') c",
    ]
    for statement in statements:
        session.execute(text(statement), {"year": year})


@pytest.fixture(scope="module")
def budgets_db(workdir):
    with throwaway_database(server_url(workdir), prefix="pgbenchbud") as url:
        os.environ.update(DATABASE_URL=url, REDIS_URL=redis_url(workdir))
        get_settings.cache_clear()
        engine = engine_for(url)
        upgrade_control_plane(engine)
        started = time.perf_counter()
        tenant = tenancy.provision_tenant(
            engine,
            slug="bigbud",
            name="大集团",
            template=load_template(TEMPLATE_PATH),
            group=_group(),
        )
        with tenant_session(engine, tenant.schema_name) as session:
            year = today(session).year
            _load(session, year)
            _, token = identity.create_api_client(
                session, tenant_slug=tenant.slug, name="bench", scopes=["budgets:read"]
            )
            hq = org.get_root(session).id
            session.commit()
        with engine.begin() as connection:  # as the tables' owner: the tenant role may not
            connection.execute(text(f"analyze {tenant.schema_name}.budget_actuals"))
            connection.execute(text("analyze"))
        _report("budgets data", seconds=round(time.perf_counter() - started, 1))
        yield engine, tenant, token, hq, year


def _median_ms(action) -> tuple[float, object]:
    times, result = [], None
    for _ in range(RUNS):
        started = time.perf_counter()
        result = action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


@pytest.mark.bench
def test_hq_plan_vs_actual_against_the_bare_sql(budgets_db):
    engine, tenant, token, hq, year = budgets_db
    from propgroup.app import create_app

    client = create_app({"TESTING": True}).test_client()
    url = f"/t/{tenant.slug}/api/budgets/figures"
    query = {"unit_id": hq, "fiscal_year": year, "depth": 0}
    headers = {"Authorization": f"Bearer {token}"}
    client.get(url, query_string=query, headers=headers)  # warm caches and plans
    endpoint_ms, response = _median_ms(lambda: client.get(url, query_string=query, headers=headers))
    assert response.status_code == 200, response.json

    def bare():
        with tenant_session(engine, tenant.schema_name) as session:
            return session.execute(text(_BARE), {"year": year}).all()

    bare_ms, rows = _median_ms(bare)
    served = {r["category"]: r for r in response.json["rows"]}
    with tenant_session(engine, tenant.schema_name) as session:
        codes = dict(session.execute(text("select id, code from budget_categories")).all())
    for category_id, plan, actual in rows:
        figure = served[codes[category_id]]
        assert (Decimal(figure["plan"]), Decimal(figure["actual"])) == (plan, actual)
    _report(
        "budgets HQ plan vs actual",
        cells=f"{len(served)} lines",
        endpoint_ms=round(endpoint_ms),
        bare_sql_ms=round(bare_ms),
        ratio=round(endpoint_ms / bare_ms, 2),
        target="endpoint <= 1000 ms and <= 1.5x bare",
        machine=f"{os.cpu_count()} cores {platform.machine()}",
    )
