"""Legal holds (R-ARC-2), appraisal by two people and destruction through the approvals engine
with two supervisors (R-ARC-1), end to end over the API; no other way to delete an archived file;
a paid request's vouchers filed automatically; the integrity check finds a tampered file."""

from __future__ import annotations

import io
import os
import subprocess
import threading
import time
from datetime import date

import pytest
from sqlalchemy import func, select, text

from propgroup.approvals import service as approvals
from propgroup.approvals.models import ApprovalRequest
from propgroup.archives import appraisal, destruction, holds, integrity, service
from propgroup.archives.models import AppraisalList, AppraisalListItem, ArchiveItem
from propgroup.audit.models import AuditEvent
from propgroup.audit.service import write_pending
from propgroup.db import tenant_session
from propgroup.errors import Conflict, Forbidden, InvalidInput
from propgroup.org import service as org
from propgroup.storage.settings import configured_store
from propgroup.tenancy import service as tenancy
from tests.support.api import api_caller, personal_tokens
from tests.support.groups import REQUESTER, person, provision_demo, raise_request

SCOPES = [
    "archives:read",
    "archives:write",
    "archives:hold",
    "archives:appraise",
    "archives:supervise",
    "archives:admin",
    "approvals:read",
    "approvals:write",
    "documents:read",
    "documents:write",
]
ACCOUNTANT, HEAD, REGIONAL = "li.kuaiji", "wang.xiangmu", "sun.diqucaiwu"


@pytest.fixture(scope="module")
def group(control):
    tenant = provision_demo(control, "arc_destroy", "档案销毁", people=REQUESTER)
    yield tenant
    tenancy.drop_tenant(control, tenant.slug)


@pytest.fixture(scope="module")
def tokens(control, group):
    return personal_tokens(control, group, SCOPES)


@pytest.fixture
def api(group):
    return api_caller(group, "/archives")


def _item(
    db,
    unit="SH-XTD",
    year=2010,
    class_code="periodic_report",
    title="2010年12月报表",
    by=ACCOUNTANT,
):
    """An item long past retention (a 2010 monthly report was due in 2021), with one file."""
    item = service.new_item(
        db,
        person(db, by),
        {
            "class_code": class_code,
            "unit_id": org.get_unit_by_code(db, unit).id,
            "fiscal_year": year,
            "period": "12",
            "title": title,
        },
    )
    service.add_file(
        db,
        configured_store(),
        person(db, by),
        item.id,
        stream=io.BytesIO(f"report {item.id}".encode()),
        filename="r.pdf",
        max_bytes=1024,
    )
    return item


def _appraised(db, item, decision="destroy", **extra):
    opinion = appraisal.propose(
        db, person(db, ACCOUNTANT), item.id, decision=decision, reason="到期，无保存价值", **extra
    )
    return appraisal.confirm(db, person(db, HEAD), opinion.id, agree=True, comment="同意")


def _approved_list(db, item):
    """The item appraised for destruction, on a list approved by the branch head and regional
    finance (the template's chain for a branch's list)."""
    _appraised(db, item)
    listing = destruction.draw_up(
        db, person(db, ACCOUNTANT), unit_id=item.unit_id, item_ids=[item.id]
    )
    for step, login in enumerate([HEAD, REGIONAL], start=1):
        approvals.decide(
            db, person(db, login), listing.approval_request_id, step=step, approve=True
        )
    return listing


def test_r_arc_2_hold_on_an_item_blocks_appraisal_and_needs_a_second_person_to_release(db):
    item = _item(db)
    hold = holds.place_hold(
        db, person(db, HEAD), reason="合同纠纷 (2024)民初123号", item_id=item.id
    )
    assert service.is_held(db, item.id)
    with pytest.raises(Conflict) as refused:
        appraisal.propose(db, person(db, ACCOUNTANT), item.id, decision="destroy", reason="到期")
    assert refused.value.code == "held"
    with pytest.raises(Forbidden) as same:
        holds.release_hold(db, person(db, HEAD), hold.id, reason="已结案")
    assert same.value.code == "second_person"
    holds.release_hold(db, person(db, REGIONAL), hold.id, reason="已结案")
    assert not service.is_held(db, item.id)
    with pytest.raises(Conflict):
        holds.release_hold(db, person(db, "zhou.zongjingli"), hold.id, reason="again")


