"""The portal shows times on the group's own clock: a group whose template names New York sees a
request sent at 02:00 UTC on 6 March 2026 as sent at 21:00 on the 5th (Shanghai: 10:00 on the
6th), on its page, its printed form and the inbox."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from propgroup.approvals import service as approvals
from propgroup.db import tenant_session
from propgroup.tenancy import service as tenancy
from tests.portal.conftest import sign_in
from tests.support.groups import PASSWORD, REQUESTER, person, provision_demo, raise_request

INSTANT = datetime(2026, 3, 6, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def new_york(control):
    tenant = provision_demo(control, "tz_portal_ny", people=REQUESTER, timezone="America/New_York")
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


def test_pages_show_times_in_the_group_s_timezone(app, control, new_york, monkeypatch):
    monkeypatch.setattr(approvals, "now", lambda: INSTANT)
    with tenant_session(control, new_york.schema_name) as session:
        request = raise_request(session, "qian.staff", "SH-XTD")
        approvals.submit(session, person(session, "qian.staff"), request.id)
        session.commit()
    client = app.test_client()
    assert sign_in(client, new_york.slug, "qian.staff", PASSWORD).status_code == 303
    base = f"/t/{new_york.slug}/approvals"

    detail = client.get(f"{base}/{request.id}").text
    assert "2026-03-05 21:00" in detail and "2026-03-06" not in detail
    printed = client.get(f"{base}/{request.id}/print").text
    assert "2026-03-05" in printed and "2026-03-06" not in printed
    inbox = client.get(f"{base}?tab=mine").text
    assert "2026-03-05" in inbox and "2026-03-06" not in inbox
