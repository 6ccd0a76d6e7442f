"""The pager over SQL selects (api/pagination.py)."""

from __future__ import annotations

import threading
import time

from flask_smorest.pagination import PaginationParameters
from sqlalchemy import func, select, text

from propgroup.api.pagination import Selection, SelectPage
from propgroup.db import tenant_session
from propgroup.org.models import OrgUnit

LOCK_KEY = 740_421


def _page(session, statement) -> SelectPage:
    return SelectPage(Selection(session, statement, rows=True), PaginationParameters(1, 10))


def _wait_until_waiting_for_the_lock(connection) -> None:
    waiting = (
        select(func.count())
        .select_from(text("pg_locks"))
        .where(
            text("locktype = 'advisory' and objid = :key and not granted").bindparams(key=LOCK_KEY)
        )
    )
    deadline = time.monotonic() + 30
    while not connection.scalar(waiting):
        assert time.monotonic() < deadline, "the first page never reached its query"
        time.sleep(0.02)


def test_two_threads_read_their_pages_at_once(control, make_tenant):
    """No lock shared by every page while one reads (Python 3.11's functools.cached_property
    holds one per class): a threaded web worker reads its requests' pages side by side."""
    tenant = make_tenant()
    waiting = select(OrgUnit.id, func.pg_advisory_xact_lock_shared(LOCK_KEY)).order_by(OrgUnit.id)
    plain = select(OrgUnit.id).order_by(OrgUnit.id)
    read: dict[str, int] = {}

    def read_page(name, statement):
        with tenant_session(control, tenant.schema_name) as session:
            read[name] = _page(session, statement).item_count
            session.rollback()

    with control.connect() as holder:
        holder.execute(select(func.pg_advisory_lock(LOCK_KEY)))
        blocked = threading.Thread(target=read_page, args=("blocked", waiting))
        blocked.start()
        _wait_until_waiting_for_the_lock(holder)
        free = threading.Thread(target=read_page, args=("free", plain))
        free.start()
        free.join(timeout=30)
        finished_while_blocked = "free" in read and blocked.is_alive()
        holder.execute(select(func.pg_advisory_unlock(LOCK_KEY)))
        holder.commit()
    blocked.join(timeout=30)
    assert finished_while_blocked
    assert read["blocked"] == read["free"] > 0
