"""What a review of the bank account lifecycle found, each pinned by the rule it breaks: numbers
never at rest in the clear (idempotency keys, the archived file), departures that cannot be lost
or forged (R-BNK-3), another unit's papers kept out of an account's file (R-BNK-6), ids beyond a
bigint and races answered 4xx, the 12-month dormancy boundary (R-BNK-4), and nobody deciding a
request they wrote (R-APR-3)."""

from __future__ import annotations

import io
import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from propgroup.approvals import service as approvals
from propgroup.approvals.models import ApprovalRequest
from propgroup.archives.models import ArchiveFile, ArchiveItem, Handover
from propgroup.banking import checks, documents, lifecycle, registration
from propgroup.banking.dormancy import flag_dormant, months_before
from propgroup.banking.models import (
    AccountDeparture,
    BankAccount,
    BankAccountRequest,
    BookEntry,
)
from propgroup.cashdesk.cheques import register_book
from propgroup.db import tenant_session
from propgroup.errors import Conflict, Forbidden, InvalidInput, NotFound
from propgroup.identity import service as identity
from propgroup.identity.models import User
from propgroup.org import service as org
from propgroup.storage import service as storage
from propgroup.storage.models import Document
from propgroup.storage.settings import configured_store
from propgroup.tenancy import service as tenancy
from tests.support.api import api_caller, personal_tokens
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

OTHER_BRANCH = "ljz.kuaiji"
PEOPLE = {OTHER_BRANCH: [("branch_accountant", "SH-LJZ")], "qian.chuna": [("cashier", "SH-XTD")]}
SCOPES = ["banking:read", "banking:numbers", "banking:write", "banking:admin", "documents:read"]


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(control, "bank_safe", "银行账户审阅", people=PEOPLE)
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


@pytest.fixture(scope="module")
def tokens(control, group):
    return personal_tokens(control, group, SCOPES)


@pytest.fixture(scope="module")
def api(group):
    return api_caller(group, "/banking")


def _unit(db, code="SH-XTD"):
    return org.get_unit_by_code(db, code)


def _user(db, login):
    return db.scalar(select(User).where(User.login == login))


def _close(db, account):
    request = submitted(db, "close", {"reason": "销户"}, account_id=account.id)
    approve_all(db, request)
    return request


def _file_documents(db, account):
    item = db.scalar(
        select(ArchiveItem).where(
            ArchiveItem.class_code == "bank_account_file",
            ArchiveItem.title.contains(f"****{account.number_last4}"),
        )
    )
    return db.scalars(
        select(Document)
        .join(ArchiveFile, ArchiveFile.document_id == Document.id)
        .where(ArchiveFile.item_id == item.id)
    ).all()


# --- numbers at rest ---------------------------------------------------------------------------


def test_account_numbers_are_not_kept_by_idempotency_keys_nor_the_archived_file(
    api, tokens, control, group
):
    number = "6217000099991234"
    with tenant_session(control, group.schema_name) as s:
        unit_id = _unit(s).id
    spec = {
        **{k: v for k, v in OPEN_FORM.items() if k != "reason"},
        "unit_id": unit_id,
        "number": number,
        "opened_on": "2019-05-06",
        "opening_balance": "0",
        "balance_on": "2024-12-31",
        "note": "上线前开立",
    }
    created = api(
        "POST", "/accounts/existing", tokens[DIRECTOR], json=spec, headers={"Idempotency-Key": "k1"}
    )
    assert created.status_code == 201 and created.json["number"] == number
    with tenant_session(control, group.schema_name) as s:
        kept = s.execute(text("select string_agg(t::text, ' ') from idempotency_keys t")).scalar()
        assert number not in (kept or "")
        account = s.get(BankAccount, created.json["id"])
        _close(s, account)
        (pdf,) = [d for d in _file_documents(s, account) if d.filename.endswith(".pdf")]
        _, stream = storage.open_document(s, configured_store(), pdf.id)
        data = stream.read()
        s.rollback()
    for form in (number.encode(), number.encode("utf-16-be").hex().upper().encode()):
        assert form not in data
    assert "1234".encode("utf-16-be").hex().upper().encode() in data  # the mask is there


