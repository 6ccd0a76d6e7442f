"""Audit trail: append-only for the application, and any edit, deletion or reordering made
behind its back (here with the superuser connection) is found and named by `audit verify`."""

from __future__ import annotations

import threading

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text
from sqlalchemy.exc import ProgrammingError

from propgroup.audit.models import AuditEvent
from propgroup.audit.service import record, verify
from propgroup.cli import main
from propgroup.db import tenant_session
from propgroup.identity.principals import Principal

ALICE = Principal(kind="user", id=7, name="alice", request_id="req-1", acting_for="bob")


@pytest.fixture
def chain(control, make_tenant):
    """A tenant with five audit events; yields (tenant, [event ids])."""
    tenant = make_tenant()
    with tenant_session(control, tenant.schema_name) as session:
        for n in range(5):
            record(
                session, ALICE, "test.step", "thing", n, before={"n": n}, after={"amount": "12.30"}
            )
        session.commit()  # events are linked into the chain and written at commit
        ids = session.scalars(
            select(AuditEvent.id).where(AuditEvent.action == "test.step").order_by(AuditEvent.id)
        ).all()
    return tenant, list(ids)


def _verify(control, tenant):
    with tenant_session(control, tenant.schema_name) as session:
        return verify(session)


def _superuser(control, tenant, statement):
    """Tampering as a database superuser would: with triggers switched off for the transaction."""
    with control.begin() as connection:
        connection.execute(text("set local session_replication_role = replica"))
        connection.execute(text(statement.format(schema=tenant.schema_name)))


def _count(control, tenant):
    with control.connect() as connection:
        return connection.scalar(text(f'select count(*) from "{tenant.schema_name}".audit_events'))


def test_untouched_chain_verifies(control, chain):
    tenant, ids = chain
    report = _verify(control, tenant)
    assert report.intact and report.checked == _count(control, tenant) >= len(ids)


def test_edited_row_is_named(control, chain):
    tenant, ids = chain
    _superuser(
        control,
        tenant,
        f"""update "{{schema}}".audit_events set after = '{{{{"amount": "99.99"}}}}' where id = {ids[2]}""",
    )
    report = _verify(control, tenant)
    assert report.first_bad_id == ids[2]
    assert "altered" in report.reason


def test_deleted_row_is_found_at_the_next_row(control, chain):
    tenant, ids = chain
    _superuser(control, tenant, f'delete from "{{schema}}".audit_events where id = {ids[1]}')
    report = _verify(control, tenant)
    assert report.first_bad_id == ids[2]
    assert "deleted or reordered" in report.reason


def test_reordered_rows_are_found(control, chain):
    tenant, ids = chain
    # Swap the positions of two rows: each stays self-consistent, the links between them do not.
    for statement in (
        f'update "{{schema}}".audit_events set id = -1 where id = {ids[1]}',
        f'update "{{schema}}".audit_events set id = {ids[1]} where id = {ids[3]}',
        f'update "{{schema}}".audit_events set id = {ids[3]} where id = -1',
    ):
        _superuser(control, tenant, statement)
    report = _verify(control, tenant)
    assert report.first_bad_id == ids[1]
    assert "deleted or reordered" in report.reason


def test_application_role_cannot_change_or_delete_audit_rows(control, chain):
    tenant, ids = chain
    with tenant_session(control, tenant.schema_name) as session:
        for statement in (
            f"update audit_events set action = 'x' where id = {ids[0]}",
            f"delete from audit_events where id = {ids[0]}",
            "truncate audit_events",
        ):
            with pytest.raises(ProgrammingError, match="permission denied"):
                session.execute(text(statement))
            session.rollback()
    assert _verify(control, tenant).intact


def test_even_the_schema_owner_cannot_change_or_delete_audit_rows(control, chain):
    """The login role owns the schema; the trigger refuses it anyway."""
    from sqlalchemy.exc import DBAPIError

    tenant, ids = chain
    for statement in (
        f"update \"{tenant.schema_name}\".audit_events set action = 'x' where id = {ids[0]}",
        f'delete from "{tenant.schema_name}".audit_events where id = {ids[0]}',
        f'truncate "{tenant.schema_name}".audit_events',
    ):
        with pytest.raises(DBAPIError, match="append-only"), control.begin() as connection:
            connection.execute(text(statement))
    assert _verify(control, tenant).intact


def test_cli_verify_exits_one_and_names_the_row(control, chain):
    tenant, ids = chain
    runner = CliRunner()
    ok = runner.invoke(main, ["audit", "verify", tenant.slug])
    assert ok.exit_code == 0 and f"{_count(control, tenant)} events" in ok.output
    _superuser(
        control,
        tenant,
        f"""update "{{schema}}".audit_events set actor_name = 'mallory' where id = {ids[4]}""",
    )
    bad = runner.invoke(main, ["audit", "verify", tenant.slug])
    assert bad.exit_code == 1
    assert f"audit row {ids[4]}" in bad.output


def test_event_keeps_who_acting_for_and_request(control, chain):
    tenant, ids = chain
    with control.connect() as connection:
        row = connection.execute(
            text(
                f'select actor_name, acting_for, request_id, after from "{tenant.schema_name}".audit_events where id = :i'
            ),
            {"i": ids[0]},
        ).one()
    assert row == ("alice", "bob", "req-1", {"amount": "12.30"})


def test_events_vanish_with_a_rolled_back_transaction(control, make_tenant):
    tenant = make_tenant()
    with tenant_session(control, tenant.schema_name) as session:
        record(session, ALICE, "test.rolled_back", "thing", 1)
        session.rollback()
        session.commit()
        assert (
            session.scalar(select(AuditEvent.id).where(AuditEvent.action == "test.rolled_back"))
            is None
        )


def test_events_survive_a_rolled_back_savepoint(control, make_tenant):
    tenant = make_tenant()
    with tenant_session(control, tenant.schema_name) as session:
        record(session, ALICE, "test.kept", "thing", 1)
        with pytest.raises(RuntimeError), session.begin_nested():
            record(session, ALICE, "test.inside_savepoint", "thing", 2)
            raise RuntimeError("the savepoint fails")
        session.commit()
        kept = session.scalars(
            select(AuditEvent.action).where(AuditEvent.action.like("test.%"))
        ).all()
    assert "test.kept" in kept
    assert _verify(control, tenant).intact


def test_concurrent_writers_extend_one_chain(control, make_tenant):
    """Writers committing at once each read the head only once they hold the chain lock (the
    head is read after the lock, never from before it): one chain, no fork, ids in its order."""
    tenant = make_tenant()
    writers, commits = 6, 5
    start, failures = threading.Barrier(writers), []

    def write(number: int) -> None:
        try:
            with tenant_session(control, tenant.schema_name) as session:
                start.wait()
                for commit in range(commits):
                    record(session, ALICE, "test.concurrent", "thing", f"{number}.{commit}")
                    record(session, ALICE, "test.concurrent", "thing", f"{number}.{commit}b")
                    session.commit()
        except Exception as error:  # reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    report = _verify(control, tenant)
    assert report.intact and report.checked >= writers * commits * 2
