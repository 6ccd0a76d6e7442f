"""``/api/archives``: the retention schedule, the catalogue and its files, legal holds,
appraisals and destruction lists. There is no DELETE anywhere: destruction is a procedure."""

from __future__ import annotations

from typing import Any

from flask import request

from propgroup.api import Blueprint
from propgroup.api.auth import current_principal
from propgroup.api.idempotency import idempotent
from propgroup.api.pagination import MAX_PAGE_SIZE, Selection, SelectPage
from propgroup.api.schema import columns_of
from propgroup.approvals.service import today
from propgroup.archives import (
    appraisal,
    appraisal_lists,
    destruction,
    handovers,
    holds,
    loans,
    schedule,
    service,
)
from propgroup.archives.models import ArchiveFile, ArchiveItem
from propgroup.archives.schemas import (
    AppraisalInSchema,
    AppraisalLineQuerySchema,
    AppraisalLineSchema,
    AppraisalListSchema,
    AppraisalSchema,
    CancelInSchema,
    CarryOutInSchema,
    ConfirmInSchema,
    DisposalInSchema,
    FileQuerySchema,
    FileSchema,
    HandoverInSchema,
    HandoverRowSchema,
    HandoverSchema,
    HoldInSchema,
    HoldQuerySchema,
    HoldSchema,
    ItemDetailSchema,
    ItemInSchema,
    ItemQuerySchema,
    ItemSchema,
    ListDetailSchema,
    ListInSchema,
    LoanInSchema,
    LoanQuerySchema,
    LoanSchema,
    PeriodInSchema,
    ReleaseInSchema,
    RuleChangedSchema,
    RuleSchema,
    SettingsSchema,
)
from propgroup.errors import TooLarge
from propgroup.storage.models import Document
from propgroup.storage.settings import configured_store, max_upload_bytes
from propgroup.tenancy.middleware import tenant_db
from propgroup.tenancy.settings import archive_lock_mode

blp = Blueprint("archives", __name__, url_prefix="/api/archives", description="Accounting archives")


def _file(archived: ArchiveFile, document: Document) -> dict[str, Any]:
    return {**columns_of(document), **columns_of(archived), "document_id": document.id}


def _detail(item: ArchiveItem) -> dict[str, Any]:
    session = tenant_db()
    return {
        **columns_of(item),
        "held": service.is_held(session, item.id),
        "files": [_file(*pair) for pair in service.files_of(session, item)],
    }


@blp.route("/retention")
@blp.response(200, RuleSchema(many=True))
def retention():
    """The retention schedule (保管期限表): years or permanent per class."""
    session = tenant_db()
    service.readable_somewhere(session, current_principal())
    return schedule.schedule(session)


@blp.route("/retention/<class_code>", methods=["PUT"])
@blp.arguments(PeriodInSchema)
@blp.response(200, RuleChangedSchema)
def change_retention(data, class_code: str):
    """A new period for a class; every item of it gets its due date again (audited)."""
    session = tenant_db()
    rule, count = schedule.change_rule(
        session, current_principal(), class_code, data, today(session)
    )
    return {**columns_of(rule), "items_recomputed": count}


@blp.route("/settings")
@blp.response(200, SettingsSchema)
def settings():
    session = tenant_db()
    service.readable_somewhere(session, current_principal())
    return {"lock_mode": archive_lock_mode(session)}


@blp.route("/settings", methods=["PUT"])
@blp.arguments(SettingsSchema)
@blp.response(200, SettingsSchema)
def change_settings(data):
    """The S3 Object Lock mode of archived files: governance (default) or compliance."""
    mode = schedule.change_lock_mode(tenant_db(), current_principal(), data["lock_mode"])
    return {"lock_mode": mode}


@blp.route("/items")
@blp.arguments(ItemQuerySchema, location="query")
@blp.response(200, ItemSchema(many=True))
@blp.paginate(SelectPage, page_size=50, max_page_size=MAX_PAGE_SIZE)
def search(query):
    """Search by class, unit (subtree), fiscal year, words of the title, status, due date.
    Counts at most 1000 rows past the page: ``X-Pagination`` then says ``"more": true``."""
    session = tenant_db()
    statement = service.search(session, current_principal(), **query)
    return Selection(session, statement, rows=True, capped=True)