def test_r_arc_2_hold_on_a_unit_and_year_covers_items_filed_later(db):
    region = org.get_unit_by_code(db, "EAST")
    holds.place_hold(
        db, person(db, REGIONAL), reason="税务稽查", unit_id=region.id, fiscal_year=2011
    )
    later = _item(db, unit="HZ-XH", year=2011, by="wu.caiwuzongjian")
    other_year = _item(db, unit="HZ-XH", year=2012, by="wu.caiwuzongjian")
    elsewhere = _item(db, unit="SZ-NS", year=2011, by="wu.caiwuzongjian")
    assert service.is_held(db, later.id)
    assert not service.is_held(db, other_year.id) and not service.is_held(db, elsewhere.id)


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"reason": " "}, "reason"),
        ({"reason": "x"}, "item_id"),
        ({"reason": "x", "item_id": 1, "unit_id": 1}, "item_id"),
    ],
)
def test_r_arc_2_a_hold_needs_a_reason_and_one_scope(db, spec, field):
    with pytest.raises(InvalidInput) as refused:
        holds.place_hold(db, person(db, HEAD), **spec)
    assert field in refused.value.errors


def test_r_arc_1_appraisal_needs_two_people_and_a_due_item(db):
    item = _item(db)
    fresh = _item(db, year=2024)  # due in 2035
    with pytest.raises(Conflict) as not_due:
        appraisal.propose(db, person(db, ACCOUNTANT), fresh.id, decision="destroy", reason="r")
    assert not_due.value.code == "not_due"
    opinion = appraisal.propose(
        db,
        person(db, ACCOUNTANT),
        item.id,
        decision="keep",
        reason="审计需要",
        keep_until=approvals.today(db).replace(year=2040),
    )
    with pytest.raises(Forbidden) as alone:
        appraisal.confirm(db, person(db, ACCOUNTANT), opinion.id, agree=True, comment="ok")
    assert alone.value.code == "second_person"
    appraisal.confirm(db, person(db, HEAD), opinion.id, agree=True, comment="同意延期")
    db.refresh(item)
    assert item.status == "kept" and item.due_on.year == 2040