# --- bad input is a 4xx ------------------------------------------------------------------------


def test_ids_beyond_a_bigint_and_nul_in_a_note_are_422(api, tokens, control, group):
    for value in ("99999999999999999999", "9223372036854775808", "0"):
        answer = api("GET", f"/requests?account_id={value}", tokens[ACCOUNTANT])
        assert answer.status_code == 422, value
    with tenant_session(control, group.schema_name) as s:
        request = submitted(s, "open", OPEN_FORM, unit_id=_unit(s).id)
        approve_all(s, request)
        pending, unit_id = request.account_id, _unit(s).id
        s.commit()
    opening = {"number": "6222000011113333", "opened_on": "2025-01-02", "document_ids": [2**63]}
    answer = api("POST", f"/accounts/{pending}/opening", tokens[ACCOUNTANT], json=opening)
    assert answer.status_code == 422
    spec = {
        **{k: v for k, v in OPEN_FORM.items() if k != "reason"},
        "unit_id": unit_id,
        "number": "6217000099995678",
        "opened_on": "2019-05-06",
        "opening_balance": "0",
        "balance_on": "2024-12-31",
        "note": "a\x00b",
    }
    answer = api("POST", "/accounts/existing", tokens[DIRECTOR], json=spec)
    assert (answer.status_code, answer.json["code"]) == (422, "bad_account")


# --- R-BNK-3: departures -----------------------------------------------------------------------


def test_r_bnk_3_a_departure_typed_into_the_form_is_refused(db):
    account = existing_account(db, "310066001110001")
    form = {
        "changes": {"seals": {"finance_seal": "qian.chuna"}},
        "reason": "r",
        "departure": {"user": ACCOUNTANT, "seals": ["finance_seal"]},
    }
    with pytest.raises(InvalidInput) as refused:
        lifecycle.raise_request(
            db, person(db, ACCOUNTANT), kind="change", form=form, account_id=account.id
        )
    assert "departure" in refused.value.errors["form"]


def test_r_bnk_3_a_departure_while_a_request_is_under_way_is_resolved_by_it(db):
    account = existing_account(db, "310066001110002", seals={**SEALS, "finance_seal": "qian.chuna"})
    live = lifecycle.raise_request(
        db,
        person(db, ACCOUNTANT),
        kind="change",
        form={"changes": {"purpose": "租金"}, "reason": "r"},
        account_id=account.id,
    )
    leaver = _user(db, "qian.chuna")
    identity.deactivate_user(db, person(db, ADMIN), leaver)
    (due,) = db.scalars(select(AccountDeparture).where(AccountDeparture.account_id == account.id))
    assert (due.user_id, due.seals, due.resolved_at) == (leaver.id, ["finance_seal"], None)
    with pytest.raises(InvalidInput) as refused:
        lifecycle.submit(db, person(db, ACCOUNTANT), live.id)
    assert refused.value.code == "departure_open"
    lifecycle.revise(
        db,
        person(db, ACCOUNTANT),
        live.id,
        {"changes": {"purpose": "租金", "seals": {"finance_seal": ACCOUNTANT}}, "reason": "r"},
    )
    lifecycle.submit(db, person(db, ACCOUNTANT), live.id)
    approve_all(db, live)
    assert live.status == "approved" and due.resolved_by == live.id
    handover = db.scalar(select(Handover).where(Handover.leaving_id == leaver.id))
    assert (handover.receiving_id, handover.supervisor_id) == (
        _user(db, ACCOUNTANT).id,
        _user(db, DIRECTOR).id,
    )


def test_r_bnk_3_a_departure_after_submission_refuses_the_approval(db):
    account = existing_account(db, "310066001110005")
    live = submitted(
        db, "change", {"changes": {"purpose": "租金"}, "reason": "r"}, account_id=account.id
    )
    identity.remove_role(db, person(db, ADMIN), _user(db, CASHIER), "cashier", _unit(db))
    with pytest.raises(InvalidInput) as refused:
        approve_all(db, live)
    assert refused.value.code == "departure_open"


