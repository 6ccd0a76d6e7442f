"""The archive catalogue (会计档案目录): items with their cover data (R-ARC-4), their files, the
due date each carries, and search. Nothing here deletes a file: destruction.py is the only path.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import Select, and_, func, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session

from propgroup.approvals.service import today
from propgroup.archives import appraisal_lists, locks
from propgroup.archives.models import (
    PERIOD,
    ArchiveFile,
    ArchiveItem,
    RetentionRule,
    held,
    query_grams,
    status_is,
    title_grams,
)
from propgroup.archives.schedule import checked_by, due_date, rule_for
from propgroup.audit.service import record
from propgroup.budgets.periods import FISCAL_YEARS
from propgroup.db import BIGINT_MAX
from propgroup.errors import Conflict, Forbidden, InvalidInput, NotFound
from propgroup.identity.authz import authorize, visible_units
from propgroup.identity.principals import SYSTEM, Principal
from propgroup.org import service as org
from propgroup.org.models import OrgUnit
from propgroup.storage import service as storage
from propgroup.storage.blobstore import BlobStore, ReadableStream
from propgroup.storage.models import Document
from propgroup.tenancy.slugs import tenant_slug

FILE_ENTITY = "archive_item"  # documents uploaded as an item's files


class ItemSpecSchema(Schema):
    """What a catalogue entry says; voucher volumes carry their cover (R-ARC-4)."""

    class_code = fields.String(required=True)
    unit_id = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    fiscal_year = fields.Integer(required=True, strict=True, validate=validate.Range(*FISCAL_YEARS))
    period = fields.String(load_default=None, validate=validate.Regexp(PERIOD))
    volume = fields.String(load_default=None, validate=validate.Length(min=1, max=40))
    number_from = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1))
    number_to = fields.Integer(load_default=None, strict=True, validate=validate.Range(min=1))
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    disposed_on = fields.Date(load_default=None)

    @validates_schema
    def _number_range(self, data: dict[str, Any], **_: Any) -> None:
        low, high = data.get("number_from"), data.get("number_to")
        if (low is None) != (high is None):
            raise ValidationError("give both ends of the number range, or neither", "number_to")
        if low is not None and high < low:
            raise ValidationError(f"the range ends before it starts ({low})", "number_to")


def _checked_spec(session: Session, spec: dict[str, Any]) -> tuple[dict[str, Any], RetentionRule]:
    """The spec, checked, and the rule its due date is computed from (held until commit)."""
    checked = checked_by(ItemSpecSchema(), spec, "the archive item was refused", "bad_item")
    rule = rule_for(session, checked["class_code"], to_compute=True)
    if checked["disposed_on"] is not None and rule.counted_from != "disposal":
        raise InvalidInput(
            f"{rule.name}: only records counted from a disposal have a disposal date",
            code="bad_item",
            errors={"disposed_on": ["not for this class"]},
        )
    return checked, rule


def signed_by_person(principal: Principal) -> None:
    """Holds, appraisals, destructions and the lending register are signed by people."""
    if principal.kind != "user":
        raise Forbidden("archive records are signed by people, not API clients", code="people_only")


def required_text(value: object, field: str) -> str:
    """A reason or comment: what a signature on the record says."""
    text = value.strip() if isinstance(value, str) else ""
    if not 1 <= len(text) <= 2000:
        raise InvalidInput(
            f"{field} is required (1-2000 characters)",
            code="reason_required",
            errors={field: ["required"]},
        )
    return text


def archive_unit(session: Session, unit_id: int) -> OrgUnit:
    """Archives are kept, and lists drawn up, by a branch, region or HQ."""
    unit = org.get_unit(session, unit_id)
    if unit.kind == "department":
        raise InvalidInput(
            "archives are kept by a branch, region or HQ, not by a department",
            code="bad_unit",
            errors={"unit_id": ["a department"]},
        )
    return unit


# Units that keep archives (``archive_unit``); a unit's kind never changes.
KEEPS_ARCHIVES = OrgUnit.kind != "department"


def keeping_units(session: Session, principal: Principal, action: str) -> list[OrgUnit]:
    """Units that keep archives where the principal may ``action``."""
    return list(
        session.scalars(
            select(OrgUnit)
            .where(visible_units(session, principal, action), KEEPS_ARCHIVES)
            .order_by(OrgUnit.path)
        )
    )


def new_item(
    session: Session,
    principal: Principal,
    spec: dict[str, Any],
    *,
    source: tuple[str, int] | None = None,
) -> ArchiveItem:
    """Catalogue an item; its due date follows from its class. ``source`` names the record that
    filed it automatically (a paid request)."""
    checked, rule = _checked_spec(session, spec)
    unit = archive_unit(session, checked["unit_id"])
    authorize(session, principal, "archives:write", unit)
    item = ArchiveItem(
        **checked,
        title_grams=title_grams(checked["title"]),
        due_on=due_date(rule, checked["fiscal_year"], checked["disposed_on"]),
        stage="kept",
        source_type=source[0] if source else None,
        source_id=source[1] if source else None,
        created_by=principal.id if principal.kind == "user" else None,
    )
    session.add(item)
    session.flush()
    record(
        session,
        principal,
        "archives.item_filed",
        "archive_item",
        item.id,
        after={**checked, "unit": unit.code, "due_on": item.due_on, "source": source},
    )
    return item


def get_item(session: Session, item_id: int, *, lock: bool = False) -> ArchiveItem:
    item = (
        session.get(ArchiveItem, item_id, with_for_update=lock)
        if 0 < item_id <= BIGINT_MAX
        else None
    )
    if item is None:
        raise NotFound(f"archive item {item_id} does not exist", code="item_not_found")
    return item


def item_for(
    session: Session, principal: Principal, item_id: int, action: str, *, lock: bool = False
) -> ArchiveItem:
    """The item, when the principal may ``action`` at its unit."""
    item = get_item(session, item_id, lock=lock)
    authorize(session, principal, action, org.get_unit(session, item.unit_id))
    return item


def _not_destroyed(item: ArchiveItem) -> None:
    if item.status == "destroyed":
        raise Conflict(f"archive item {item.id} was destroyed", code="item_destroyed")


def record_disposal(
    session: Session, principal: Principal, item_id: int, disposed_on: date
) -> ArchiveItem:
    """An asset card's asset was disposed of: its period starts at that year's end."""
    appraisal_lists.hold_off_sweep(session)
    item = item_for(session, principal, item_id, "archives:write", lock=True)
    _not_destroyed(item)
    rule = rule_for(session, item.class_code, to_compute=True)
    if rule.counted_from != "disposal":
        raise InvalidInput(
            f"{rule.name} is not counted from a disposal",
            code="bad_item",
            errors={"disposed_on": ["not for this class"]},
        )
    before = {"disposed_on": item.disposed_on, "due_on": item.due_on}
    item.disposed_on = disposed_on
    item.due_on = due_date(rule, item.fiscal_year, disposed_on, item.kept_until)
    session.flush()
    if item.due_on is None or item.due_on > today(session):
        appraisal_lists.settle(session, [item.id])  # no longer due, as after a schedule change
    locks.sync_later(session, item_ids=[item.id])
    record(
        session,
        principal,
        "archives.disposal_recorded",
        "archive_item",
        item.id,
        before=before,
        after={"disposed_on": item.disposed_on, "due_on": item.due_on},
    )
    return item


# --- files --------------------------------------------------------------------------------


def link_documents(
    session: Session, principal: Principal, item: ArchiveItem, documents: Sequence[Document]
) -> list[ArchiveFile]:
    """Make stored documents the item's files, recording their sha256 as filed (audited with
    them); the storage lock follows (retain-until = due date, held → legal hold) by job."""
    files = [ArchiveFile(item_id=item.id, document_id=d.id, sha256=d.sha256) for d in documents]
    session.add_all(files)
    session.flush()
    locks.sync_later(session, item_ids=[item.id])
    record(
        session,
        principal,
        "archives.files_added",
        "archive_item",
        item.id,
        after={
            "documents": [d.id for d in documents],
            "filenames": [d.filename for d in documents],
            "sha256": [d.sha256 for d in documents],
        },
    )
    return files


def _stored(
    session: Session,
    store: BlobStore,
    principal: Principal,
    item: ArchiveItem,
    stream: ReadableStream,
    filename: str,
    max_bytes: int,
) -> Document:
    """The bytes stored as a document of the item (not linked yet)."""
    return storage.store_document(
        session,
        store,
        tenant_slug=tenant_slug(session),
        stream=stream,
        filename=filename,
        entity_type=FILE_ENTITY,
        entity_id=item.id,
        unit_id=item.unit_id,
        uploaded_by=principal.id if principal.kind == "user" else None,
        max_bytes=max_bytes,
    )


def file_generated(
    session: Session,
    store: BlobStore,
    principal: Principal,
    *,
    class_code: str,
    unit: OrgUnit,
    title: str,
    source: tuple[str, int],
    files: Sequence[tuple[str, bytes]],
    fiscal_year: int | None = None,
    period: str | None = None,
) -> ArchiveItem:
    """A record the system wrote (a destruction list, a handover list, a reconciliation) filed
    as an item of ``fiscal_year`` (default this year) and period with its files; ``principal``
    is who signed it into being."""
    item = new_item(
        session,
        SYSTEM,
        {
            "class_code": class_code,
            "unit_id": unit.id,
            "fiscal_year": fiscal_year or today(session).year,
            "period": period,
            "title": title[:300],
        },
        source=source,
    )
    documents = [
        _stored(session, store, principal, item, io.BytesIO(content), name, len(content))
        for name, content in files
    ]
    session.flush()
    link_documents(session, SYSTEM, item, documents)
    return item


def check_add_file(session: Session, principal: Principal, item_id: int) -> ArchiveItem:
    """Before a byte is read, and again after the upload: archives:write at the item's unit."""
    item = item_for(session, principal, item_id, "archives:write")
    _not_destroyed(item)
    return item