def test_r_arc_1_destruction_end_to_end_over_the_api(control, group, api, tokens):
    with tenant_session(control, group.schema_name) as db:
        items = [_item(db, title=f"月报 {n}") for n in range(2)]
        held_item = _item(db)
        for item in [*items, held_item]:
            _appraised(db, item)
        holds.place_hold(db, person(db, HEAD), reason="诉讼", item_id=held_item.id)
        keys = [doc.blob_key for item in items for _, doc in service.files_of(db, item)]
        unit = org.get_unit_by_code(db, "SH-XTD").id
        ids = [item.id for item in items]
        db.commit()
    store = configured_store()
    assert all(store.exists(key) for key in keys)

    def carry_out(archives_supervisor, accounting_supervisor):
        return api(
            "POST",
            f"/destruction-lists/{listing}/carry-out",
            tokens[ACCOUNTANT],
            json={
                "archives_supervisor": archives_supervisor,
                "accounting_supervisor": accounting_supervisor,
            },
        )

    refused = api(
        "POST",
        "/destruction-lists",
        tokens[ACCOUNTANT],
        json={"unit_id": unit, "item_ids": [*ids, held_item.id]},
    )
    assert refused.status_code == 422 and "item_ids[2]" in refused.json["errors"]
    drawn = api(
        "POST",
        "/destruction-lists",
        tokens[ACCOUNTANT],
        json={"unit_id": unit, "item_ids": ids, "note": "2010年报表"},
    )
    assert drawn.status_code == 201, drawn.json
    listing, request_id = drawn.json["id"], drawn.json["approval_request_id"]
    assert drawn.json["status"] == "in_approval"
    assert {i["status"] for i in drawn.json["items"]} == {"listed"}

    early = carry_out(HEAD, ACCOUNTANT)
    assert early.status_code == 409 and early.json["code"] == "not_approved"
    by_hand = api(
        "POST",
        f"/{request_id}/withdraw",
        tokens[ACCOUNTANT],
        base=f"/approvals/{request_id}/withdraw",
    )
    assert by_hand.status_code == 409 and by_hand.json["code"] == "subject_request"
    for step, login in enumerate([HEAD, REGIONAL], start=1):
        decided = api(
            "POST",
            "",
            tokens[login],
            base=f"/approvals/{request_id}/decisions",
            json={"step": step, "approve": True},
        )
        assert decided.status_code == 200, decided.json
    assert (
        api("GET", f"/destruction-lists/{listing}", tokens[ACCOUNTANT]).json["status"] == "approved"
    )

    same = carry_out(HEAD, HEAD)
    assert same.status_code == 422 and same.json["code"] == "same_supervisor"
    cashier = carry_out(HEAD, "zhao.chuna")
    assert cashier.status_code == 422 and "accounting_supervisor" in cashier.json["errors"]
    assert all(store.exists(key) for key in keys)  # nothing deleted by the refusals

    done = carry_out(HEAD, ACCOUNTANT)
    assert done.status_code == 200, done.json
    assert done.json["status"] == "destroyed" and {i["status"] for i in done.json["items"]} == {
        "destroyed"
    }
    assert not any(store.exists(key) for key in keys)
    record = api("GET", f"/items/{done.json['record_item_id']}", tokens["feng.shenji"]).json
    assert record["class_code"] == "destruction_list" and record["due_on"] is None
    assert sorted(f["filename"] for f in record["files"]) == [
        f"destruction-certificate-{listing}.pdf",
        f"destruction-list-{listing}.csv",
    ]
    again = carry_out(HEAD, ACCOUNTANT)
    assert again.status_code == 409
    with tenant_session(control, group.schema_name) as db:
        assert db.get(ArchiveItem, held_item.id).status == "to_destroy"  # never listed
        certificate = next(
            doc
            for _, doc in service.files_of(db, db.get(ArchiveItem, record["id"]))
            if doc.filename.endswith(".pdf")
        )
        with store.open(certificate.blob_key) as stream:
            body = stream.read()
        event = db.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "archives.destroyed", AuditEvent.entity_id == str(listing)
            )
        )
        assert event.after["supervisors"] == [HEAD, ACCOUNTANT]
    assert body.startswith(b"%PDF-1.4") and body.rstrip().endswith(b"%%EOF")
    if os.path.exists("/usr/bin/pdftotext"):
        text = subprocess.run(["pdftotext", "-", "-"], input=body, capture_output=True, check=True)
        assert "会计档案销毁证明" in text.stdout.decode()


def test_r_arc_1_requester_cannot_approve_own_destruction_list(db):
    item = _item(db)
    _appraised(db, item)
    listing = destruction.draw_up(db, person(db, HEAD), unit_id=item.unit_id, item_ids=[item.id])
    with pytest.raises(Forbidden) as own:
        approvals.decide(db, person(db, HEAD), listing.approval_request_id, step=1, approve=True)
    assert own.value.code == "self_approval"


def test_r_arc_1_returned_list_gives_its_items_back(db):
    item = _item(db)
    _appraised(db, item)
    listing = destruction.draw_up(
        db, person(db, ACCOUNTANT), unit_id=item.unit_id, item_ids=[item.id]
    )
    approvals.decide(db, person(db, HEAD), listing.approval_request_id, step=1, approve=False)
    db.refresh(item)
    assert listing.status == "rejected" and item.status == "to_destroy"
    assert item.destruction_list_id is None


