"""Bank account lifecycle with the demo users: open, change and close requests through the
approvals engine (R-BNK-1), reserved seals kept by three people (R-BNK-2), a keeper's departure
raising the change request and handover (R-BNK-3), dormancy (R-BNK-4), the account file filed as
an archive (R-BNK-6), and the template's additions reaching groups provisioned before them."""

from __future__ import annotations

import copy
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text, update

from propgroup.approvals import service as approvals
from propgroup.approvals.models import ApprovalRequest
from propgroup.approvals.policy import parse_policy, rule_for
from propgroup.archives import service as archives
from propgroup.archives.models import ArchiveItem, Handover, HandoverLine, RetentionRule
from propgroup.audit.models import AuditEvent
from propgroup.audit.service import write_pending
from propgroup.banking import checks, lifecycle, registration
from propgroup.banking.dormancy import flag_dormant, months_before
from propgroup.banking.keepers import person_left
from propgroup.banking.models import (
    AccountDeparture,
    AccountSeal,
    BankAccount,
    BankAccountRequest,
    BookEntry,
)
from propgroup.db import tenant_session
from propgroup.errors import Conflict, InvalidInput, NotFound
from propgroup.identity import service as identity
from propgroup.identity.models import User
from propgroup.org import service as org
from propgroup.tenancy import service as tenancy
from propgroup.tenancy.migrate import migrate_tenants
from propgroup.tenancy.models import Tenant
from tests.support.banking import (
    ACCOUNTANT,
    ADMIN,
    CASHIER,
    DIRECTOR,
    HEAD,
    OPEN_FORM,
    REGIONAL,
    SEALS,
    approve_all,
    existing_account,
    submitted,
)
from tests.support.groups import person, provision_demo
from tests.test_migrations import _downgrade

# Someone at another branch, and a second cashier at SH-XTD to take over a seal.
PEOPLE = {
    "ljz.kuaiji": [("branch_accountant", "SH-LJZ")],
    "qian.chuna": [("cashier", "SH-XTD")],
}


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(control, "bank_life", "银行账户", people=PEOPLE)
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


def _unit(db, code="SH-XTD"):
    return org.get_unit_by_code(db, code)


def _actions(db, entity_type, entity_id):
    write_pending(db)
    return db.scalars(
        select(AuditEvent.action).where(
            AuditEvent.entity_type == entity_type, AuditEvent.entity_id == str(entity_id)
        )
    ).all()


# --- R-BNK-1: open, change, close ----------------------------------------------------------


def test_r_bnk_1_approved_opening_creates_a_pending_account_that_the_number_opens(db):
    request = submitted(db, "open", OPEN_FORM, unit_id=_unit(db).id)
    assert request.status == "submitted" and request.account_id is None
    chain = approvals.steps_of(db, db.get(ApprovalRequest, request.approval_request_id))
    assert [step.role for step in chain] == ["branch_head", "regional_finance", "finance_director"]
    approve_all(db, request)
    assert request.status == "approved"
    account = db.get(BankAccount, request.account_id)
    assert (account.status, account.number_cipher, account.bank) == (
        "pending",
        None,
        "中国工商银行",
    )
    seals = {s.kind: db.get(User, s.keeper_id).login for s in db.scalars(select(AccountSeal))}
    assert seals == SEALS
    opened = registration.register_opening(
        db,
        person(db, ACCOUNTANT),
        account.id,
        number="6222 0210 0112 3456",
        opened_on=date(2025, 3, 3),
    )
    assert (opened.status, opened.opened_on, opened.number_last4) == (
        "open",
        date(2025, 3, 3),
        "3456",
    )
    with pytest.raises(Conflict) as again:
        registration.register_opening(
            db,
            person(db, ACCOUNTANT),
            account.id,
            number="62220210011234567",
            opened_on=date.today(),
        )
    assert again.value.code == "not_pending"
    assert "banking.account_opened" in _actions(db, "bank_account", account.id)


