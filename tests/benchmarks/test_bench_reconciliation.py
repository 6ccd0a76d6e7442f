"""Bank reconciliation auto-matching at scale (`make bench`): prints figures, asserts correctness.

One account with ``BENCH_REC_ENTRIES`` (default 100,000) journal entries over two years and about
as many statement lines, generated with the noise of real statements:
- 4 % of the entries never reach the bank in the period (missing on the bank side);
- 4 % extra bank lines the journal lacks (charges, interest: missing on the book side);
- the bank's date shifted 0-3 days from the journal's, 1 % shifted 4-6 days (out of the window);
- a tenth of the amounts from 80 recurring ones (rents, fees: equal amounts days apart);
- half carry a reference, written with other case and spacing on the statement.
Each true pair shares a hidden tag (the description), so correctness is counted exactly.

Timed: ``matching.auto_match`` as a request runs it (read both sides, pair, insert the matches,
commit), window ±3 days. Target (issue): ≤ 5 s.
"""

from __future__ import annotations

import os
import platform
import random
import time
from datetime import date, timedelta

import pytest
from sqlalchemy import text

from propgroup.config import get_settings
from propgroup.db import engine_for, tenant_session
from propgroup.org import service as org
from propgroup.reconciliation import matching
from propgroup.tenancy import service as tenancy
from propgroup.tenancy.migrate import upgrade_control_plane
from tests.benchmarks.test_bench_api import _report
from tests.support.banking import open_account
from tests.support.databases import redis_url, server_url, throwaway_database
from tests.support.groups import person, provision_demo

ENTRIES = int(os.environ.get("BENCH_REC_ENTRIES", "100000"))
START = date(2024, 1, 1)
# Rents, service charges and fees: the same amounts again and again.
RECURRING = [f"{sign * (300 + 150 * n)}.00" for n in range(40) for sign in (1, -1)]

_LINES = """
insert into bank_statement_lines (statement_id, account_id, line_no, value_date, amount,
    reference, description)
select :statement, :account, n + 1, d, a, r, t
from unnest(:days ::date[], :amounts ::numeric[], :refs ::text[], :tags ::text[])
    with ordinality as x(d, a, r, t, n)
"""
_ENTRIES = """
insert into bank_book_entries (account_id, entry_date, amount, reference, description, source)
select :account, d, a, r, t, 'import'
from unnest(:days ::date[], :amounts ::numeric[], :refs ::text[], :tags ::text[]) as x(d, a, r, t)
"""


def _amount(pick: random.Random) -> str:
    if pick.random() < 0.1:
        return pick.choice(RECURRING)
    cents = pick.randint(100, 5_000_000) * pick.choice((1, 1, 1, -1, -1))
    return f"{cents / 100:.2f}"


def _generate(seed: int = 11):
    """(entries, lines) as column lists, and how many true pairs lie within the window."""
    pick = random.Random(seed)
    entries = {"days": [], "amounts": [], "refs": [], "tags": []}
    lines = {"days": [], "amounts": [], "refs": [], "tags": []}
    findable = 0
    for n in range(ENTRIES):
        day = START + timedelta(days=pick.randrange(730))
        amount, tag = _amount(pick), f"t{n}"
        reference = f"V{n:06d}" if pick.random() < 0.5 else None
        for column, value in zip(entries, (day, amount, reference, tag), strict=True):
            entries[column].append(value)
        if pick.random() < 0.04:
            continue  # never reached the bank
        far = pick.random() < 0.01
        shift = pick.randint(4, 6) if far else pick.randint(0, 3)
        findable += not far
        bank_reference = reference.lower().replace("v", "v ") if reference else None
        values = (day + timedelta(days=shift), amount, bank_reference, tag)
        for column, value in zip(lines, values, strict=True):
            lines[column].append(value)
    for n in range(int(ENTRIES * 0.04)):  # charges and interest the journal lacks
        values = (START + timedelta(days=pick.randrange(730)), _amount(pick), None, f"b{n}")
        for column, value in zip(lines, values, strict=True):
            lines[column].append(value)
    return entries, lines, findable


