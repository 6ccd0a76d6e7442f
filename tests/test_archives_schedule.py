"""The retention schedule (R-ARC-1 table) as tenant data: preset from the template, a period for
every class, due dates counted from the first day after the fiscal year in which the record closes
(asset cards: after disposal), and recomputed with an audit event when the schedule changes."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from propgroup.archives import schedule, service
from propgroup.archives.models import RetentionRule
from propgroup.audit.models import AuditEvent
from propgroup.audit.service import write_pending
from propgroup.errors import Forbidden, InvalidInput
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from propgroup.tenancy.templates import load_template
from tests.support.api import api_caller, personal_tokens
from tests.support.groups import person, provision_demo

# The national table: class → years (None: permanent), and what the period counts from; bank
# account files (R-BNK-6) are kept by its rules beside the bank records they explain.
TABLE = {
    "original_voucher": 30,
    "bookkeeping_voucher": 30,
    "general_ledger": 30,
    "subsidiary_ledger": 30,
    "journal": 30,
    "auxiliary_book": 30,
    "asset_card": 5,
    "periodic_report": 10,
    "annual_report": None,
    "bank_reconciliation": 10,
    "bank_statement": 10,
    "bank_account_file": 10,
    "tax_return": 10,
    "transfer_list": 30,
    "custody_list": None,
    "destruction_list": None,
    "appraisal_opinion": None,
}


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(control, "arc_sched", "档案期限")
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


def test_r_arc_1_schedule_is_preset_from_the_template(db):
    rules = {rule.class_code: rule for rule in schedule.schedule(db)}
    assert {code: rule.years for code, rule in rules.items()} == TABLE
    assert {code for code, rule in rules.items() if rule.permanent} == {
        code for code, years in TABLE.items() if years is None
    }
    assert rules["asset_card"].counted_from == "disposal"


@pytest.mark.parametrize("code", sorted(TABLE))
def test_r_arc_1_due_date_of_every_class(db, code):
    """A record of fiscal 2020 is counted from 1 January 2021; N years later it is due."""
    rule = schedule.rule_for(db, code)
    years = TABLE[code]
    if years is None:
        assert schedule.due_date(rule, 2020) is None
    elif code == "asset_card":
        assert schedule.due_date(rule, 2020) is None  # the asset is still in use
        assert schedule.due_date(rule, 2020, disposed_on=date(2023, 6, 30)) == date(2029, 1, 1)
    else:
        assert schedule.due_date(rule, 2020) == date(2021 + years, 1, 1)


def test_r_arc_1_year_end_edges(db):
    """31 December and 1 January are a year apart in their period's start; a disposal on
    31 December counts from the next day, one on 1 January from the next year's start."""
    voucher, card = schedule.rule_for(db, "original_voucher"), schedule.rule_for(db, "asset_card")
    assert schedule.due_date(voucher, 2019) == date(2050, 1, 1)  # fiscal 2019, Dec included
    assert schedule.due_date(voucher, 2020) == date(2051, 1, 1)  # Jan 2020 voucher: a year on
    assert schedule.due_date(card, 2010, disposed_on=date(2020, 12, 31)) == date(2026, 1, 1)
    assert schedule.due_date(card, 2010, disposed_on=date(2021, 1, 1)) == date(2027, 1, 1)
    assert schedule.due_date(card, 2010, disposed_on=date(2024, 2, 29)) == date(2030, 1, 1)
    # An appraisal's later date stands; an earlier one does not shorten the schedule.
    assert schedule.due_date(voucher, 2019, kept_until=date(2060, 5, 1)) == date(2060, 5, 1)
    assert schedule.due_date(voucher, 2019, kept_until=date(2030, 5, 1)) == date(2050, 1, 1)


def _spec(db, **changes):
    spec = {
        "class_code": "bank_statement",
        "unit_id": org.get_unit_by_code(db, "SH-XTD").id,
        "fiscal_year": 2020,
        "period": "12",
        "title": "招商银行对账单 2020-12",
    }
    return {**spec, **changes}


def test_r_arc_4_item_stores_its_cover_and_due_date(db):
    item = service.new_item(
        db,
        person(db, "li.kuaiji"),
        _spec(
            db,
            class_code="bookkeeping_voucher",
            volume="2020-12-03",
            number_from=1,
            number_to=250,
            title="记账凭证 2020年12月 第3册",
        ),
    )
    assert (item.volume, item.number_from, item.number_to, item.period) == (
        "2020-12-03",
        1,
        250,
        "12",
    )
    assert item.due_on == date(2051, 1, 1) and item.status == "kept"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"class_code": "receipts"}, "class_code"),
        ({"fiscal_year": 1999}, "fiscal_year"),
        ({"period": "13"}, "period"),
        ({"number_from": 5}, "number_to"),
        ({"number_from": 9, "number_to": 3}, "number_to"),
        ({"title": ""}, "title"),
        ({"disposed_on": "2020-01-01"}, "disposed_on"),
    ],
)
def test_r_arc_4_bad_item_is_refused_naming_the_field(db, changes, field):
    with pytest.raises(InvalidInput) as refused:
        service.new_item(db, person(db, "li.kuaiji"), _spec(db, **changes))
    assert field in refused.value.errors


def test_r_arc_4_cashier_keeps_no_archives(db):
    """出纳不得兼管会计档案保管: the cashier cannot catalogue archives."""
    with pytest.raises(Forbidden):
        service.new_item(db, person(db, "zhao.chuna"), _spec(db))


