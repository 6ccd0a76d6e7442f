"""Each group's local dates are days of its own timezone, named by its template and stored in its
schema at provisioning: delegation days (R-APR-5), SLA due times, R-CASH-3 report deadlines and
the submission-day filter. At the instant used here it is still Thursday 5 March 2026 in New
York and already Friday 6 March in Shanghai."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, inspect, select

from propgroup.approvals import service as approvals
from propgroup.db import tenant_session
from propgroup.errors import Forbidden, InvalidInput
from propgroup.tenancy import service as tenancy
from propgroup.tenancy import settings
from propgroup.tenancy.models import TenantSettings
from propgroup.tenancy.templates import load_template
from tests.support.groups import REQUESTER, person, provision_demo, raise_request

INSTANT = datetime(2026, 3, 6, 2, 0, tzinfo=UTC)  # 21:00 on the 5th in New York, 10:00 on the 6th
THURSDAY, FRIDAY = date(2026, 3, 5), date(2026, 3, 6)
ZONES = ("America/New_York", "Asia/Shanghai")
LOCAL_DAY = {"America/New_York": THURSDAY, "Asia/Shanghai": FRIDAY}


@pytest.fixture(scope="module")
def groups(control):
    made = {
        zone: provision_demo(
            control,
            f"tz_{zone.split('/')[1].lower()}",
            people={**REQUESTER, "deputy": []},
            timezone=zone,
        )
        for zone in ZONES
    }
    yield made
    for tenant in made.values():
        tenancy.drop_tenant(control, tenant.slug)


@pytest.fixture(params=ZONES)
def zone(request):
    return request.param


@pytest.fixture
def db(control, groups, zone, monkeypatch):
    """A session of the group in ``zone``, rolled back after, with the engine's clock at INSTANT."""
    monkeypatch.setattr(approvals, "now", lambda: INSTANT)
    with tenant_session(control, groups[zone].schema_name) as session:
        yield session
        session.rollback()


def claim(session, **extra):
    return raise_request(session, "qian.staff", "SH-XTD", **extra)


def submitted(session, **extra):
    request = claim(session, **extra)
    return approvals.submit(session, person(session, "qian.staff"), request.id)


def test_the_template_s_timezone_is_stored_in_the_tenant_s_schema(control, groups, zone):
    with tenant_session(control, groups[zone].schema_name) as session:
        assert session.scalar(select(TenantSettings.timezone)) == zone
        assert settings.tenant_zone(session).key == zone


@pytest.mark.parametrize("name", ["Mars/Olympus", "asia/shanghai", "../etc/localtime", "", None])
def test_an_unknown_timezone_is_refused_at_provisioning_with_nothing_written(
    control, template, name
):
    bad = {**template, "template": {**template["template"], "timezone": name}}
    with pytest.raises(InvalidInput) as caught:
        tenancy.provision_tenant(control, slug="badzone", name="Bad zone", template=bad)
    assert caught.value.code == "bad_timezone" and "IANA" in caught.value.message
    assert tenancy.find_tenant(control, "badzone") is None
    assert "t_badzone" not in inspect(control).get_schema_names()


def test_a_template_naming_an_unknown_timezone_is_refused_when_read(tmp_path):
    path = tmp_path / "t.toml"
    path.write_text('[template]\ncode = "tz"\nname = "n"\nversion = 1\ntimezone = "Mars/Base"\n')
    with pytest.raises(InvalidInput, match=r"template\.timezone: not an IANA timezone"):
        load_template(path)


def test_the_zone_is_read_once_per_tenant_while_cached(control, groups, monkeypatch):
    monkeypatch.setattr(settings, "_zones", {})
    reads = []

    def count(_conn, _cursor, statement, *_):
        reads.extend(["settings"] if "tenant_settings" in statement else [])

    event.listen(control, "before_cursor_execute", count)
    try:
        for _ in range(3):
            for tenant in groups.values():
                with tenant_session(control, tenant.schema_name) as session:
                    settings.tenant_zone(session)
    finally:
        event.remove(control, "before_cursor_execute", count)
    assert len(reads) == len(groups)


