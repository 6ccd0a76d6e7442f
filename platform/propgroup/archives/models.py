"""Accounting archives (会计档案): the retention schedule, catalogue items and their files, legal
holds, appraisals, destruction lists and the lending register."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    and_,
    case,
    exists,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, aliased, column_property, mapped_column
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import Exists, ScalarSelect

from propgroup.approvals import models as _approvals_models  # noqa: F401 -- FK targets
from propgroup.budgets.periods import FISCAL_YEARS
from propgroup.db import TenantBase
from propgroup.org.models import OrgUnit
from propgroup.storage import models as _storage_models  # noqa: F401 -- FK targets

# Where a retention period starts: the year-end of the record's fiscal year, or (asset cards) the
# year-end of the year the asset was disposed of.
COUNTED_FROM = ("fiscal_year", "disposal")
# kept: in custody; due: past retention, waiting for appraisal; to_destroy: appraised for
# destruction; listed: on a destruction list; destroyed: its files are gone, its row stays.
# "due" is not stored on the item: it is a kept item on an open line of an appraisal list.
ITEM_STATUSES = ("kept", "due", "to_destroy", "listed", "destroyed")
LIST_STATUSES = ("in_approval", "approved", "rejected", "withdrawn", "destroyed")
PERIOD = r"^(0[1-9]|1[0-2]|Q[1-4]|H[12])$"  # a month, a quarter or a half-year of the fiscal year
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _pairs(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}


def title_grams(title: str) -> list[str]:
    """Every character and every pair of neighbouring characters of a title, ASCII letters in
    lower case: what the title search looks up in a GIN index. Chinese search words are mostly
    two characters, below what trigrams (pg_trgm) can index; pairs need no extension and no
    locale. t0013's backfill computes the same in SQL."""
    folded = title.translate(_ASCII_LOWER)
    return sorted(set(folded) | _pairs(folded))


def query_grams(words: str) -> list[str]:
    """Grams every title containing ``words`` has: its pairs, or its one character."""
    folded = words.translate(_ASCII_LOWER)
    return sorted(_pairs(folded) or set(folded))


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


class RetentionRule(TenantBase):
    """One class of the retention schedule (保管期限表): years, or permanent (永久)."""

    __tablename__ = "archive_retention"
    __table_args__ = (
        CheckConstraint("(years is null) = permanent", name="years_or_permanent"),
        CheckConstraint("years between 1 and 100", name="years_range"),
        CheckConstraint(_in("counted_from", COUNTED_FROM), name="counted_from"),
    )

    class_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    years: Mapped[int | None] = mapped_column(SmallInteger)
    permanent: Mapped[bool] = mapped_column(Boolean, default=False)
    counted_from: Mapped[str] = mapped_column(String(16), default="fiscal_year")