def test_r_arc_1_schedule_change_recomputes_due_dates_with_an_audit_event(db):
    accountant = person(db, "li.kuaiji")
    statement = service.new_item(db, accountant, _spec(db))
    card = service.new_item(
        db,
        accountant,
        _spec(
            db,
            class_code="asset_card",
            fiscal_year=2015,
            disposed_on="2021-03-01",
            title="固定资产卡片 电梯",
        ),
    )
    assert statement.due_on == date(2031, 1, 1) and card.due_on == date(2027, 1, 1)
    today = date(2026, 6, 1)
    rule, count = schedule.change_rule(
        db, person(db, "zheng.guanliyuan"), "bank_statement", {"years": 15}, today
    )
    db.refresh(statement)
    assert rule.years == 15 and count >= 1 and statement.due_on == date(2036, 1, 1)
    schedule.change_rule(db, person(db, "zheng.guanliyuan"), "asset_card", {"years": 8}, today)
    db.refresh(card)
    assert card.due_on == date(2030, 1, 1)
    schedule.change_rule(
        db, person(db, "zheng.guanliyuan"), "bank_statement", {"permanent": True}, today
    )
    db.refresh(statement)
    assert statement.due_on is None
    write_pending(db)
    events = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "archives.retention_changed")
        .order_by(AuditEvent.id)
    ).all()
    assert [e.entity_id for e in events] == ["bank_statement", "asset_card", "bank_statement"]
    assert events[0].before == {"years": 10, "permanent": False}
    assert events[0].after["years"] == 15 and events[0].after["items_recomputed"] == count


@pytest.mark.parametrize(
    "period",
    [{}, {"years": None}, {"years": 10, "permanent": True}, {"years": 0}, {"years": "ten"}],
)
def test_r_arc_1_a_class_without_a_period_is_refused(db, period):
    before = db.get(RetentionRule, "tax_return").years
    with pytest.raises(InvalidInput):
        schedule.change_rule(db, person(db, "zheng.guanliyuan"), "tax_return", period, date.today())
    assert db.get(RetentionRule, "tax_return").years == before


def test_r_arc_1_only_archives_admins_change_the_schedule(db):
    with pytest.raises(Forbidden):
        schedule.change_rule(db, person(db, "li.kuaiji"), "tax_return", {"years": 5}, date.today())


def test_r_arc_1_template_class_without_a_period_is_refused(tmp_path, template):
    from tests.conftest import TEMPLATE_PATH

    text = TEMPLATE_PATH.read_text(encoding="utf-8").replace(
        '{ code = "tax_return", name = "纳税申报表", years = 10 }',
        '{ code = "tax_return", name = "纳税申报表" }',
    )
    broken = tmp_path / "broken.toml"
    broken.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidInput) as refused:
        load_template(broken)
    assert f"archives.retention[{list(TABLE).index('tax_return')}].years" in refused.value.message


def test_r_arc_1_schedule_over_the_api(control, group):
    tokens = personal_tokens(control, group, ["archives:read", "archives:admin"])
    call = api_caller(group, "/archives")
    listed = call("GET", "/retention", tokens["feng.shenji"])
    assert listed.status_code == 200 and len(listed.json) == len(TABLE)
    refused = call(
        "PUT", "/retention/journal", tokens["zheng.guanliyuan"], json={"permanent": False}
    )
    assert refused.status_code == 422 and "years" in refused.json["errors"]
    unknown = call("PUT", "/retention/nothing", tokens["zheng.guanliyuan"], json={"years": 3})
    assert unknown.status_code == 404
    changed = call("PUT", "/retention/journal", tokens["zheng.guanliyuan"], json={"years": 35})
    assert changed.status_code == 200 and changed.json["years"] == 35
    forbidden = call("PUT", "/retention/journal", tokens["li.kuaiji"], json={"years": 3})
    assert forbidden.status_code == 403


def test_r_arc_1_schedule_change_waits_for_a_filing_in_flight(control, group):
    """An item being filed holds its rule (FOR SHARE) until commit, so a schedule change cannot
    recompute around it and leave it with the old due date."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    from propgroup.db import tenant_session

    with (
        tenant_session(control, group.schema_name) as filing,
        tenant_session(control, group.schema_name) as changing,
    ):
        service.new_item(
            filing, person(filing, "li.kuaiji"), _spec(filing, class_code="tax_return")
        )
        changing.execute(text("set local lock_timeout = '300ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            schedule.change_rule(
                changing,
                person(changing, "zheng.guanliyuan"),
                "tax_return",
                {"years": 12},
                date.today(),
            )
        changing.rollback()
        filing.rollback()


def test_lock_mode_is_a_tenant_setting_changed_by_an_admin(control, group):
    tokens = personal_tokens(control, group, ["archives:read", "archives:admin"])
    call = api_caller(group, "/archives")
    assert call("GET", "/settings", tokens["feng.shenji"]).json == {"lock_mode": "governance"}
    bad = call("PUT", "/settings", tokens["zheng.guanliyuan"], json={"lock_mode": "strict"})
    assert bad.status_code == 422 and "lock_mode" in bad.json["errors"]
    refused = call("PUT", "/settings", tokens["li.kuaiji"], json={"lock_mode": "compliance"})
    assert refused.status_code == 403
    changed = call("PUT", "/settings", tokens["zheng.guanliyuan"], json={"lock_mode": "compliance"})
    assert changed.status_code == 200 and changed.json == {"lock_mode": "compliance"}
    assert call("GET", "/settings", tokens["feng.shenji"]).json == {"lock_mode": "compliance"}