def add_file(
    session: Session,
    store: BlobStore,
    principal: Principal,
    item_id: int,
    *,
    stream: ReadableStream,
    filename: str,
    max_bytes: int,
) -> ArchiveFile:
    item = check_add_file(session, principal, item_id)
    document = _stored(session, store, principal, item, stream, filename, max_bytes)
    item = item_for(session, principal, item_id, "archives:write", lock=True)
    _not_destroyed(item)  # destroyed while the bytes streamed in: they are swept as an orphan
    return link_documents(session, principal, item, [document])[0]


def files_of(session: Session, item: ArchiveItem) -> list[tuple[ArchiveFile, Document]]:
    return list(
        session.execute(
            select(ArchiveFile, Document)
            .join(Document, Document.id == ArchiveFile.document_id)
            .where(ArchiveFile.item_id == item.id)
            .order_by(ArchiveFile.id)
        )
    )


def is_held(session: Session, item_id: int) -> bool:
    return bool(session.scalar(select(held()).where(ArchiveItem.id == item_id)))


# --- reading ------------------------------------------------------------------------------


def readable_somewhere(session: Session, principal: Principal) -> None:
    """The schedule is the group's: anyone who may read some unit's archives reads it."""
    if (
        session.scalar(
            select(OrgUnit.id).where(visible_units(session, principal, "archives:read")).limit(1)
        )
        is None
    ):
        raise Forbidden(f"{principal.name} may not archives:read anywhere", code="forbidden")


