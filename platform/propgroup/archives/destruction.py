"""Destruction (销毁, R-ARC-1, R-ARC-2).

Items appraised for destruction by two people (appraisal.py) go on a destruction list, approved
through the approvals engine as a ``destruction_list`` request (its requester cannot approve it,
R-APR-3). An approved list is carried out before two supervisors (archives and accounting): the
files are deleted from storage, and the list with its certificate is filed as a permanent archive
item. This is the only way any archived file is ever deleted; a held item or one not yet due is
refused at every step.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import Select, case, select, text, update
from sqlalchemy.orm import Session

from propgroup.approvals import service as approvals
from propgroup.approvals.models import ApprovalRequest
from propgroup.archives.appraisal import refuse_held
from propgroup.archives.certificate import certificate, list_csv
from propgroup.archives.models import ArchiveFile, ArchiveItem, DestructionList, held
from propgroup.archives.schedule import rule_for
from propgroup.archives.service import (
    archive_unit,
    file_generated,
    signed_by_person,
)
from propgroup.audit.service import record
from propgroup.db import BIGINT_MAX
from propgroup.errors import Conflict, InvalidInput, NotFound
from propgroup.identity.authz import authorize, can, visible_units
from propgroup.identity.models import User
from propgroup.identity.principals import SYSTEM, Principal
from propgroup.identity.service import user_principal
from propgroup.org import service as org
from propgroup.org.models import OrgUnit
from propgroup.storage.blobstore import BlobStore
from propgroup.storage.models import Document

LIST_CLASS = "destruction_list"  # 会计档案销毁清册: kept permanently


# --- destruction lists ----------------------------------------------------------------------


def _listable(
    session: Session, unit: OrgUnit, item_ids: Sequence[int], today: date
) -> list[ArchiveItem]:
    """The items, locked, when every one is appraised for destruction, in the unit's subtree,
    due and not held; otherwise every problem, by position, and nothing changes."""
    if not item_ids:
        raise InvalidInput("a destruction list names items", errors={"item_ids": ["empty"]})
    if len(set(item_ids)) != len(item_ids):
        raise InvalidInput("an item is listed once", errors={"item_ids": ["duplicates"]})
    wanted = [i for i in item_ids if 0 < i <= BIGINT_MAX]
    rows = {
        item.id: (item, path, is_held)
        for item, path, is_held in session.execute(
            select(ArchiveItem, OrgUnit.path, held())
            .join(OrgUnit, OrgUnit.id == ArchiveItem.unit_id)
            .where(ArchiveItem.id.in_(wanted))
            .order_by(ArchiveItem.id)
            .with_for_update(of=ArchiveItem)
        )
    }
    problems: dict[str, str] = {}
    for index, item_id in enumerate(item_ids):
        found = rows.get(item_id)
        where = f"item_ids[{index}]"
        if found is None:
            problems[where] = f"item {item_id} does not exist"
            continue
        item, path, is_held = found
        if not path.startswith(unit.path):
            problems[where] = f"item {item_id} is not kept under {unit.code}"
        elif is_held:
            problems[where] = f"item {item_id} is under legal hold (R-ARC-2)"
        elif item.status != "to_destroy":
            problems[where] = f"item {item_id} is {item.status}, not appraised for destruction"
        elif item.due_on is None or item.due_on > today:
            problems[where] = f"item {item_id} is not due until {item.due_on or 'never'}"
    if problems:
        raise InvalidInput(
            f"{len(problems)} item(s) cannot be destroyed", code="not_destroyable", errors=problems
        )
    return [rows[i][0] for i in item_ids]


def _request_lines(session: Session, items: Sequence[ArchiveItem]) -> list[dict[str, Any]]:
    """What the approvers sign: per class, how many items of which years. The engine's amount
    column holds the item count (件): its bands count items for this request type."""
    counts = Counter(item.class_code for item in items)
    years: dict[str, list[int]] = {}
    for item in items:
        years.setdefault(item.class_code, []).append(item.fiscal_year)
    return [
        {
            "category": code,
            "description": f"{rule_for(session, code).name} {count} 件 "
            f"({min(years[code])}-{max(years[code])})",
            "amount": count,
        }
        for code, count in sorted(counts.items())
    ]


def draw_up(
    session: Session,
    principal: Principal,
    *,
    unit_id: int,
    item_ids: Sequence[int],
    note: str | None = None,
) -> DestructionList:
    """A list of items appraised for destruction, sent into approval at once."""
    signed_by_person(principal)
    unit = archive_unit(session, unit_id)
    authorize(session, principal, "archives:appraise", unit)
    items = _listable(session, unit, item_ids, approvals.today(session))
    listing = DestructionList(unit_id=unit.id, note=note, created_by=principal.id)
    session.add(listing)
    session.flush()
    request = approvals.create_request(
        session,
        principal,
        request_type="destruction_list",
        unit_id=unit.id,
        title=f"会计档案销毁清册 #{listing.id} · {unit.name}"[:200],
        payee=unit.name,
        lines=_request_lines(session, items),
        by_owner=True,
    )
    listing.approval_request_id = request.id
    for item in items:
        item.stage, item.destruction_list_id = "listed", listing.id
    session.flush()
    approvals.submit(session, principal, request.id, by_owner=True)
    record(
        session,
        principal,
        "archives.destruction_listed",
        "archive_destruction_list",
        listing.id,
        after={"unit": unit.code, "items": list(item_ids), "request": request.id},
    )
    return listing


def get_list(
    session: Session, principal: Principal, list_id: int, action: str, *, lock: bool = False
) -> DestructionList:
    listing = (
        session.get(DestructionList, list_id, with_for_update=lock)
        if 0 < list_id <= BIGINT_MAX
        else None
    )
    if listing is None:
        raise NotFound(f"destruction list {list_id} does not exist", code="list_not_found")
    authorize(session, principal, action, org.get_unit(session, listing.unit_id))
    return listing


def items_of(session: Session, listing: DestructionList) -> list[ArchiveItem]:
    return list(
        session.scalars(
            select(ArchiveItem)
            .where(ArchiveItem.destruction_list_id == listing.id)
            .order_by(ArchiveItem.id)
        )
    )


def withdraw(session: Session, principal: Principal, list_id: int) -> DestructionList:
    """Take a list back before it is carried out: in approval, its request is withdrawn; once
    approved (say its items stopped being due), the approval stays on record and the items are
    given back."""
    signed_by_person(principal)
    listing = get_list(session, principal, list_id, "archives:appraise")
    if listing.status == "in_approval":
        approvals.withdraw(session, principal, listing.approval_request_id, by_owner=True)
        session.refresh(listing)
        return listing
    listing = get_list(session, principal, list_id, "archives:appraise", lock=True)
    if listing.status != "approved":
        raise Conflict(f"destruction list {list_id} is {listing.status}", code="bad_state")
    _give_back(session, listing, "withdrawn")
    record(
        session,
        principal,
        "archives.destruction_list_withdrawn",
        "archive_destruction_list",
        listing.id,
        after={"after_approval": True},
    )
    return listing


def _give_back(session: Session, listing: DestructionList, status: str) -> None:
    """The list ends without destruction: its items wait for another list, or are back in
    custody when they are no longer due."""
    listing.status = status
    session.execute(
        update(ArchiveItem)
        .where(ArchiveItem.destruction_list_id == listing.id)
        .values(
            stage=case(
                (ArchiveItem.due_on <= approvals.today(session), "to_destroy"), else_="kept"
            ),
            destruction_list_id=None,
        )
        .execution_options(synchronize_session=False)
    )
    session.flush()


def list_request_settled(session: Session, request: ApprovalRequest) -> None:
    """The engine's word on a list: approved, it may be carried out; returned or withdrawn, its
    items go back to waiting for a list (their appraisal stands)."""
    listing = session.scalar(
        select(DestructionList)
        .where(DestructionList.approval_request_id == request.id)
        .with_for_update()
    )
    if listing is None or listing.status != "in_approval":
        return
    if request.status == "approved":
        listing.status = "approved"
        session.flush()
    else:
        _give_back(session, listing, "rejected" if request.status == "rejected" else "withdrawn")
    record(
        session,
        SYSTEM,
        f"archives.destruction_list_{listing.status}",
        "archive_destruction_list",
        listing.id,
        after={"request": request.id, "request_status": request.status},
    )


def _supervisor(session: Session, login: object, unit: OrgUnit, field: str) -> User:
    user = (
        session.scalar(select(User).where(User.login == login, User.active))
        if isinstance(login, str)
        else None
    )
    if user is None or not can(session, user_principal(user), "archives:supervise", unit):
        raise InvalidInput(
            f"{str(login)[:64]!r} may not supervise a destruction at {unit.code}",
            code="bad_supervisor",
            errors={field: ["not a supervisor here"]},
        )
    return user


def carry_out(
    session: Session,
    store: BlobStore,
    principal: Principal,
    list_id: int,
    *,
    archives_supervisor: str,
    accounting_supervisor: str,
) -> DestructionList:
    """Destroy an approved list's items before two supervisors. Every item is checked again
    (a hold placed since, a due date moved); then the files are deleted from storage and the
    list with its certificate is filed as a permanent item. Deleting is repeatable: if storage
    fails midway nothing is recorded, and carrying the list out again finishes the job."""
    signed_by_person(principal)
    listing = get_list(session, principal, list_id, "archives:appraise", lock=True)
    if listing.status != "approved":
        raise Conflict(
            f"destruction list {list_id} is {listing.status}; only an approved list is carried out",
            code="not_approved",
        )
    unit = org.get_unit(session, listing.unit_id)
    archivist = _supervisor(session, archives_supervisor, unit, "archives_supervisor")
    accountant = _supervisor(session, accounting_supervisor, unit, "accounting_supervisor")
    if archivist.id == accountant.id:
        raise InvalidInput(
            "two different supervisors attend a destruction (R-ARC-1)",
            code="same_supervisor",
            errors={"accounting_supervisor": ["the same person"]},
        )
    # A hold being placed now either commits first and is seen below, or waits for this
    # destruction to finish: holds cannot slip in between the check and the deletion.
    session.execute(text("lock table archive_holds in share mode"))
    items = items_of(session, listing)
    on_list = ArchiveItem.destruction_list_id == listing.id
    held_ids = set(session.scalars(select(ArchiveItem.id).where(on_list, held())))
    today = approvals.today(session)
    for item in items:
        if item.due_on is None or item.due_on > today:
            raise Conflict(
                f"archive item {item.id} is not due until {item.due_on or 'never'}",
                code="not_due",
            )
        if item.id in held_ids:
            refuse_held(session, item)
    files = session.execute(
        select(ArchiveFile, Document)
        .join(Document, Document.id == ArchiveFile.document_id)
        .join(ArchiveItem, ArchiveItem.id == ArchiveFile.item_id)
        .where(on_list)
        .order_by(ArchiveFile.id)
    ).all()
    for archived, document in files:
        if archived.destroyed_at is None:
            store.delete(document.blob_key)
    moment = approvals.now()
    for archived, _ in files:
        archived.destroyed_at = archived.destroyed_at or moment
    for item in items:
        item.stage = "destroyed"
    listing.status, listing.destroyed_at, listing.destroyed_by = "destroyed", moment, principal.id
    listing.archives_supervisor, listing.accounting_supervisor = archivist.id, accountant.id
    session.flush()
    listing.record_item_id = _file_the_list(
        session, store, principal, listing, unit, items, (archivist, accountant)
    ).id
    record(
        session,
        principal,
        "archives.destroyed",
        "archive_destruction_list",
        listing.id,
        after={
            "items": [item.id for item in items],
            "files": [document.blob_key for _, document in files],
            "supervisors": [archivist.login, accountant.login],
            "record_item": listing.record_item_id,
        },
    )
    return listing


def _file_the_list(
    session: Session,
    store: BlobStore,
    principal: Principal,
    listing: DestructionList,
    unit: OrgUnit,
    items: Sequence[ArchiveItem],
    supervisors: tuple[User, User],
) -> ArchiveItem:
    """The list (CSV) and its certificate (PDF), as one permanent item of the unit."""
    return file_generated(
        session,
        store,
        principal,
        class_code=LIST_CLASS,
        unit=unit,
        title=f"会计档案销毁清册及销毁证明 #{listing.id} · {unit.name}",
        source=("archive_destruction_list", listing.id),
        files=[
            (f"destruction-list-{listing.id}.csv", list_csv(session, items)),
            (
                f"destruction-certificate-{listing.id}.pdf",
                certificate(session, listing, unit, items, principal, supervisors),
            ),
        ],
    )


def read_list(session: Session, principal: Principal, list_id: int) -> DestructionList:
    return get_list(session, principal, list_id, "archives:read")


def visible_lists(session: Session, principal: Principal) -> Select:
    """Destruction lists of the units the principal may read, newest first."""
    return (
        select(DestructionList)
        .join(OrgUnit, OrgUnit.id == DestructionList.unit_id)
        .where(visible_units(session, principal, "archives:read"))
        .order_by(DestructionList.id.desc())
    )
