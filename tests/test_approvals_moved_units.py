"""A request's chain depends on its unit (R-APR-2): when a branch moves to another region, the
steps of its open requests still to be decided move to the new region's approvers, in the same
transaction and audited; decided steps are history (R-APR-4); a move that would leave a step
without a unit is refused with nothing changed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from propgroup.approvals import inbox
from propgroup.approvals import service as approvals
from propgroup.audit.models import AuditEvent
from propgroup.audit.service import write_pending
from propgroup.config import get_settings
from propgroup.db import tenant_session
from propgroup.errors import Conflict, Forbidden
from propgroup.identity import service as identity
from propgroup.identity.models import User
from propgroup.jobs.models import OutboxMessage
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from tests.support.groups import person, provision_demo, raise_request

MIDDLE = "6000.00"  # accountant, head, region FIN department head, regional finance, regional GM
ADMIN = "zheng.guanliyuan"


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(
        control,
        "apr_moves",
        people={
            "qian.staff": [("department_head", "SH-XTD")],
            "ljz.staff": [("department_head", "SH-LJZ")],
            "hz.staff": [("department_head", "HZ-XH")],
            "su.bumen": [("department_head", "SOUTH-FIN")],
            "su.caiwu": [("regional_finance", "SOUTH")],
        },
    )
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


def unit(session, code):
    return org.get_unit_by_code(session, code)


def submitted(session, requester="qian.staff", at="SH-XTD", decided_by=()):
    """A request in approval with its first steps decided by ``decided_by``, in order."""
    request = raise_request(session, requester, at, amount=MIDDLE)
    approvals.submit(session, person(session, requester), request.id)
    for seq, login in enumerate(decided_by, start=1):
        approvals.decide(session, person(session, login), request.id, step=seq, approve=True)
    return request


def step_units(session, request):
    return [
        (s.role, org.get_unit(session, s.unit_id).code)
        for s in approvals.steps_of(session, request)
    ]


def move(session, code, to):
    return org.relocate_unit(
        session, person(session, ADMIN), unit(session, code).id, unit(session, to).id
    )


def test_a_pending_step_follows_its_branch_to_the_new_region_r_apr_2(db):
    request = submitted(db, decided_by=["li.kuaiji", "wang.xiangmu"])
    elsewhere = submitted(db, requester="ljz.staff", at="SH-LJZ")
    untouched = step_units(db, elsewhere)

    move(db, "SH-XTD", "SOUTH")

    assert step_units(db, request) == [
        ("branch_accountant", "SH-XTD"),
        ("branch_head", "SH-XTD"),
        ("department_head", "SOUTH-FIN"),
        ("regional_finance", "SOUTH"),
        ("regional_gm", "SOUTH"),
    ]
    assert step_units(db, elsewhere) == untouched
    assert inbox.is_waiting_for(db, person(db, "su.bumen"), request)
    assert not inbox.is_waiting_for(db, person(db, "chen.bumen"), request)
    with pytest.raises(Forbidden) as caught:
        approvals.decide(db, person(db, "chen.bumen"), request.id, step=3, approve=True)
    assert caught.value.status == 403 and caught.value.code == "not_your_step"
    approvals.decide(db, person(db, "su.bumen"), request.id, step=3, approve=True)
    assert request.current_step == 4


def test_the_relocation_is_audited_once_per_request_and_the_new_approvers_told_r_apr_2(db):
    request = submitted(db, decided_by=["li.kuaiji", "wang.xiangmu"])
    move(db, "SH-XTD", "SOUTH")
    write_pending(db)  # the queued audit rows, inserted in this (rolled back) transaction
    [event] = db.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "approvals.steps_relocated",
            AuditEvent.entity_id == str(request.id),
        )
    ).all()
    assert event.actor_name == ADMIN
    assert event.before == {
        "steps": [
            {"seq": 3, "role": "department_head", "unit": "EAST-FIN"},
            {"seq": 4, "role": "regional_finance", "unit": "EAST"},
            {"seq": 5, "role": "regional_gm", "unit": "EAST"},
        ]
    }
    assert event.after == {
        "steps": [
            {"seq": 3, "role": "department_head", "unit": "SOUTH-FIN"},
            {"seq": 4, "role": "regional_finance", "unit": "SOUTH"},
            {"seq": 5, "role": "regional_gm", "unit": "SOUTH"},
        ],
        "moved": "SH-XTD",
    }
    told = db.scalars(
        select(OutboxMessage.payload).where(OutboxMessage.job == "approvals.notify_step")
    ).all()
    assert {"request_id": request.id, "step": 3} in [
        {"request_id": p["request_id"], "step": p["step"]} for p in told
    ]


def test_decided_steps_keep_the_unit_they_were_decided_at_r_apr_4(db):
    request = submitted(db, decided_by=["li.kuaiji", "wang.xiangmu", "chen.bumen"])
    move(db, "SH-XTD", "SOUTH")
    assert step_units(db, request)[2:] == [
        ("department_head", "EAST-FIN"),  # decided by chen.bumen there: history
        ("regional_finance", "SOUTH"),
        ("regional_gm", "SOUTH"),
    ]
    with pytest.raises(Forbidden):
        approvals.decide(db, person(db, "sun.diqucaiwu"), request.id, step=4, approve=True)
    approvals.decide(db, person(db, "su.caiwu"), request.id, step=4, approve=True)


def test_a_move_that_leaves_a_step_without_its_unit_is_refused_and_changes_nothing(db):
    """A new region without a finance department cannot take a branch whose open request waits
    for that department; the refusal undoes the move even for a caller that goes on."""
    west = org.create_unit(db, code="WEST", kind="region", name="西部", parent=unit(db, "HQ"))
    request = submitted(db, decided_by=["li.kuaiji"])
    before = step_units(db, request)
    branch_path = unit(db, "SH-XTD").path

    with pytest.raises(Conflict) as caught:
        move(db, "SH-XTD", "WEST")

    assert caught.value.status == 409 and caught.value.code == "step_unit_missing"
    assert "WEST-FIN" in caught.value.message
    assert caught.value.errors == {"request_id": request.id, "step": 3}
    branch = unit(db, "SH-XTD")
    assert (branch.parent_id, branch.path) == (unit(db, "EAST").id, branch_path)
    assert not branch.path.startswith(west.path)
    assert step_units(db, request) == before
    write_pending(db)
    assert not db.scalars(
        select(AuditEvent.action).where(
            AuditEvent.action.in_(["org.unit.moved", "approvals.steps_relocated"])
        )
    ).all()


def test_the_api_refuses_such_a_move_with_a_409(control, group):
    with tenant_session(control, group.schema_name) as session:
        north = org.create_unit(
            session, code="NORTH", kind="region", name="北部", parent=unit(session, "HQ")
        )
        request = submitted(session, requester="hz.staff", at="HZ-XH")
        branch = unit(session, "HZ-XH")
        admin = session.scalar(select(User).where(User.login == ADMIN))
        _, token = identity.create_api_client(
            session,
            tenant_slug=group.slug,
            name="admin pat",
            scopes=["org:read", "org:write"],
            acting_user=admin,
        )
        session.commit()
        branch_id, north_id, parent_id = branch.id, north.id, branch.parent_id
    get_settings.cache_clear()
    from propgroup.app import create_app

    response = (
        create_app({"TESTING": True})
        .test_client()
        .post(
            f"/t/{group.slug}/api/org/units/{branch_id}/move",
            json={"parent_id": north_id},
            headers={"Authorization": f"Bearer {token}"},
        )
    )
    assert response.status_code == 409, response.json
    assert response.json["code"] == "step_unit_missing"
    assert response.json["errors"] == {"request_id": request.id, "step": 3}
    with tenant_session(control, group.schema_name) as session:
        assert unit(session, "HZ-XH").parent_id == parent_id
