"""Appraisal lists (R-ARC-1): what each yearly sweep found past retention, kept as a record. A
line stays open while its item waits for appraisal, which is what "due" means; it is settled
when an appraisal is confirmed or a schedule change puts the item's due date back in the future.

Why lines and not the item's status: marking ~100,000 of a million catalogue rows rewrote each
wide row with every index entry (~40 title grams apiece), 8.5 s in the benchmark; the lines are
narrow rows in a table of their own (docs/decisions.md, Archives)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import BigInteger, func, insert, literal, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from propgroup.approvals import service as approvals
from propgroup.archives.models import AppraisalList, AppraisalListItem, ArchiveItem, on_open_line
from propgroup.db import get_by_id
from propgroup.errors import NotFound
from propgroup.identity.authz import authorize_somewhere, visible_units
from propgroup.identity.principals import Principal
from propgroup.org.models import OrgUnit

# One key per tenant schema: the sweep takes it alone, changes to what is due take it shared.
_SWEEP_KEY = func.hashtextextended(literal("archives.sweep:") + func.current_schema(), 0)


def hold_off_sweep(session: Session) -> None:
    """Until commit, no sweep starts and a running one is waited for. Taken before a change to
    what is due (an appraisal confirmed, a due date moved): the sweep reads the catalogue without
    locking its rows, so it would otherwise list an item whose change it cannot see yet, and
    that line would stay open. Shared: such changes still run side by side."""
    session.execute(select(func.pg_advisory_xact_lock_shared(_SWEEP_KEY)))


def sweep(session: Session, today: date) -> AppraisalList:
    """A new list of every kept item due by ``today`` that no open line names yet. Sweeps of
    one tenant run one at a time, and apart from changes to what is due (``hold_off_sweep``)."""
    session.execute(select(func.pg_advisory_xact_lock(_SWEEP_KEY)))
    listing = AppraisalList(swept_on=today, found=0)
    session.add(listing)
    session.flush()
    listing.found = session.execute(
        insert(AppraisalListItem)
        .from_select(
            ["list_id", "item_id", "due_on"],
            select(literal(listing.id, BigInteger), ArchiveItem.id, ArchiveItem.due_on).where(
                ArchiveItem.stage == "kept",
                ArchiveItem.due_on <= today,
                ~on_open_line(ArchiveItem.id),
            ),
        )
        .execution_options(preserve_rowcount=True)  # an INSERT's count is dropped otherwise
    ).rowcount
    session.flush()
    return listing


def settle(session: Session, items: Any, *, appraisal_id: int | None = None) -> None:
    """Close the open lines of ``items`` (ids, or a select of them): they are no longer due."""
    session.execute(
        update(AppraisalListItem)
        .where(AppraisalListItem.item_id.in_(items), AppraisalListItem.settled_at.is_(None))
        .values(settled_at=approvals.now(), appraisal_id=appraisal_id)
        .execution_options(synchronize_session=False)
    )


def visible_lists(session: Session, principal: Principal) -> Select[tuple[AppraisalList]]:
    """Every sweep's list, newest first, to whoever may appraise somewhere: a list is the group's
    (its count too); its lines are shown unit by unit (``visible_lines``)."""
    authorize_somewhere(session, principal, "archives:appraise")
    return select(AppraisalList).order_by(AppraisalList.id.desc())


def visible_lines(
    session: Session, principal: Principal, list_id: int, *, open: bool = False
) -> Select[Any]:
    """A list's lines whose items are in units where the principal may read archives, with what
    an appraiser needs to find the item; ``open``: only those still waiting for appraisal."""
    authorize_somewhere(session, principal, "archives:appraise")
    if get_by_id(session, AppraisalList, list_id) is None:
        raise NotFound(f"appraisal list {list_id} does not exist", code="appraisal_list_not_found")
    query = (
        select(
            AppraisalListItem.item_id,
            ArchiveItem.title,
            ArchiveItem.unit_id,
            ArchiveItem.class_code,
            ArchiveItem.fiscal_year,
            AppraisalListItem.due_on,
            AppraisalListItem.settled_at,
            AppraisalListItem.appraisal_id,
        )
        .join(ArchiveItem, ArchiveItem.id == AppraisalListItem.item_id)
        .join(OrgUnit, OrgUnit.id == ArchiveItem.unit_id)
        .where(
            AppraisalListItem.list_id == list_id, visible_units(session, principal, "archives:read")
        )
    )
    if open:
        query = query.where(AppraisalListItem.settled_at.is_(None))
    return query.order_by(AppraisalListItem.item_id)