class AppraisalList(TenantBase):
    """The yearly "past retention" sweep's record (R-ARC-1): the day it ran and how many items it
    found past retention, each a line below. Kept with its lines, settled or not."""

    __tablename__ = "archive_appraisal_lists"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    swept_on: Mapped[date] = mapped_column(Date)
    found: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AppraisalListItem(TenantBase):
    """An item a sweep found past retention, with the due date it had then. The line is open
    while the item waits for appraisal: that is what makes a kept item "due". It is settled when
    an appraisal is confirmed (which one is kept) or a schedule change puts the due date back in
    the future. ``item_id`` has no foreign key on purpose: checking one locks every listed
    catalogue row (FOR KEY SHARE), rewriting the pages the list exists to leave alone; items are
    never deleted, and lines are only written from the catalogue itself."""

    __tablename__ = "archive_appraisal_list_items"
    __table_args__ = (
        # One open line per item; the index that tells a due item from a kept one.
        Index(
            "uq_archive_appraisal_list_items_open_item",
            "item_id",
            unique=True,
            postgresql_where=text("settled_at is null"),
        ),
    )

    list_id: Mapped[int] = mapped_column(ForeignKey("archive_appraisal_lists.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    due_on: Mapped[date] = mapped_column(Date)
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    appraisal_id: Mapped[int | None] = mapped_column(ForeignKey("archive_appraisals.id"))


def on_open_line(item_id: Any) -> Exists:
    """True when the item (an id column or value) is on an open line of an appraisal list: the
    form for WHERE, which the planner turns into a (anti) join."""
    return exists().where(
        AppraisalListItem.item_id == item_id, AppraisalListItem.settled_at.is_(None)
    )


def open_list_of(item_id: Any) -> ScalarSelect[int]:
    """The list naming the item on an open line (one at most), or NULL: the form for a value
    read per row. An EXISTS there may be planned as a hash of every open line, built for each
    query (~100,000 after a sweep: 25 ms for a page of 50 items) instead of one index probe per
    row read."""
    return (
        select(AppraisalListItem.list_id)
        .where(AppraisalListItem.item_id == item_id, AppraisalListItem.settled_at.is_(None))
        .scalar_subquery()
    )


class ArchiveItem(TenantBase):
    """A catalogued record: a bound volume of vouchers with its cover (R-ARC-4), a ledger, a
    report… ``due_on`` is the first day it may be destroyed; NULL while it is permanent or its
    period has not started (an asset card before disposal)."""

    __tablename__ = "archive_items"
    __table_args__ = (
        CheckConstraint(_in("status", ITEM_STATUSES), name="status"),
        CheckConstraint(
            f"fiscal_year between {FISCAL_YEARS[0]} and {FISCAL_YEARS[1]}", name="fiscal_year"
        ),
        CheckConstraint(f"period ~ '{PERIOD}'", name="period"),
        CheckConstraint("number_from <= number_to", name="number_range"),
        CheckConstraint("(number_from is null) = (number_to is null)", name="number_pair"),
        UniqueConstraint("source_type", "source_id"),
        Index("ix_archive_items_unit_class_year", "unit_id", "class_code", "fiscal_year"),
        Index("ix_archive_items_class_due", "class_code", "due_on"),
        # The yearly sweep reads only what is still kept and has a date, from the index alone
        # (ids included): ~100,000 entries instead of the ~500 MB of rows they sit in.
        Index(
            "ix_archive_items_due_kept",
            "due_on",
            postgresql_include=["id"],
            postgresql_where=text("status = 'kept'"),
        ),
        # Search: words of the title; a unit's or a year's items newest first (a page of them
        # is read backwards from the index, not found by walking every id).
        Index("ix_archive_items_title_grams", "title_grams", postgresql_using="gin"),
        Index("ix_archive_items_unit_newest", "unit_id", "id"),
        Index("ix_archive_items_year_newest", "fiscal_year", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    class_code: Mapped[str] = mapped_column(ForeignKey("archive_retention.class_code"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    fiscal_year: Mapped[int] = mapped_column(Integer)
    period: Mapped[str | None] = mapped_column(String(2))
    volume: Mapped[str | None] = mapped_column(String(40))  # 册号
    number_from: Mapped[int | None] = mapped_column(Integer)  # 凭证起止号
    number_to: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    title_grams: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    disposed_on: Mapped[date | None] = mapped_column(Date)  # asset cards: the asset's disposal
    # A confirmed appraisal to keep it longer (R-ARC-1): the due date is never before this.
    kept_until: Mapped[date | None] = mapped_column(Date)
    due_on: Mapped[date | None] = mapped_column(Date)
    # The stored part of the status: kept, to_destroy, listed or destroyed. The yearly sweep
    # does not write it (rewriting ~100,000 wide rows and their title-gram entries took seconds)
    # but adds lines to an appraisal list; ``status`` reads both. Filter on ``stage`` in SQL
    # where "due" does not matter; it is not loaded with the item.
    stage: Mapped[str] = mapped_column("status", String(16), default="kept", deferred=True)
    # What filed it automatically (approval_request 12): filed once.
    source_type: Mapped[str | None] = mapped_column(String(40))
    source_id: Mapped[int | None] = mapped_column(BigInteger)
    destruction_list_id: Mapped[int | None] = mapped_column(
        ForeignKey("archive_destruction_lists.id"), index=True
    )
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # What every reader sees (ITEM_STATUSES): a kept item on an open appraisal line is due.
    status: Mapped[str] = column_property(
        case(
            (
                and_(stage == "kept", open_list_of(id).is_not(None)),
                "due",
            ),
            else_=stage,
        ).label("status")
    )


def status_is(status: str) -> ColumnElement[bool]:
    """``ArchiveItem.status == status`` in a form the planner estimates from the stored stage."""
    if status == "due":
        return and_(ArchiveItem.stage == "kept", on_open_line(ArchiveItem.id))
    if status == "kept":
        return and_(ArchiveItem.stage == "kept", ~on_open_line(ArchiveItem.id))
    return ArchiveItem.stage == status


class ArchiveFile(TenantBase):
    """A stored document that is (part of) an item, with the sha256 recorded when it was filed:
    the integrity check compares the blob against this, not against the document row."""

    __tablename__ = "archive_files"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archive_items.id"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    destroyed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LegalHold(TenantBase):
    """R-ARC-2: one item, or a unit's subtree (optionally one fiscal year), kept from
    destruction while a claim or dispute is open. Released by someone other than who placed it."""

    __tablename__ = "archive_holds"
    __table_args__ = (
        CheckConstraint(
            "(item_id is not null and unit_id is null and fiscal_year is null)"
            " or (item_id is null and unit_id is not null)",
            name="scope",
        ),
        CheckConstraint("released_by <> placed_by", name="second_person"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("archive_items.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True)
    fiscal_year: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    released_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    release_reason: Mapped[str | None] = mapped_column(Text)


class Appraisal(TenantBase):
    """鉴定: an item past retention, proposed for keeping longer (with a new date) or for
    destruction by one person and confirmed by another (R-ARC-1)."""

    __tablename__ = "archive_appraisals"
    __table_args__ = (
        CheckConstraint("decision in ('keep', 'destroy')", name="decision"),
        CheckConstraint("(decision = 'keep') = (keep_until is not null)", name="keep_until"),
        CheckConstraint("confirmed_by <> proposed_by", name="second_person"),
        # One open appraisal per item.
        Index(
            "uq_archive_appraisals_open_item",
            "item_id",
            unique=True,
            postgresql_where=text("confirmed_at is null"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archive_items.id"), index=True)
    decision: Mapped[str] = mapped_column(String(8))
    keep_until: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    proposed_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    confirmed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    agreed: Mapped[bool | None] = mapped_column(Boolean)  # the second person's word


class DestructionList(TenantBase):
    """会计档案销毁清册: items appraised for destruction, approved through the engine as a
    ``destruction_list`` request, destroyed before two supervisors (archives and accounting)."""

    __tablename__ = "archive_destruction_lists"
    __table_args__ = (
        CheckConstraint(_in("status", LIST_STATUSES), name="status"),
        CheckConstraint("archives_supervisor <> accounting_supervisor", name="two_supervisors"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="in_approval")
    approval_request_id: Mapped[int | None] = mapped_column(
        ForeignKey("approval_requests.id"), unique=True
    )
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    archives_supervisor: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    accounting_supervisor: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    destroyed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    destroyed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The permanent item holding the list and its certificate, filed when it is carried out.
    record_item_id: Mapped[int | None] = mapped_column(BigInteger)


class Loan(TenantBase):
    """借阅登记 (R-ARC-3): a copy of an item issued to someone, signed by both sides, due back by
    a date. Originals are never lent, so there is no row for one."""

    __tablename__ = "archive_loans"
    __table_args__ = (CheckConstraint("due_on >= issued_on", name="due_after_issue"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("archive_items.id"), index=True)
    borrower: Mapped[str] = mapped_column(String(200))  # who signed for the copy
    purpose: Mapped[str] = mapped_column(Text)
    issued_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    returned_on: Mapped[date | None] = mapped_column(Date)
    received_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


HANDOVER_KINDS = ("archive", "seal", "cheque_book", "open_item", "other")


class Handover(TenantBase):
    """工作交接: when an accountant or cashier leaves (R-BNK-3, seed §19), the archives, seals,
    cheque books and open items they keep are handed over on a list signed by the one leaving,
    the one taking over and a supervisor; signed, it is filed as a transfer list (移交清册)."""

    __tablename__ = "archive_handovers"
    __table_args__ = (
        CheckConstraint("status in ('open', 'signed', 'cancelled')", name="status"),
        CheckConstraint(
            "leaving_id <> receiving_id and supervisor_id not in (leaving_id, receiving_id)",
            name="three_people",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    leaving_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    receiving_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    supervisor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    leaving_signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    receiving_signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    supervisor_signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    record_item_id: Mapped[int | None] = mapped_column(BigInteger)


class HandoverLine(TenantBase):
    """One thing handed over: an archive item of the unit, a seal, a cheque book (with its
    number range in the description), an open item, or anything else named."""

    __tablename__ = "archive_handover_lines"
    __table_args__ = (
        CheckConstraint(_in("kind", HANDOVER_KINDS), name="kind"),
        CheckConstraint("(kind = 'archive') = (item_id is not null)", name="archive_item"),
        CheckConstraint("quantity > 0", name="quantity"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("archive_handovers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("archive_items.id"))


def held() -> Exists:
    """True for an ArchiveItem row under an active legal hold: on itself, or on a unit above
    it (that year, or every year). Read when needed, so an item filed later under a held unit
    is held too."""
    hold_unit, item_unit = aliased(OrgUnit), aliased(OrgUnit)
    return exists(
        select(LegalHold.id)
        .outerjoin(hold_unit, hold_unit.id == LegalHold.unit_id)
        .join(item_unit, item_unit.id == ArchiveItem.unit_id)
        .where(
            LegalHold.released_at.is_(None),
            or_(
                LegalHold.item_id == ArchiveItem.id,
                and_(
                    item_unit.path.startswith(hold_unit.path),
                    or_(
                        LegalHold.fiscal_year.is_(None),
                        LegalHold.fiscal_year == ArchiveItem.fiscal_year,
                    ),
                ),
            ),
        )
        .correlate(ArchiveItem)
    )