def test_r_arc_2_hold_placed_after_approval_stops_the_destruction(db):
    item = _item(db)
    listing = _approved_list(db, item)
    holds.place_hold(db, person(db, REGIONAL), reason="新诉讼", unit_id=item.unit_id)
    key = service.files_of(db, item)[0][1].blob_key
    with pytest.raises(Conflict) as refused:
        destruction.carry_out(
            db,
            configured_store(),
            person(db, ACCOUNTANT),
            listing.id,
            archives_supervisor=HEAD,
            accounting_supervisor=ACCOUNTANT,
        )
    assert refused.value.code == "held" and configured_store().exists(key)


def test_r_arc_1_no_other_delete_path(group):
    """No route deletes anything under documents or archives, for any role; the orphan sweep
    keeps archived files, which always have their document row."""
    from propgroup.app import create_app

    app = create_app({"TESTING": True})
    deleting = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if "DELETE" in (rule.methods or ())
        and ("documents" in rule.rule or "archives" in rule.rule)
    ]
    assert deleting == []


def test_r_arc_1_orphan_sweep_keeps_archived_files(db, group):
    from datetime import timedelta

    from propgroup.storage import service as storage

    item = _item(db)
    key = service.files_of(db, item)[0][1].blob_key
    db.flush()
    swept = storage.sweep_orphans(
        db,
        configured_store(),
        tenant_slug=group.slug,
        older_than=timedelta(seconds=1),
        now=approvals.now() + timedelta(days=1),
    )
    assert key not in swept and configured_store().exists(key)


def test_r_arc_1_archived_files_are_read_only_on_the_filesystem(db):
    item = _item(db)
    store = configured_store()
    path = store._path(service.files_of(db, item)[0][1].blob_key)
    assert oct(path.stat().st_mode & 0o777) == "0o440"


def test_r_arc_1_generic_upload_cannot_add_archive_files(api, tokens, control, group):
    with tenant_session(control, group.schema_name) as db:
        unit = org.get_unit_by_code(db, "SH-XTD").id
    refused = api(
        "POST",
        "",
        tokens[ACCOUNTANT],
        base="/documents",
        query_string={
            "filename": "x.pdf",
            "entity_type": "archive_item",
            "entity_id": 1,
            "unit_id": unit,
        },
        data=b"%PDF-1.4 x",
    )
    assert refused.status_code == 422 and refused.json["code"] == "owned_entity_type"


def test_paid_request_vouchers_become_original_voucher_items(db):
    """Filed by the engine's payment, once, with the class the table gives vouchers."""
    request = raise_request(db, "qian.staff", "SH-XTD", amount="300.00")
    approvals.attach_voucher(
        db,
        configured_store(),
        person(db, "qian.staff"),
        request.id,
        stream=io.BytesIO(b"%PDF-1.4 invoice"),
        filename="发票.pdf",
        max_bytes=1024,
    )
    approvals.submit(db, person(db, "qian.staff"), request.id)
    for step, login in enumerate([ACCOUNTANT, HEAD], start=1):
        approvals.decide(db, person(db, login), request.id, step=step, approve=True)
    approvals.pay(db, person(db, "zhao.chuna"), request.id, method="cash", reference=None)
    filed = db.scalars(
        select(ArchiveItem).where(
            ArchiveItem.source_type == "approval_request", ArchiveItem.source_id == request.id
        )
    ).all()
    assert len(filed) == 1
    assert filed[0].class_code == "original_voucher" and filed[0].unit_id == request.unit_id
    assert filed[0].fiscal_year == approvals.today(db).year
    assert filed[0].due_on.year == filed[0].fiscal_year + 31
    assert [doc.filename for _, doc in service.files_of(db, filed[0])] == ["发票.pdf"]