@blp.route("/items", methods=["POST"])
@idempotent
@blp.arguments(ItemInSchema)
@blp.response(201, ItemDetailSchema)
def file_item(data):
    """Catalogue an item (R-ARC-4 cover: unit, year, period, volume, number range)."""
    return _detail(service.new_item(tenant_db(), current_principal(), data))


@blp.route("/items/<int:item_id>")
@blp.response(200, ItemDetailSchema)
def read_item(item_id: int):
    return _detail(service.item_for(tenant_db(), current_principal(), item_id, "archives:read"))


@blp.route("/items/<int:item_id>/disposal", methods=["POST"])
@blp.arguments(DisposalInSchema)
@blp.response(200, ItemDetailSchema)
def record_disposal(data, item_id: int):
    """An asset card's asset was disposed of: its retention period starts."""
    return _detail(
        service.record_disposal(tenant_db(), current_principal(), item_id, data["disposed_on"])
    )


@blp.route("/items/<int:item_id>/files", methods=["POST"])
@blp.arguments(FileQuerySchema, location="query")
@blp.response(201, FileSchema)
def add_file(query, item_id: int):
    """A file of the item as the raw request body, streamed to storage and locked there."""
    limit = max_upload_bytes()
    if request.content_length is not None and request.content_length > limit:
        raise TooLarge(f"the file is larger than the {limit} byte limit", code="upload_too_large")
    session, principal = tenant_db(), current_principal()
    service.check_add_file(session, principal, item_id)
    session.commit()  # no transaction stays open while the body streams in
    archived = service.add_file(
        session,
        configured_store(),
        principal,
        item_id,
        stream=request.stream,
        filename=query["filename"],
        max_bytes=limit,
    )
    return _file(archived, session.get(Document, archived.document_id))


@blp.route("/holds")
@blp.arguments(HoldQuerySchema, location="query")
@blp.response(200, HoldSchema(many=True))
@blp.paginate(SelectPage, page_size=50, max_page_size=MAX_PAGE_SIZE)
def list_holds(query):
    session = tenant_db()
    return Selection(session, holds.visible_holds(session, current_principal(), **query))


@blp.route("/holds", methods=["POST"])
@idempotent
@blp.arguments(HoldInSchema)
@blp.response(201, HoldSchema)
def place_hold(data):
    """Hold an item, or a unit's subtree (optionally one fiscal year), with a reason (R-ARC-2)."""
    return holds.place_hold(tenant_db(), current_principal(), **data)


@blp.route("/holds/<int:hold_id>/release", methods=["POST"])
@blp.arguments(ReleaseInSchema)
@blp.response(200, HoldSchema)
def release_hold(data, hold_id: int):
    """Released by someone other than who placed it."""
    return holds.release_hold(tenant_db(), current_principal(), hold_id, **data)


@blp.route("/items/<int:item_id>/appraisals", methods=["POST"])
@blp.arguments(AppraisalInSchema)
@blp.response(201, AppraisalSchema)
def propose(data, item_id: int):
    """The first appraiser: keep longer (with a new date) or destroy, with the reason."""
    return appraisal.propose(tenant_db(), current_principal(), item_id, **data)


@blp.route("/appraisals/<int:appraisal_id>/confirm", methods=["POST"])
@blp.arguments(ConfirmInSchema)
@blp.response(200, AppraisalSchema)
def confirm(data, appraisal_id: int):
    """The second appraiser agrees (the decision takes effect) or not."""
    return appraisal.confirm(tenant_db(), current_principal(), appraisal_id, **data)


def _list(listing) -> dict[str, Any]:
    return {**columns_of(listing), "items": destruction.items_of(tenant_db(), listing)}


@blp.route("/appraisal-lists")
@blp.response(200, AppraisalListSchema(many=True))
@blp.paginate(SelectPage, page_size=50, max_page_size=MAX_PAGE_SIZE)
def list_appraisal_lists():
    """What each yearly sweep found past retention (R-ARC-1), newest first."""
    session = tenant_db()
    return Selection(session, appraisal_lists.visible_lists(session, current_principal()))