def test_r_bnk_1_an_account_status_is_set_only_through_requests(db):
    """Nothing but an approval moves a request's account: a submitted opening creates nothing,
    a returned one creates nothing and can be revised and sent again."""
    request = submitted(db, "open", OPEN_FORM, unit_id=_unit(db).id)
    approvals.decide(db, person(db, HEAD), request.approval_request_id, step=1, approve=False)
    db.refresh(request)
    assert request.status == "returned" and db.scalar(select(func.count(BankAccount.id))) == 0
    lifecycle.revise(db, person(db, ACCOUNTANT), request.id, {**OPEN_FORM, "purpose": "租金收缴"})
    lifecycle.submit(db, person(db, ACCOUNTANT), request.id)
    approve_all(db, request)
    assert db.get(BankAccount, request.account_id).purpose == "租金收缴"


def test_r_bnk_1_approved_change_replaces_seals_signatories_and_purpose_audited(db):
    account = existing_account(db, "310066001234567")
    changes = {
        "seals": {"finance_seal": "qian.chuna", "head_name_seal": ACCOUNTANT},
        "signatories": ["qian.chuna", CASHIER],
        "purpose": "物业费及停车费收缴",
    }
    request = submitted(
        db, "change", {"changes": changes, "reason": "岗位调整"}, account_id=account.id
    )
    approve_all(db, request)
    seals = {
        s.kind: db.get(User, s.keeper_id).login
        for s in db.scalars(select(AccountSeal).where(AccountSeal.account_id == account.id))
    }
    assert seals == {
        "finance_seal": "qian.chuna",
        "head_name_seal": ACCOUNTANT,  # swapped with the finance seal's old keeper
        "finance_head_name_seal": REGIONAL,
    }
    assert [u.login for _, u in checks.signatories_of(db, account.id)] == ["qian.chuna", CASHIER]
    assert account.purpose == "物业费及停车费收缴"
    assert "banking.request_approved" in _actions(db, "bank_account_request", request.id)


def test_r_bnk_1_closing_refused_with_a_balance_then_closed_and_filed_r_bnk_6(db):
    account = existing_account(db, "310066009999001", balance="1200.50")
    with pytest.raises(Conflict) as refused:
        lifecycle.raise_request(
            db,
            person(db, ACCOUNTANT),
            kind="close",
            form={"reason": "业务完结"},
            account_id=account.id,
        )
    assert refused.value.code == "cannot_close" and "1,200.50" in refused.value.message
    db.add(
        BookEntry(
            account_id=account.id,
            entry_date=date(2025, 1, 2),
            amount=Decimal("-1200.50"),
            source="manual",
        )
    )
    request = submitted(db, "close", {"reason": "业务完结"}, account_id=account.id)
    # Money booked in while the closing waits: the last approver's decision is refused whole.
    db.add(
        BookEntry(
            account_id=account.id, entry_date=date(2025, 1, 3), amount=Decimal("5"), source="manual"
        )
    )
    db.flush()
    approvals.decide(db, person(db, HEAD), request.approval_request_id, step=1, approve=True)
    approvals.decide(db, person(db, REGIONAL), request.approval_request_id, step=2, approve=True)
    savepoint = db.begin_nested()
    with pytest.raises(Conflict) as late:
        approvals.decide(
            db, person(db, DIRECTOR), request.approval_request_id, step=3, approve=True
        )
    savepoint.rollback()
    assert late.value.code == "cannot_close" and account.status == "open"
    db.add(
        BookEntry(
            account_id=account.id,
            entry_date=date(2025, 1, 4),
            amount=Decimal("-5"),
            source="manual",
        )
    )
    approvals.decide(db, person(db, DIRECTOR), request.approval_request_id, step=3, approve=True)
    db.refresh(account)
    assert (account.status, account.closed_on) == ("closed", approvals.today(db))
    item = db.scalar(select(ArchiveItem).where(ArchiveItem.source_type == "bank_account"))
    assert (item.class_code, item.unit_id, item.fiscal_year) == (
        "bank_account_file",
        account.unit_id,
        approvals.today(db).year,
    )
    assert item.due_on == date(approvals.today(db).year + 11, 1, 1)  # 10 years after the year
    assert [d.filename for _, d in archives.files_of(db, item)] == [
        f"bank-account-{account.id}.pdf"
    ]
    with pytest.raises(Conflict) as closed:
        lifecycle.raise_request(
            db, person(db, ACCOUNTANT), kind="close", form={"reason": "再次"}, account_id=account.id
        )
    assert closed.value.code == "cannot_close" and "closed already" in closed.value.message