def test_integrity_check_finds_a_missing_and_a_tampered_file(db):
    intact, tampered, lost = _item(db), _item(db), _item(db)
    store = configured_store()
    tampered_path = store._path(service.files_of(db, tampered)[0][1].blob_key)
    os.chmod(tampered_path, 0o640)
    tampered_path.write_bytes(b"altered")
    store._path(service.files_of(db, lost)[0][1].blob_key).unlink()
    report = integrity.check_integrity(db, store)
    file_of = {item.id: service.files_of(db, item)[0][0].id for item in (intact, tampered, lost)}
    assert file_of[tampered.id] in report.altered and file_of[lost.id] in report.missing
    assert file_of[intact.id] not in report.altered + report.missing


def test_r_arc_1_yearly_sweep_lists_items_past_retention(db):
    from propgroup.archives import jobs

    old, fresh, kept_forever = (
        _item(db),
        _item(db, year=2024),
        _item(db, class_code="annual_report", year=2001),
    )
    assert jobs.sweep_due(db) >= 1
    for item in (old, fresh, kept_forever):
        db.refresh(item)
    assert (old.status, fresh.status, kept_forever.status) == ("due", "kept", "kept")
    assert jobs.sweep_due(db) == 0  # nothing new is due


def _lines(db, item):
    return db.scalars(
        select(AppraisalListItem)
        .where(AppraisalListItem.item_id == item.id)
        .order_by(AppraisalListItem.list_id)
    ).all()


def _row_version(db, item):
    return db.scalar(text("select ctid::text from archive_items where id = :id"), {"id": item.id})


def test_r_arc_1_the_sweep_keeps_a_list_of_what_it_found_and_rewrites_no_catalogue_row(db):
    old, fresh = _item(db), _item(db, year=2024)
    versions = {item.id: _row_version(db, item) for item in (old, fresh)}
    day = approvals.today(db)
    found = appraisal.sweep_due(db, day)
    listing = db.scalars(select(AppraisalList).order_by(AppraisalList.id.desc())).first()
    assert (listing.swept_on, listing.found) == (day, found)
    assert db.scalar(select(func.count()).where(AppraisalListItem.list_id == listing.id)) == found
    [line] = _lines(db, old)
    assert (line.list_id, line.due_on, line.settled_at) == (listing.id, old.due_on, None)
    assert _lines(db, fresh) == []
    assert {item.id: _row_version(db, item) for item in (old, fresh)} == versions
    write_pending(db)
    event = db.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "archives.retention_swept")
        .order_by(AuditEvent.id.desc())
    ).first()
    assert (event.entity_type, event.entity_id) == ("archive_appraisal_list", str(listing.id))
    assert event.after == {"day": day.isoformat(), "due": found}


def test_r_arc_1_due_is_what_every_reader_sees_and_filters_by(control, group, api, tokens):
    with tenant_session(control, group.schema_name) as db:
        due, fresh = _item(db, title="待鉴定月报"), _item(db, year=2024, title="待鉴定月报")
        appraisal.sweep_due(db, approvals.today(db))
        db.commit()
        found = {
            status: [
                item.id
                for item, _ in db.execute(
                    service.search(db, person(db, HEAD), text="待鉴定", status=status)
                )
            ]
            for status in ("due", "kept")
        }
    assert found == {"due": [due.id], "kept": [fresh.id]}
    token = tokens[ACCOUNTANT]
    for status, item in (("due", due), ("kept", fresh)):
        listed = api("GET", "/items", token, query_string={"text": "待鉴定", "status": status})
        assert [(row["id"], row["status"]) for row in listed.json] == [(item.id, status)]
        assert api("GET", f"/items/{item.id}", token).json["status"] == status