@pytest.fixture(scope="module")
def rec_db(workdir):
    with throwaway_database(server_url(workdir), prefix="pgbenchrec") as url:
        os.environ.update(DATABASE_URL=url, REDIS_URL=redis_url(workdir))
        get_settings.cache_clear()
        engine = engine_for(url)
        upgrade_control_plane(engine)
        tenant = provision_demo(engine, "bigrec", "对账基准")
        started = time.perf_counter()
        entries, lines, findable = _generate()
        with tenant_session(engine, tenant.schema_name) as session:
            account = open_account(session, org.get_unit_by_code(session, "SH-XTD"))
            statement = session.execute(
                text(
                    "insert into bank_statements (account_id, filename, sha256, first_day,"
                    " last_day, line_count) values (:a, 'bench.csv', repeat('0', 64),"
                    " :first, :last, :count) returning id"
                ),
                {
                    "a": account.id,
                    "first": START,
                    "last": START + timedelta(days=740),
                    "count": len(lines["days"]),
                },
            ).scalar_one()
            session.execute(text(_ENTRIES), {"account": account.id, **entries})
            session.execute(text(_LINES), {"account": account.id, "statement": statement, **lines})
            session.commit()
            account_id = account.id
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in ("bank_book_entries", "bank_statement_lines"):
                connection.execute(text(f"vacuum analyze {tenant.schema_name}.{table}"))
        _report(
            "reconciliation data",
            entries=ENTRIES,
            lines=len(lines["days"]),
            seconds=round(time.perf_counter() - started, 1),
        )
        yield engine, tenant, account_id, findable, len(lines["days"])
        tenancy.drop_tenant(engine, tenant.slug)


@pytest.mark.bench
def test_auto_match_100k(rec_db):
    engine, tenant, account_id, findable, line_count = rec_db
    with tenant_session(engine, tenant.schema_name) as session:
        accountant = person(session, "li.kuaiji")
        session.commit()
        started, cpu = time.perf_counter(), time.process_time()
        summary = matching.auto_match(session, accountant, account_id)
        session.commit()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        correct = session.scalar(
            text(
                "select count(*) from bank_matches m"
                " join bank_statement_lines l on l.id = m.statement_line_id"
                " join bank_book_entries e on e.id = m.book_entry_id"
                " where l.description = e.description"
            )
        )
        wrong_amount_or_window = session.scalar(
            text(
                "select count(*) from bank_matches m"
                " join bank_statement_lines l on l.id = m.statement_line_id"
                " join bank_book_entries e on e.id = m.book_entry_id"
                " where l.amount <> e.amount or abs(l.value_date - e.entry_date) > 3"
            )
        )
    _report(
        "reconciliation auto-match",
        entries=ENTRIES,
        lines=line_count,
        matched=summary["matched"],
        by_reference=summary["by_reference"],
        match_rate_of_lines=f"{summary['matched'] / line_count:.1%}",
        true_pairs_found=f"{correct}/{findable} ({correct / findable:.1%})",
        seconds=round(seconds, 2),
        python_cpu_seconds=round(cpu, 2),  # the rest is PostgreSQL, and waiting for a core
        target="<= 5 s",
        load_average=os.getloadavg()[0],
        machine=f"{os.cpu_count()} cores {platform.machine()}",
    )
    assert wrong_amount_or_window == 0
    assert correct / findable > 0.97


DENSE = 20_000


@pytest.mark.bench
def test_auto_match_dense_equal_amounts(rec_db):
    """Property fees: 20,000 lines and entries all of 350.00 on three days. Every line × entry
    pair is a candidate; the date merge still pairs them all in linear time."""
    engine, tenant, _account_id, _findable, _lines = rec_db
    days = [START + timedelta(days=n % 3) for n in range(DENSE)]
    column = {"days": days, "amounts": ["350.00"] * DENSE, "refs": [None] * DENSE}
    with tenant_session(engine, tenant.schema_name) as session:
        account = open_account(session, org.get_unit_by_code(session, "SH-XTD"))
        statement = session.execute(
            text(
                "insert into bank_statements (account_id, filename, sha256, first_day,"
                " last_day, line_count) values (:a, 'dense.csv', repeat('1', 64),"
                " :first, :last, :count) returning id"
            ),
            {"a": account.id, "first": START, "last": days[2], "count": DENSE},
        ).scalar_one()
        tags = {"tags": [f"d{n}" for n in range(DENSE)]}
        session.execute(text(_ENTRIES), {"account": account.id, **column, **tags})
        session.execute(
            text(_LINES), {"account": account.id, "statement": statement, **column, **tags}
        )
        accountant = person(session, "li.kuaiji")
        session.commit()
        started = time.perf_counter()
        summary = matching.auto_match(session, accountant, account.id)
        session.commit()
        seconds = time.perf_counter() - started
    _report(
        "reconciliation auto-match, equal amounts",
        lines=DENSE,
        entries=DENSE,
        matched=summary["matched"],
        seconds=round(seconds, 2),
        load_average=os.getloadavg()[0],
    )
    assert summary["matched"] == DENSE
    assert seconds < 5