def test_r_bnk_6_account_file_class_is_ten_years(db):
    rule = db.get(RetentionRule, "bank_account_file")
    assert (rule.name, rule.years, rule.permanent) == ("银行账户资料", 10, False)


# --- refusals --------------------------------------------------------------------------------


def _refused(db, error, **raise_kwargs):
    before = db.scalar(select(func.count(BankAccountRequest.id)))
    with pytest.raises(error) as refused:
        lifecycle.raise_request(db, person(db, raise_kwargs.pop("by", ACCOUNTANT)), **raise_kwargs)
    assert db.scalar(select(func.count(BankAccountRequest.id))) == before
    return refused.value


def test_r_bnk_1_requests_on_another_units_account_are_refused(db):
    account = existing_account(db, "310066001111222")
    refused = _refused(
        db, NotFound, by="ljz.kuaiji", kind="close", form={"reason": "x"}, account_id=account.id
    )
    assert refused.code == "account_not_found"
    mismatch = _refused(
        db,
        InvalidInput,
        kind="close",
        form={"reason": "x"},
        account_id=account.id,
        unit_id=_unit(db, "SH-LJZ").id,
    )
    assert mismatch.code == "another_units_account"


def test_r_bnk_1_a_second_request_for_one_account_is_refused(db):
    account = existing_account(db, "310066003333444")
    submitted(
        db, "change", {"changes": {"purpose": "新用途"}, "reason": "x"}, account_id=account.id
    )
    refused = _refused(db, Conflict, kind="close", form={"reason": "y"}, account_id=account.id)
    assert refused.code == "request_under_way"


def test_r_bnk_2_keepers_are_three_different_active_people_of_the_unit(db):
    two_seals = _refused(
        db,
        InvalidInput,
        kind="open",
        unit_id=_unit(db).id,
        form={**OPEN_FORM, "seals": {**SEALS, "head_name_seal": ACCOUNTANT}},
    )
    assert (
        two_seals.code == "bad_keepers" and "nobody keeps two seals" in two_seals.errors["seals"][0]
    )
    outsider = _refused(
        db,
        InvalidInput,
        kind="open",
        unit_id=_unit(db).id,
        form={**OPEN_FORM, "seals": {**SEALS, "finance_seal": "ljz.kuaiji"}},
    )
    assert outsider.errors == {"seals.finance_seal": ["ljz.kuaiji holds no staff role at SH-XTD"]}
    db.execute(update(User).where(User.login == CASHIER).values(active=False))
    inactive = _refused(db, InvalidInput, kind="open", unit_id=_unit(db).id, form=OPEN_FORM)
    assert inactive.errors == {"signatories.0": [f"no active user {CASHIER!r}"]}


def test_r_bnk_2_a_change_leaving_one_keeper_with_two_seals_is_refused(db):
    account = existing_account(db, "310066005555666")
    refused = _refused(
        db,
        InvalidInput,
        kind="change",
        account_id=account.id,
        form={"changes": {"seals": {"finance_seal": HEAD}}, "reason": "x"},
    )
    assert refused.code == "bad_keepers"