# The titles' most common grams and their frequencies, as ANALYZE last sampled them.
_GRAM_FREQUENCIES = sql_text(
    """
    select q.gram, coalesce(s.freq, 0)
    from unnest(cast(:grams as text[])) with ordinality q(gram, n)
    left join (
        select m.gram, m.freq
        from pg_stats, unnest(most_common_elems::text::text[], most_common_elem_freqs) m(gram, freq)
        where schemaname = current_schema() and tablename = 'archive_items'
            and attname = 'title_grams'
    ) s on s.gram = q.gram
    order by coalesce(s.freq, 0), q.n
    limit 1
    """
)


# A gram in more titles than this is not worth its posting list: reading 480,000 entries takes
# 80 ms, while walking the newest ids (or the unit's or the year's) and checking each title
# finds a page of such common words in a few hundred rows.
COMMON_GRAM = 0.1


def narrowest_gram(session: Session, words: str) -> str | None:
    """The gram of ``words`` the fewest titles have, by the table's statistics (a gram not among
    the most common is rarer than all of them); None when even that one is common.

    Why one gram and not all: the planner takes grams as independent and multiplies their
    frequencies, but a word's grams go together (every title with 物业费收 has 业费 too), so
    four grams of a word one title in 14 has are estimated at 24 titles of a million. It then
    reads all 71,000 through the index and sorts them, where walking the newest ids finds a page
    in 700. One gram is estimated as often as it is; the rarest one is the narrowest lookup."""
    grams = query_grams(words)
    gram, frequency = session.execute(_GRAM_FREQUENCIES, {"grams": grams}).one()
    return None if frequency > COMMON_GRAM else gram