def test_today_is_the_group_s_local_day(db, zone):
    assert approvals.today(db) == LOCAL_DAY[zone]


@pytest.mark.parametrize("day", [THURSDAY, FRIDAY])
def test_a_delegation_is_in_force_on_the_group_s_local_day_only_r_apr_5(db, zone, day):
    approvals.delegate(
        db, person(db, "li.kuaiji"), delegate_login="deputy", starts_on=day, ends_on=day
    )
    request = submitted(db)
    if day == LOCAL_DAY[zone]:
        approvals.decide(db, person(db, "deputy"), request.id, step=1, approve=True)
        assert approvals.steps_of(db, request)[0].acting_for == person(db, "li.kuaiji").id
    else:
        with pytest.raises(Forbidden, match="nor delegated"):
            approvals.decide(db, person(db, "deputy"), request.id, step=1, approve=True)


def test_a_step_is_due_two_working_days_later_on_the_group_s_clock(db, zone):
    """New York: Thursday 21:00 → Monday 21:00 (daylight saving time has begun: 01:00 UTC).
    Shanghai: Friday 10:00 → Tuesday 10:00 (02:00 UTC)."""
    request = submitted(db)
    due = {
        "America/New_York": datetime(2026, 3, 10, 1, 0, tzinfo=UTC),
        "Asia/Shanghai": datetime(2026, 3, 10, 2, 0, tzinfo=UTC),
    }
    assert approvals.steps_of(db, request)[0].due_at == due[zone]


def test_a_claim_is_late_after_the_report_day_of_the_group_s_calendar_r_cash_3(db, zone):
    """Business in town ended on the 2nd: the claim is due on the 5th, the day it still is in
    New York and no longer is in Shanghai."""
    request = submitted(db, business_kind="local", business_ended_on=date(2026, 3, 2))
    assert request.reported_late is (zone == "Asia/Shanghai")


def test_business_ending_on_the_6th_has_ended_only_where_the_6th_has_come_r_cash_3(db, zone):
    if zone == "Asia/Shanghai":
        assert claim(db, business_kind="local", business_ended_on=FRIDAY).id
    else:
        with pytest.raises(InvalidInput) as caught:
            claim(db, business_kind="local", business_ended_on=FRIDAY)
        assert caught.value.code == "business_not_ended"


def test_an_unreported_advance_is_overdue_by_the_group_s_calendar_r_cash_3(db, zone):
    """An advance for business in town that ended on the 1st is to be reported by the 4th:
    overdue in both zones on the 5th and the 6th; one ended on the 2nd only in Shanghai."""
    requester = person(db, "qian.staff")
    advances = {}
    for ended in (date(2026, 3, 1), date(2026, 3, 2)):
        advance = claim(db, request_type="advance", business_kind="local", business_ended_on=ended)
        advance.status = "paid"  # the chain itself is walked elsewhere
        advances[ended.day] = advance.id
    db.flush()
    overdue = {
        r.id for r in db.scalars(approvals.visible_requests(db, requester, advances_overdue=True))
    }
    expected = {advances[1], advances[2]} if zone == "Asia/Shanghai" else {advances[1]}
    assert overdue == expected


def test_the_submission_day_filter_uses_the_group_s_days(db, zone):
    request = submitted(db)
    requester = person(db, "qian.staff")
    found = {
        day: request.id
        in {
            r.id
            for r in db.scalars(
                approvals.visible_requests(db, requester, submitted_from=day, submitted_to=day)
            )
        }
        for day in (THURSDAY, FRIDAY)
    }
    assert found == {THURSDAY: zone != "Asia/Shanghai", FRIDAY: zone == "Asia/Shanghai"}