def test_malformed_numbers_and_a_duplicate_at_one_bank_are_refused(db):
    with pytest.raises(InvalidInput) as malformed:
        existing_account(db, "6222-ABC-123")
    assert malformed.value.code == "bad_account_number"
    existing_account(db, "6222021001127777")
    with pytest.raises(Conflict) as duplicate:
        existing_account(db, "6222 0210 0112 7777", account_type="general")
    assert duplicate.value.code == "duplicate_account" and "ending 7777" in duplicate.value.message
    existing_account(db, "6222021001127777", bank="中国银行")  # another bank: another account
    assert db.scalar(select(func.count(BankAccount.id))) == 2


def test_one_basic_account_per_unit(db):
    existing_account(db, "310066007777888", account_type="basic")
    refused = _refused(
        db, Conflict, kind="open", unit_id=_unit(db).id, form={**OPEN_FORM, "account_type": "basic"}
    )
    assert refused.code == "second_basic_account"


def test_form_fields_are_named_when_wrong(db):
    refused = _refused(
        db,
        InvalidInput,
        kind="open",
        unit_id=_unit(db).id,
        form={**OPEN_FORM, "account_type": "x", "bank": ""},
    )
    assert set(refused.errors["form"]) == {"account_type", "bank"}


# --- R-BNK-3: a keeper leaves ----------------------------------------------------------------


def test_r_bnk_3_a_deactivated_keeper_raises_the_change_request_and_handover(db):
    account = existing_account(db, "310066008888999")
    leaver = db.scalar(select(User).where(User.login == ACCOUNTANT))
    identity.deactivate_user(db, person(db, ADMIN), leaver)
    request = db.scalar(
        select(BankAccountRequest).where(BankAccountRequest.account_id == account.id)
    )
    assert (request.kind, request.origin, request.status, request.departed_user_id) == (
        "change",
        "keeper_departure",
        "draft",
        leaver.id,
    )
    assert request.form["departure"] == {
        "user": ACCOUNTANT,
        "seals": ["finance_seal"],
        "signatory": False,
    }
    # The handover is due from the moment they leave, whatever becomes of the draft.
    due = db.scalar(select(AccountDeparture).where(AccountDeparture.account_id == account.id))
    assert (due.user_id, due.seals, due.signatory, due.resolved_at) == (
        leaver.id,
        ["finance_seal"],
        False,
        None,
    )
    # Finance (regional, as the branch accountant left) must name the new keeper to submit.
    with pytest.raises(InvalidInput) as open_departure:
        lifecycle.revise(
            db, person(db, REGIONAL), request.id, {"changes": {"purpose": "x"}, "reason": "r"}
        )
    assert open_departure.value.code == "departure_open"
    lifecycle.revise(
        db,
        person(db, REGIONAL),
        request.id,
        {"changes": {"seals": {"finance_seal": "qian.chuna"}}, "reason": "李会计离职"},
    )
    assert lifecycle.submit(db, person(db, REGIONAL), request.id).status == "submitted"
    assert "banking.request_raised" in _actions(db, "bank_account_request", request.id)


def test_r_bnk_3_keeper_departure_end_to_end_with_handover(db):
    account = existing_account(db, "310066008888000")
    leaver = db.scalar(select(User).where(User.login == CASHIER))
    identity.remove_role(db, person(db, ADMIN), leaver, "cashier", _unit(db))
    request = db.scalar(
        select(BankAccountRequest).where(BankAccountRequest.account_id == account.id)
    )
    assert request.form["departure"] == {"user": CASHIER, "seals": [], "signatory": True}
    assert "identity.role_removed" in _actions(db, "user", leaver.id)
    lifecycle.revise(
        db,
        person(db, ACCOUNTANT),
        request.id,
        {"changes": {"signatories": ["qian.chuna"]}, "reason": "赵出纳调岗"},
    )
    lifecycle.submit(db, person(db, ACCOUNTANT), request.id)
    approve_all(db, request)
    assert [u.login for _, u in checks.signatories_of(db, account.id)] == ["qian.chuna"]
    # A signature is handed over to nobody: the departure is resolved without a handover list.
    due = db.scalar(select(AccountDeparture).where(AccountDeparture.account_id == account.id))
    assert (due.signatory, due.resolved_by) == (True, request.id)
    assert db.scalar(select(Handover).where(Handover.leaving_id == leaver.id)) is None