@blp.route("/appraisal-lists/<int:list_id>/items")
@blp.arguments(AppraisalLineQuerySchema, location="query")
@blp.response(200, AppraisalLineSchema(many=True))
@blp.paginate(SelectPage, page_size=50, max_page_size=MAX_PAGE_SIZE)
def appraisal_list_items(query, list_id: int):
    """A list's items in the caller's units: the due date found, and the appraisal settling it."""
    session = tenant_db()
    lines = appraisal_lists.visible_lines(session, current_principal(), list_id, **query)
    return Selection(session, lines, rows=True)


@blp.route("/destruction-lists", methods=["POST"])
@idempotent
@blp.arguments(ListInSchema)
@blp.response(201, ListDetailSchema)
def draw_up(data):
    """A destruction list of appraised items, sent into approval (destruction_list request)."""
    return _list(destruction.draw_up(tenant_db(), current_principal(), **data))


@blp.route("/destruction-lists/<int:list_id>")
@blp.response(200, ListDetailSchema)
def read_list(list_id: int):
    return _list(destruction.read_list(tenant_db(), current_principal(), list_id))


@blp.route("/destruction-lists/<int:list_id>/withdraw", methods=["POST"])
@blp.response(200, ListDetailSchema)
def withdraw_list(list_id: int):
    return _list(destruction.withdraw(tenant_db(), current_principal(), list_id))


@blp.route("/destruction-lists/<int:list_id>/carry-out", methods=["POST"])
@blp.arguments(CarryOutInSchema)
@blp.response(200, ListDetailSchema)
def carry_out(data, list_id: int):
    """Destroy an approved list's items before two supervisors; the list and its certificate
    are filed as a permanent item (``record_item_id``)."""
    return _list(
        destruction.carry_out(tenant_db(), configured_store(), current_principal(), list_id, **data)
    )


@blp.route("/items/<int:item_id>/loans", methods=["POST"])
@idempotent
@blp.arguments(LoanInSchema)
@blp.response(201, LoanSchema)
def issue_copy(data, item_id: int):
    """A copy given out against a register entry (originals are never lent, R-ARC-3)."""
    return loans.issue_copy(tenant_db(), current_principal(), item_id, **data)


@blp.route("/loans/<int:loan_id>/return", methods=["POST"])
@blp.response(200, LoanSchema)
def return_copy(loan_id: int):
    return loans.return_copy(tenant_db(), current_principal(), loan_id)


@blp.route("/loans")
@blp.arguments(LoanQuerySchema, location="query")
@blp.response(200, LoanSchema(many=True))
@blp.paginate(SelectPage, page_size=50, max_page_size=MAX_PAGE_SIZE)
def list_loans(query):
    session = tenant_db()
    return Selection(session, loans.visible_loans(session, current_principal(), **query))


def _handover(handover) -> dict[str, Any]:
    return {**columns_of(handover), "lines": handovers.lines_of(tenant_db(), handover)}


@blp.route("/handovers")
@blp.response(200, HandoverRowSchema(many=True))
@blp.paginate(SelectPage, page_size=50, max_page_size=MAX_PAGE_SIZE)
def list_handovers():
    """The lists the caller signs, and those of the units where they may read archives."""
    session = tenant_db()
    return Selection(session, handovers.visible_handovers(session, current_principal()))


@blp.route("/handovers", methods=["POST"])
@idempotent
@blp.arguments(HandoverInSchema)
@blp.response(201, HandoverSchema)
def open_handover(data):
    """A handover list (工作交接): the one leaving, the one taking over, a supervisor, and the
    archives, seals, cheque books and open items handed over."""
    return _handover(handovers.open_handover(tenant_db(), current_principal(), data))


@blp.route("/handovers/<int:handover_id>")
@blp.response(200, HandoverSchema)
def read_handover(handover_id: int):
    return _handover(
        handovers.get_handover(tenant_db(), current_principal(), handover_id, "archives:read")
    )


@blp.route("/handovers/<int:handover_id>/sign", methods=["POST"])
@blp.response(200, HandoverSchema)
def sign_handover(handover_id: int):
    """The caller signs their part; the third signature files the list (``record_item_id``)."""
    return _handover(
        handovers.sign(tenant_db(), configured_store(), current_principal(), handover_id)
    )


@blp.route("/handovers/<int:handover_id>/cancel", methods=["POST"])
@blp.arguments(CancelInSchema)
@blp.response(200, HandoverSchema)
def cancel_handover(data, handover_id: int):
    return _handover(
        handovers.cancel(tenant_db(), current_principal(), handover_id, data["reason"])
    )