def test_r_arc_1_a_confirmed_appraisal_settles_the_line_and_a_later_sweep_lists_it_again(db):
    kept_longer, to_destroy, declined = _item(db), _item(db), _item(db)
    today = approvals.today(db)
    appraisal.sweep_due(db, today)
    keep = _appraised(db, kept_longer, decision="keep", keep_until=today.replace(year=2040))
    destroy = _appraised(db, to_destroy)
    opinion = appraisal.propose(
        db, person(db, ACCOUNTANT), declined.id, decision="destroy", reason="到期"
    )
    appraisal.confirm(db, person(db, HEAD), opinion.id, agree=False, comment="仍有查考价值")
    for item in (kept_longer, to_destroy, declined):
        db.refresh(item)
    assert [item.status for item in (kept_longer, to_destroy, declined)] == [
        "kept",
        "to_destroy",
        "due",
    ]
    [kept_line], [destroy_line], [open_line] = (
        _lines(db, item) for item in (kept_longer, to_destroy, declined)
    )
    assert kept_line.settled_at is not None and kept_line.appraisal_id == keep.id
    assert destroy_line.settled_at is not None and destroy_line.appraisal_id == destroy.id
    assert open_line.settled_at is None and open_line.appraisal_id is None
    appraisal.sweep_due(db, today)  # none of them is listed twice
    assert [len(_lines(db, item)) for item in (kept_longer, to_destroy, declined)] == [1, 1, 1]
    appraisal.sweep_due(db, kept_longer.due_on)  # its new date has come
    db.refresh(kept_longer)
    first, again = _lines(db, kept_longer)
    assert first.appraisal_id == keep.id  # the earlier list stays as it was
    assert (again.settled_at, again.due_on, kept_longer.status) == (None, kept_longer.due_on, "due")


def test_r_arc_1_a_lengthened_schedule_takes_a_due_item_off_appraisal(db):
    from propgroup.archives import schedule

    item = _item(db)
    appraisal.sweep_due(db, approvals.today(db))
    schedule.change_rule(
        db, person(db, "zheng.guanliyuan"), "periodic_report", {"years": 50}, approvals.today(db)
    )
    db.refresh(item)
    [line] = _lines(db, item)
    assert (item.status, item.due_on.year) == ("kept", 2061)
    assert line.settled_at is not None and line.appraisal_id is None  # the list keeps it


def test_r_arc_1_lock_job_follows_items_on_the_filesystem_store(db):
    from propgroup.archives import jobs

    item = _item(db)
    hold = holds.place_hold(db, person(db, HEAD), reason="诉讼", item_id=item.id)
    assert jobs.sync_locks(db, item_ids=[item.id]) == 1
    assert jobs.sync_locks(db, hold_id=hold.id) == 1
    assert jobs.sync_locks(db, class_code="periodic_report") >= 1


def test_r_arc_1_approvers_are_told_the_item_count_not_an_amount(db, monkeypatch, tmp_path, group):
    from email import policy
    from email.parser import BytesParser

    from propgroup.approvals.jobs import notify_step

    items = [_item(db), _item(db)]
    for item in items:
        _appraised(db, item)
    listing = destruction.draw_up(
        db, person(db, ACCOUNTANT), unit_id=items[0].unit_id, item_ids=[i.id for i in items]
    )
    monkeypatch.setenv("PROPGROUP_INSTANCE", str(tmp_path))
    monkeypatch.delenv("SMTP_URL", raising=False)
    sent = notify_step(
        db, tenant=group.slug, request_id=listing.approval_request_id, revision=1, step=1
    )
    [mail] = [
        BytesParser(policy=policy.default).parsebytes(f.read_bytes())
        for f in (tmp_path / "outbox-mail").glob("*.eml")
    ]
    body = mail.get_body().get_content()
    assert sent == 1 and mail["To"] == "wang.xiangmu@demo.propgroup.test"
    assert "件数：2 件" in body and "¥" not in body