def test_r_bnk_3_a_seal_keeper_leaving_gets_a_handover_list_on_approval(db):
    account = existing_account(
        db, "310066008888111", seals={**SEALS, "finance_seal": CASHIER}, signatories=[ACCOUNTANT]
    )
    leaver = db.scalar(select(User).where(User.login == CASHIER))
    identity.deactivate_user(db, person(db, ADMIN), leaver)
    request = db.scalar(
        select(BankAccountRequest).where(BankAccountRequest.account_id == account.id)
    )
    lifecycle.revise(
        db,
        person(db, ACCOUNTANT),
        request.id,
        {"changes": {"seals": {"finance_seal": "qian.chuna"}}, "reason": "离职"},
    )
    lifecycle.submit(db, person(db, ACCOUNTANT), request.id)
    approve_all(db, request)
    handover = db.scalar(select(Handover))
    qian = db.scalar(select(User).where(User.login == "qian.chuna"))
    director = db.scalar(select(User).where(User.login == DIRECTOR))
    assert (
        handover.leaving_id,
        handover.receiving_id,
        handover.supervisor_id,
        handover.status,
    ) == (leaver.id, qian.id, director.id, "open")
    line = db.scalar(select(HandoverLine).where(HandoverLine.handover_id == handover.id))
    assert line.kind == "seal" and "财务专用章" in line.description


def test_r_bnk_3_losing_a_role_elsewhere_raises_nothing(db):
    existing_account(db, "310066008888222")
    identity.assign_role(
        db,
        db.scalar(select(User).where(User.login == ACCOUNTANT)),
        "branch_accountant",
        _unit(db, "HZ-XH"),
    )
    person_left(db, db.scalar(select(User).where(User.login == ACCOUNTANT)))
    assert db.scalar(select(func.count(BankAccountRequest.id))) == 0


# --- R-BNK-4: dormancy -----------------------------------------------------------------------


def _carried_over_long_ago(db, *accounts):
    for account in accounts:
        account.created_at = account.created_at - timedelta(days=3 * 366)
    db.flush()


def test_r_bnk_4_dormant_accounts_get_one_closing_proposal(db):
    today = approvals.today(db)
    quiet = existing_account(db, "310066000000001")  # opened 2020, no entries
    _carried_over_long_ago(db, quiet)
    used = existing_account(db, "310066000000002")
    db.add(
        BookEntry(
            account_id=used.id,
            entry_date=today - timedelta(days=30),
            amount=Decimal("9"),
            source="manual",
        )
    )
    finished = existing_account(db, "310066000000003", single_purpose=True)
    db.add(
        BookEntry(account_id=finished.id, entry_date=today, amount=Decimal("1"), source="manual")
    )
    finished.purpose_finished_on = today - timedelta(days=1)
    db.flush()
    proposed = flag_dormant(db, today)
    assert sorted(r.account_id for r in proposed) == [quiet.id, finished.id]
    assert all((r.kind, r.origin, r.status) == ("close", "dormancy", "draft") for r in proposed)
    assert (quiet.dormant_since, used.dormant_since) == (today, None)
    assert flag_dormant(db, today + timedelta(days=1)) == []  # once per account
    assert db.scalar(select(func.count(BankAccountRequest.id))) == 2