def searched_units(session: Session, principal: Principal, unit_id: int | None) -> list[int] | None:
    """The ids of the units a search reads: those keeping archives that the principal may read,
    in ``unit_id``'s subtree; None when that is every unit. Read first, so the search filters
    items by their unit_id (whose statistics the planner knows) instead of joining units by
    path. Departments keep none, so a branch is one id, not the branch and its departments."""
    within = visible_units(session, principal, "archives:read")
    if unit_id is not None:
        top = org.get_unit(session, unit_id)
        within = and_(within, OrgUnit.path.startswith(top.path, autoescape=True))
    ids, every = session.execute(
        select(func.array_agg(OrgUnit.id).filter(within), func.count())
        .select_from(OrgUnit)
        .where(KEEPS_ARCHIVES)
    ).one()
    ids = ids or []
    return None if len(ids) == every else ids


def search(
    session: Session,
    principal: Principal,
    *,
    class_code: str | None = None,
    unit_id: int | None = None,
    fiscal_year: int | None = None,
    text: str | None = None,
    status: str | None = None,
    due_by: date | None = None,
) -> Select:
    """Items of the units the principal may read, filtered by class, unit subtree, year, words
    of the title, status, or due on or before a day."""
    # The catalogue is read from memory, where a page read out of order costs about what the
    # next one does. At PostgreSQL's default (4, for spinning disks) the planner walks every id
    # newest first, 80,000 rows for a page of one year's 电梯维保, rather than read 3,000 from
    # the year's index; 1.1 is the usual value for SSDs and cached data. This transaction only.
    session.execute(sql_text("set local random_page_cost = 1.1"))
    query = select(ArchiveItem, held().label("held"))
    units = searched_units(session, principal, unit_id)
    if units is not None:
        query = query.where(ArchiveItem.unit_id.in_(units))
    if class_code:
        query = query.where(ArchiveItem.class_code == class_code)
    if fiscal_year is not None:
        query = query.where(ArchiveItem.fiscal_year == fiscal_year)
    if text:
        # The GIN index narrows to titles with the words' rarest gram, unless it is common. The
        # words are then checked as ILIKE does in UTF-8 (both sides lowered, then a substring),
        # but in a form the planner takes to match nearly every row: an ILIKE's own estimate
        # would be multiplied by the gram's, counting the same titles out twice, and the planner
        # would sort thousands of rows expecting dozens.
        gram = narrowest_gram(session, text)
        if gram is not None:
            query = query.where(ArchiveItem.title_grams.contains([gram]))
        query = query.where(func.strpos(func.lower(ArchiveItem.title), func.lower(text)) != 0)
    if status:
        query = query.where(status_is(status))
    if due_by is not None:
        query = query.where(ArchiveItem.due_on <= due_by)
    return query.order_by(ArchiveItem.id.desc())
