"""Step SLAs (issue: overdue steps, default 2 working days, with reminders by job)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import policy
from email.parser import BytesParser
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from propgroup.approvals import service as approvals
from propgroup.approvals.jobs import remind_overdue
from propgroup.approvals.models import RequestStep
from propgroup.approvals.sla import due_after
from propgroup.config import get_settings
from propgroup.db import tenant_session
from propgroup.identity import service as identity
from propgroup.identity.models import User
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from tests.support.groups import REQUESTER, provision_demo

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        ("2026-11-20 10:00", 2, "2026-11-24 10:00"),  # Friday → Tuesday
        ("2026-11-23 16:30", 2, "2026-11-25 16:30"),  # Monday → Wednesday
        ("2026-11-21 09:00", 1, "2026-11-23 09:00"),  # Saturday → Monday
    ],
)
def test_due_dates_count_working_days_in_the_groups_time(start, days, due):
    begin = datetime.strptime(start, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI)
    assert due_after(begin.astimezone(UTC), days, SHANGHAI).strftime("%Y-%m-%d %H:%M") == due


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(control, "sla_demo", "时限", people=REQUESTER)
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


def _person(session, login):
    return identity.user_principal(session.scalar(select(User).where(User.login == login)))


def _submitted(session):
    staff = _person(session, "qian.staff")
    request = approvals.create_request(
        session,
        staff,
        request_type="expense_claim",
        unit_id=org.get_unit_by_code(session, "SH-XTD").id,
        title="t",
        payee="p",
        lines=[{"category": "c", "description": "d", "amount": "100.00"}],
    )
    approvals.submit(session, staff, request.id)
    return request


def test_each_step_gets_its_due_time_when_it_becomes_current(control, group):
    with tenant_session(control, group.schema_name) as session:
        request = _submitted(session)
        first, second = approvals.steps_of(session, request)
        expected = due_after(datetime.now(UTC), 2, SHANGHAI)
        assert abs(first.due_at - expected) < timedelta(minutes=1) and second.due_at is None
        approvals.decide(session, _person(session, "li.kuaiji"), request.id, step=1, approve=True)
        assert second.due_at is not None
        session.rollback()


def _make_overdue(control, group, request_id):
    with tenant_session(control, group.schema_name) as session:
        session.execute(
            update(RequestStep)
            .where(RequestStep.request_id == request_id)
            .values(due_at=datetime.now(UTC) - timedelta(hours=1))
        )
        session.commit()


def test_overdue_requests_are_listed_and_their_approvers_reminded(
    control, group, tmp_path, monkeypatch
):
    with tenant_session(control, group.schema_name) as session:
        late, on_time = _submitted(session), _submitted(session)
        session.commit()
    _make_overdue(control, group, late.id)
    with tenant_session(control, group.schema_name) as session:
        overdue = session.scalars(
            approvals.visible_requests(session, _person(session, "sun.diqucaiwu"), overdue=True)
        ).all()
        assert [r.id for r in overdue] == [late.id]
        monkeypatch.setenv("PROPGROUP_INSTANCE", str(tmp_path))
        monkeypatch.delenv("SMTP_URL", raising=False)
        assert remind_overdue(session) == 1  # li.kuaiji, for the late one only
    [mail] = [
        BytesParser(policy=policy.default).parsebytes(f.read_bytes())
        for f in (tmp_path / "outbox-mail").glob("*.eml")
    ]
    assert mail["To"] == "li.kuaiji@demo.propgroup.test"
    assert f"#{late.id}" in mail["Subject"] and f"#{on_time.id}:" not in mail["Subject"]


def test_the_api_lists_overdue_requests(control, group):
    with tenant_session(control, group.schema_name) as session:
        late = _submitted(session)
        sun = session.scalar(select(User).where(User.login == "sun.diqucaiwu"))
        _, token = identity.create_api_client(
            session, tenant_slug=group.slug, name="pat", scopes=["approvals:read"], acting_user=sun
        )
        session.commit()
    _make_overdue(control, group, late.id)
    get_settings.cache_clear()
    from propgroup.app import create_app

    response = (
        create_app({"TESTING": True})
        .test_client()
        .get(
            f"/t/{group.slug}/api/approvals?overdue=true",
            headers={"Authorization": f"Bearer {token}"},
        )
    )
    assert response.status_code == 200
    assert late.id in {r["id"] for r in response.json}
