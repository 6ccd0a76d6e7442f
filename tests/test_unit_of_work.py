"""A failed or refused request's transaction is undone (``db.undo``): nothing it wrote, flushed
or queued stays; one that wrote nothing ends with COMMIT, which keeps the statements psycopg
prepared on the connection (a ROLLBACK discards them all)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, make_url, select, text

from propgroup import db
from propgroup.approvals import service as approvals
from propgroup.audit.models import AuditEvent
from propgroup.audit.service import record
from propgroup.errors import Conflict
from propgroup.identity.principals import SYSTEM
from propgroup.jobs.models import OutboxMessage
from propgroup.jobs.service import enqueue
from propgroup.tenancy import service as tenancy
from tests.support.groups import person, provision_demo, raise_request


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(
        control, "uow_demo", people={"qian.staff": [("department_head", "SH-XTD")]}
    )
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


@pytest.fixture
def engine(database_url):
    # A pool of one connection: the next session gets the connection the last one used.
    url = make_url(database_url).update_query_dict({"application_name": "unit-of-work-test"})
    engine = db.engine_for(url.render_as_string(hide_password=False), pool_size=1)
    yield engine
    engine.dispose()


def _prepared(session) -> int:
    return session.scalar(text("select count(*) from pg_prepared_statements"))


def _prepare_a_statement(session) -> None:
    for _ in range(6):  # psycopg prepares a statement on its fifth run on a connection
        session.scalar(select(func.count()).select_from(OutboxMessage))
    assert _prepared(session) > 0


def test_a_refusal_that_wrote_nothing_keeps_the_prepared_statements(engine, group):
    with db.tenant_session(engine, group.schema_name) as session:
        _prepare_a_statement(session)
        db.undo(session)
        assert _prepared(session) > 0
        session.rollback()  # a rollback (what undo avoided) discards them
        assert _prepared(session) == 0


def test_what_was_written_flushed_or_queued_does_not_stay(engine, group):
    with db.tenant_session(engine, group.schema_name) as session:
        events = session.scalar(select(func.count()).select_from(AuditEvent))
        jobs = session.scalar(select(func.count()).select_from(OutboxMessage))
        session.rollback()

        enqueue(session, "noop")  # written
        record(session, SYSTEM, "test.refused", "test")  # queued for the commit
        db.undo(session)
        session.add(OutboxMessage(job="noop", payload={}, status="pending"))  # never flushed
        record(session, SYSTEM, "test.refused", "test")
        db.undo(session)

        assert session.scalar(select(func.count()).select_from(AuditEvent)) == events
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == jobs


def test_a_decision_on_a_step_decided_before_locks_nothing(engine, group):
    with db.tenant_session(engine, group.schema_name) as session:
        request = raise_request(session, "qian.staff", "SH-XTD")
        approvals.submit(session, person(session, "qian.staff"), request.id)
        approvals.decide(session, person(session, "li.kuaiji"), request.id, step=1, approve=True)
        session.commit()

        with pytest.raises(Conflict) as refused:
            approvals.decide(
                session, person(session, "li.kuaiji"), request.id, step=1, approve=True
            )
        assert refused.value.errors == {"status": "in_approval", "current_step": 2, "revision": 1}
        assert session.scalar(text("select pg_current_xact_id_if_assigned() is null"))
        db.undo(session)