def test_r_bnk_4_months_are_a_tenant_setting(db):
    from propgroup.banking.dormancy import change_dormancy_months

    today = approvals.today(db)
    account = existing_account(db, "310066000000004")
    _carried_over_long_ago(db, account)
    db.add(
        BookEntry(
            account_id=account.id,
            entry_date=months_before(today, 4),
            amount=Decimal("9"),
            source="manual",
        )
    )
    db.flush()
    assert flag_dormant(db, today) == []
    change_dormancy_months(db, person(db, DIRECTOR), 3)
    assert [r.account_id for r in flag_dormant(db, today)] == [account.id]
    assert months_before(date(2025, 3, 31), 1) == date(2025, 2, 28)


# --- numbers at rest ---------------------------------------------------------------------------


def test_account_numbers_are_not_readable_in_the_database(db):
    account = existing_account(db, "9558801001234567890")
    db.flush()
    row = db.execute(
        text("select t::text from bank_accounts t where id = :id"), {"id": account.id}
    ).scalar_one()
    stored = db.execute(
        text("select number_cipher, number_digest from bank_accounts where id = :id"),
        {"id": account.id},
    ).one()
    assert "9558801001234567890" not in row and "1234567890" not in row
    for value in stored:
        assert b"9558801001234567890" not in bytes(value)
        assert b"9558801001234567890".hex() not in bytes(value).hex()
    audit = " ".join(_actions(db, "bank_account", account.id))
    write_pending(db)
    dumped = db.execute(text("select string_agg(t::text, ' ') from audit_events t")).scalar_one()
    assert "9558801001234567890" not in dumped and audit


# --- the template reaches older groups -------------------------------------------------------


def _before_banking(template):
    old = copy.deepcopy(template)
    old["approvals"]["rules"] = [
        rule for rule in old["approvals"]["rules"] if "bank_account" not in rule["request_types"]
    ]
    old["archives"]["retention"] = [
        spec for spec in old["archives"]["retention"] if spec["code"] != "bank_account_file"
    ]
    return old


def test_migrate_gives_older_groups_the_bank_account_rules_and_class(fresh_control, template):
    old = tenancy.provision_tenant(
        fresh_control, slug="before_banking", name="Old", template=_before_banking(template)
    )
    with fresh_control.begin() as connection:
        _downgrade(connection, old.schema_name, "t0015")
        connection.execute(update(Tenant).values(schema_revision="t0015"))
    report = migrate_tenants(fresh_control.url.render_as_string(hide_password=False), jobs=1)
    assert not report.failed
    assert report.upgraded[0].notes == (
        "added the bank_account_file retention class from commercial-property-cn@1",
        "added the bank_account approval rules from commercial-property-cn@1",
    )
    with tenant_session(fresh_control, old.schema_name) as session:
        policy = parse_policy(approvals.current_policy(session).document)
        steps = rule_for(policy, "bank_account", "branch", Decimal("1"))["steps"]
        assert [s["role"] for s in steps] == ["branch_head", "regional_finance", "finance_director"]
        assert session.get(RetentionRule, "bank_account_file").years == 10
        assert tenancy.complete_group_data(session, template) == []


def test_r_bnk_3_operator_deactivation_through_the_cli_raises_the_change_request(control):
    from click.testing import CliRunner

    from propgroup.cli import main

    tenant = provision_demo(control, "bank_cli", "银行账户CLI")
    try:
        with tenant_session(control, tenant.schema_name) as session:
            account = existing_account(session, "310066000000777")
            session.commit()
            account_id = account.id
        result = CliRunner().invoke(main, ["users", "deactivate", tenant.slug, HEAD])
        assert result.exit_code == 0, result.output
        with tenant_session(control, tenant.schema_name) as session:
            request = session.scalar(
                select(BankAccountRequest).where(BankAccountRequest.account_id == account_id)
            )
            assert (request.origin, request.form["departure"]["seals"]) == (
                "keeper_departure",
                ["head_name_seal"],
            )
        missing = CliRunner().invoke(main, ["users", "deactivate", tenant.slug, "nobody"])
        assert missing.exit_code != 0 and "no user 'nobody'" in missing.output
    finally:
        tenancy.drop_tenant(control, tenant.slug)