def test_r_arc_2_a_hold_cannot_slip_in_while_a_list_is_carried_out(control, group):
    """Carrying out holds the hold table in SHARE mode until it commits: a hold placed meanwhile
    waits (here: times out) instead of landing between the check and the deletion."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    with tenant_session(control, group.schema_name) as setup:
        item = _item(setup)
        listing = _approved_list(setup, item)
        setup.commit()
    with (
        tenant_session(control, group.schema_name) as carrying,
        tenant_session(control, group.schema_name) as holding,
    ):
        destruction.carry_out(
            carrying,
            configured_store(),
            person(carrying, ACCOUNTANT),
            listing.id,
            archives_supervisor=HEAD,
            accounting_supervisor=ACCOUNTANT,
        )
        holding.execute(text("set local lock_timeout = '300ms'"))
        with pytest.raises(OperationalError, match="lock timeout"):
            holds.place_hold(holding, person(holding, HEAD), reason="迟到的诉讼", item_id=item.id)
            holding.flush()
        holding.rollback()
        carrying.commit()


def test_r_arc_1_approved_list_whose_items_stopped_being_due_is_withdrawn(db):
    """A lengthened schedule after approval: carrying out refuses the items, and the approved
    list is withdrawn, giving them back to custody (the approval stays on record)."""
    from propgroup.archives import schedule

    item = _item(db)
    listing = _approved_list(db, item)
    schedule.change_rule(
        db,
        person(db, "zheng.guanliyuan"),
        "periodic_report",
        {"years": 50},
        approvals.today(db),
    )
    db.refresh(item)
    assert item.status == "listed" and item.due_on.year == 2061
    with pytest.raises(Conflict) as refused:
        destruction.carry_out(
            db,
            configured_store(),
            person(db, ACCOUNTANT),
            listing.id,
            archives_supervisor=HEAD,
            accounting_supervisor=ACCOUNTANT,
        )
    assert refused.value.code == "not_due"
    destruction.withdraw(db, person(db, ACCOUNTANT), listing.id)
    db.refresh(item)
    assert listing.status == "withdrawn" and (item.status, item.destruction_list_id) == (
        "kept",
        None,
    )
    request = db.get(ApprovalRequest, listing.approval_request_id)
    assert request.status == "approved"


def test_r_arc_1_a_lengthened_schedule_undoes_an_appraisal_for_destruction(db):
    from propgroup.archives import schedule

    item = _item(db)
    _appraised(db, item)
    schedule.change_rule(
        db, person(db, "zheng.guanliyuan"), "periodic_report", {"years": 50}, approvals.today(db)
    )
    db.refresh(item)
    assert (item.status, item.due_on.year) == ("kept", 2061)


def _waits_for_the_sweep_lock(session, action) -> None:
    """``action`` in ``session`` waits for the sweep's lock (shown by a lock timeout)."""
    from sqlalchemy.exc import OperationalError

    session.execute(text("set local lock_timeout = '300ms'"))
    with pytest.raises(OperationalError, match="lock timeout"):
        action()
    session.rollback()


def test_r_arc_1_a_sweep_waits_for_an_appraisal_being_confirmed(control, group):
    """The sweep reads the catalogue without row locks: it must not list an item whose
    confirmed "keep" it cannot see yet (its line would stay open until 2040)."""
    with tenant_session(control, group.schema_name) as setup:
        item = _item(setup)
        today = approvals.today(setup)
        opinion = appraisal.propose(
            setup,
            person(setup, ACCOUNTANT),
            item.id,
            decision="keep",
            reason="仍有查考价值",
            keep_until=today.replace(year=2040),
        )
        setup.commit()
    with (
        tenant_session(control, group.schema_name) as confirming,
        tenant_session(control, group.schema_name) as sweeping,
    ):
        appraisal.confirm(
            confirming, person(confirming, HEAD), opinion.id, agree=True, comment="同意"
        )
        confirming.flush()
        _waits_for_the_sweep_lock(sweeping, lambda: appraisal.sweep_due(sweeping, today))
        confirming.commit()
        appraisal.sweep_due(sweeping, today)
        sweeping.commit()
        refreshed = sweeping.get(ArchiveItem, item.id)
        assert (refreshed.status, _lines(sweeping, refreshed)) == ("kept", [])