def test_r_bnk_3_a_departure_draft_cannot_be_withdrawn(db):
    account = existing_account(db, "310066001110003")
    identity.remove_role(db, person(db, ADMIN), _user(db, CASHIER), "cashier", _unit(db))
    draft = db.scalar(select(BankAccountRequest).where(BankAccountRequest.account_id == account.id))
    with pytest.raises(Conflict) as refused:
        lifecycle.withdraw(db, person(db, ACCOUNTANT), draft.id)
    assert refused.value.code == "departure_not_withdrawn" and draft.status == "draft"


# --- R-BNK-6: the file holds the account's own unit's papers only -----------------------------


def test_r_bnk_6_another_units_documents_are_not_filed_nor_attachable(db, group):
    account = existing_account(db, "310066001110004")
    foreign = storage.upload_document(
        db,
        configured_store(),
        person(db, OTHER_BRANCH),
        tenant_slug=group.slug,
        unit_id=_unit(db, "SH-LJZ").id,
        stream=io.BytesIO(b"junk"),
        filename="x.txt",
        entity_type="bank_account",
        entity_id=account.id,
        max_bytes=1000,
    )
    with pytest.raises(InvalidInput) as generic:
        storage.check_upload(db, person(db, OTHER_BRANCH), _unit(db, "SH-LJZ").id, "bank_account")
    assert generic.value.code == "owned_entity_type"
    with pytest.raises(NotFound):
        documents.check_attach(db, person(db, OTHER_BRANCH), "bank_account", account.id)
    own = documents.attach(
        db,
        configured_store(),
        person(db, ACCOUNTANT),
        "bank_account",
        account.id,
        stream=io.BytesIO(b"seal card"),
        filename="card.txt",
        max_bytes=1000,
    )
    _close(db, account)
    filed = {d.id for d in _file_documents(db, account)}
    assert own.id in filed and foreign.id not in filed


def test_r_bnk_1_unused_cheques_stand_in_the_way_of_closing(db):
    account = existing_account(db, "310066001110006")
    register_book(
        db,
        person(db, CASHIER),
        account_id=account.id,
        received_on=approvals.today(db),
        bank="中国工商银行",
        cheque_type="transfer",
        first_number="10000001",
        last_number="10000025",
    )
    problems = checks.closing_problems(db, account)
    assert any("25 blank cheque(s)" in problem for problem in problems)


# --- R-BNK-1: registration ---------------------------------------------------------------------


def test_r_bnk_1_one_number_at_one_bank_however_the_bank_is_written(db):
    existing_account(db, "310066001110007", bank="中国工商银行")
    for typed in ("工商银行", "ICBC", "中国工商银行股份有限公司"):
        with pytest.raises(Conflict) as refused:
            existing_account(db, "3100-6600-1110-007", bank=typed)
        assert refused.value.code == "duplicate_account"


def test_r_bnk_1_existing_accounts_are_a_units_and_opened_already(db):
    with pytest.raises(InvalidInput) as department:
        existing_account(db, "310066001110008", unit="SH-XTD-FIN")
    tomorrow = (approvals.today(db) + timedelta(days=1)).isoformat()
    with pytest.raises(InvalidInput) as future:
        existing_account(db, "310066001110009", opened_on=tomorrow)
    assert (department.value.code, future.value.code) == ("bad_unit", "bad_date")


def test_r_bnk_1_two_registrations_of_one_number_at_once_one_is_409(control, group):
    with tenant_session(control, group.schema_name) as s:
        pending = []
        for _ in range(2):
            request = submitted(s, "open", OPEN_FORM, unit_id=_unit(s).id)
            approve_all(s, request)
            pending.append(request.account_id)
        s.commit()
    outcome = {}

    def second():
        with tenant_session(control, group.schema_name) as s2:
            try:
                registration.register_opening(
                    s2,
                    person(s2, ACCOUNTANT),
                    pending[1],
                    number="6222000011112222",
                    opened_on=date(2025, 1, 2),
                )
                s2.commit()
                outcome["second"] = "registered"
            except Conflict as exc:
                outcome["second"] = exc.code

    with tenant_session(control, group.schema_name) as s1:
        registration.register_opening(
            s1,
            person(s1, ACCOUNTANT),
            pending[0],
            number="6222000011112222",
            opened_on=date(2025, 1, 2),
        )
        racing = threading.Thread(target=second)
        racing.start()
        racing.join(1)
        assert racing.is_alive()  # waits for the first registration's lock
        s1.commit()
    racing.join(10)
    assert outcome == {"second": "duplicate_account"}