def test_r_arc_1_two_sweeps_of_one_group_run_one_after_the_other(control, group):
    """A second sweep started while one is running waits for it and lists nothing again, where
    both inserting the same items made the second fail on the one-open-line index."""
    with tenant_session(control, group.schema_name) as first:
        item = _item(first)
        first.commit()
        today = approvals.today(first)
        assert appraisal.sweep_due(first, today) >= 1
        outcome = {}

        def sweep_again():
            with tenant_session(control, group.schema_name) as second:
                outcome["found"] = appraisal.sweep_due(second, today)
                second.commit()

        again = threading.Thread(target=sweep_again)
        again.start()
        waiting = text(
            "select count(*) from pg_stat_activity where datname = current_database() "
            "and wait_event_type = 'Lock' and pid <> pg_backend_pid()"
        )
        deadline = time.monotonic() + 30
        with control.connect() as watching:  # the tenant's role does not see others' waits
            while not watching.scalar(waiting):
                assert time.monotonic() < deadline, "the second sweep never waited"
                time.sleep(0.02)
        first.commit()
        again.join(timeout=30)
    assert outcome == {"found": 0}
    with tenant_session(control, group.schema_name) as db:
        assert len(_lines(db, item)) == 1


def test_r_arc_1_a_later_disposal_date_takes_an_asset_card_off_appraisal(db):
    card = service.new_item(
        db,
        person(db, ACCOUNTANT),
        {
            "class_code": "asset_card",
            "unit_id": org.get_unit_by_code(db, "SH-XTD").id,
            "fiscal_year": 2010,
            "disposed_on": "2012-03-01",
            "title": "固定资产卡片 旧电梯",
        },
    )
    appraisal.sweep_due(db, approvals.today(db))
    db.refresh(card)
    assert card.status == "due"
    service.record_disposal(db, person(db, ACCOUNTANT), card.id, date(2025, 3, 1))
    db.refresh(card)
    [line] = _lines(db, card)
    assert (card.status, card.due_on) == ("kept", date(2031, 1, 1))
    assert line.settled_at is not None and line.appraisal_id is None


def test_r_arc_1_the_year_s_appraisal_list_is_read_unit_by_unit(control, group, api, tokens):
    """The sweep's list over the API: appraisers see its lines for the units they may read, a
    cashier (who keeps no archives) none of it; settled lines stay on it."""
    with tenant_session(control, group.schema_name) as db:
        here, elsewhere = (
            _item(db, title="本分公司月报"),
            _item(db, unit="SH-LJZ", title="他处月报", by=REGIONAL),
        )
        appraisal.sweep_due(db, approvals.today(db))
        db.commit()
        listing = db.scalars(select(AppraisalList).order_by(AppraisalList.id.desc())).first()
    lists = api("GET", "/appraisal-lists", tokens[HEAD])
    assert lists.status_code == 200 and lists.json[0]["id"] == listing.id
    assert lists.json[0]["found"] == listing.found
    path = f"/appraisal-lists/{listing.id}/items"
    seen = {
        row["item_id"]
        for row in api("GET", path, tokens[HEAD], query_string={"page_size": 100}).json
    }
    assert here.id in seen and elsewhere.id not in seen
    regional = api("GET", path, tokens[REGIONAL], query_string={"page_size": 100}).json
    assert {here.id, elsewhere.id} <= {row["item_id"] for row in regional}
    with tenant_session(control, group.schema_name) as db:
        _appraised(db, db.get(ArchiveItem, here.id), decision="keep", keep_until=date(2040, 1, 1))
        db.commit()
    rows = {row["item_id"]: row for row in api("GET", path, tokens[HEAD]).json}
    assert rows[here.id]["settled_at"] is not None and rows[here.id]["appraisal_id"] is not None
    still_open = api("GET", path, tokens[HEAD], query_string={"open": "true"}).json
    assert here.id not in {row["item_id"] for row in still_open}
    assert api("GET", "/appraisal-lists", tokens["zhao.chuna"]).status_code == 403
    assert api("GET", "/appraisal-lists/999999999/items", tokens[HEAD]).status_code == 404