# --- R-BNK-4: dormancy -------------------------------------------------------------------------


def test_r_bnk_4_twelve_months_to_the_day_is_dormant_and_a_day_less_is_not(db):
    today = approvals.today(db)
    boundary, inside = (existing_account(db, n) for n in ("310066001110010", "310066001110011"))
    for account, day in (
        (boundary, months_before(today, 12)),
        (inside, months_before(today, 12) + timedelta(days=1)),
    ):
        account.created_at -= timedelta(days=3 * 366)
        db.add(
            BookEntry(account_id=account.id, entry_date=day, amount=Decimal("1"), source="manual")
        )
    db.flush()
    assert [r.account_id for r in flag_dormant(db, today)] == [boundary.id]


def test_r_bnk_4_an_account_carried_over_today_is_not_dormant(db):
    existing_account(db, "310066001110012")  # opened 2020, no entries, registered today
    assert flag_dormant(db, approvals.today(db)) == []


def test_r_bnk_4_used_again_clears_the_flag_and_withdraws_the_proposal(db):
    today = approvals.today(db)
    account = existing_account(db, "310066001110013")
    account.created_at -= timedelta(days=3 * 366)
    db.flush()
    (proposal,) = flag_dormant(db, today)
    db.add(BookEntry(account_id=account.id, entry_date=today, amount=Decimal("5"), source="manual"))
    db.flush()
    assert flag_dormant(db, today) == []
    assert (account.dormant_since, proposal.status) == (None, "withdrawn")


# --- R-APR-3 and withdrawing -------------------------------------------------------------------


def test_r_apr_3_whoever_drafted_a_bank_request_does_not_decide_it(db):
    request = lifecycle.raise_request(
        db, person(db, REGIONAL), kind="open", form=OPEN_FORM, unit_id=_unit(db).id
    )
    lifecycle.submit(db, person(db, ACCOUNTANT), request.id)
    approvals.decide(db, person(db, HEAD), request.approval_request_id, step=1, approve=True)
    with pytest.raises(Forbidden) as refused:
        approvals.decide(
            db, person(db, REGIONAL), request.approval_request_id, step=2, approve=True
        )
    assert refused.value.code in ("self_approval", "not_your_step")


def test_r_bnk_1_withdrawing_a_returned_request_withdraws_it_in_the_engine(db):
    account = existing_account(db, "310066001110014")
    request = submitted(
        db, "change", {"changes": {"purpose": "租金"}, "reason": "r"}, account_id=account.id
    )
    approvals.decide(db, person(db, HEAD), request.approval_request_id, step=1, approve=False)
    db.refresh(request)
    assert request.status == "returned"
    lifecycle.withdraw(db, person(db, ACCOUNTANT), request.id)
    engine = db.get(ApprovalRequest, request.approval_request_id)
    assert (request.status, engine.status) == ("withdrawn", "withdrawn")


def test_r_bnk_2_finance_head_seal_by_a_finance_head_and_auditors_keep_nothing(db):
    swapped = {**SEALS, "finance_head_name_seal": HEAD, "head_name_seal": REGIONAL}
    with pytest.raises(InvalidInput) as not_finance:
        lifecycle.raise_request(
            db,
            person(db, ACCOUNTANT),
            kind="open",
            form={**OPEN_FORM, "seals": swapped},
            unit_id=_unit(db).id,
        )
    assert set(not_finance.value.errors) == {"seals.finance_head_name_seal"}
    with pytest.raises(InvalidInput) as auditor:
        lifecycle.raise_request(
            db,
            person(db, ACCOUNTANT),
            kind="open",
            form={**OPEN_FORM, "signatories": ["feng.shenji"]},
            unit_id=_unit(db).id,
        )
    assert set(auditor.value.errors) == {"signatories.0"}
