"""Legal holds (R-ARC-2): records tied to an unsettled claim or dispute are never destroyed.

A hold names one item, or a unit (its whole subtree), optionally for one fiscal year
("everything of branch X, 2019"). It is released by a second person, with a reason.
"""

from __future__ import annotations

from sqlalchemy import Select, and_, literal, or_, select
from sqlalchemy.orm import Session

from propgroup.approvals.service import now
from propgroup.archives import locks
from propgroup.archives.models import ArchiveItem, LegalHold
from propgroup.archives.service import get_item, required_text, signed_by_person
from propgroup.audit.service import record
from propgroup.budgets.periods import check_year
from propgroup.db import BIGINT_MAX
from propgroup.errors import Conflict, Forbidden, InvalidInput, NotFound
from propgroup.identity.authz import authorize, visible_units
from propgroup.identity.principals import Principal
from propgroup.org import service as org
from propgroup.org.models import OrgUnit


def _hold_unit(session: Session, hold: LegalHold) -> OrgUnit:
    unit_id = hold.unit_id if hold.item_id is None else get_item(session, hold.item_id).unit_id
    return org.get_unit(session, unit_id)


def place_hold(
    session: Session,
    principal: Principal,
    *,
    reason: str,
    item_id: int | None = None,
    unit_id: int | None = None,
    fiscal_year: int | None = None,
) -> LegalHold:
    """Hold one item, or a unit's subtree (every year, or ``fiscal_year``)."""
    signed_by_person(principal)
    text = required_text(reason, "reason")
    if (item_id is None) == (unit_id is None):
        raise InvalidInput(
            "a hold names an item or a unit (with an optional fiscal year)",
            code="bad_hold_scope",
            errors={"item_id": ["give item_id or unit_id"]},
        )
    if item_id is not None and fiscal_year is not None:
        raise InvalidInput(
            "an item's hold takes no fiscal year",
            code="bad_hold_scope",
            errors={"fiscal_year": ["not with item_id"]},
        )
    if fiscal_year is not None:
        check_year(fiscal_year)
    hold = LegalHold(
        item_id=item_id,
        unit_id=unit_id,
        fiscal_year=fiscal_year,
        reason=text,
        placed_by=principal.id,
    )
    unit = _hold_unit(session, hold)
    authorize(session, principal, "archives:hold", unit)
    session.add(hold)
    session.flush()
    locks.sync_later(session, hold_id=hold.id)
    record(
        session,
        principal,
        "archives.hold_placed",
        "archive_hold",
        hold.id,
        after={"item": item_id, "unit": unit.code, "year": fiscal_year, "reason": text},
    )
    return hold


def release_hold(session: Session, principal: Principal, hold_id: int, *, reason: str) -> LegalHold:
    """A second person lifts the hold; items still held by another hold stay held."""
    signed_by_person(principal)
    text = required_text(reason, "reason")
    hold = (
        session.get(LegalHold, hold_id, with_for_update=True) if 0 < hold_id <= BIGINT_MAX else None
    )
    if hold is None:
        raise NotFound(f"legal hold {hold_id} does not exist", code="hold_not_found")
    authorize(session, principal, "archives:hold", _hold_unit(session, hold))
    if hold.released_at is not None:
        raise Conflict(f"legal hold {hold_id} was released already", code="hold_released")
    if hold.placed_by == principal.id:
        raise Forbidden(
            "a legal hold is released by someone other than who placed it (R-ARC-2)",
            code="second_person",
        )
    hold.released_by, hold.released_at, hold.release_reason = principal.id, now(), text
    session.flush()
    locks.sync_later(session, hold_id=hold.id)
    record(
        session,
        principal,
        "archives.hold_released",
        "archive_hold",
        hold.id,
        after={"reason": text},
    )
    return hold


def items_under(hold: LegalHold) -> Select:
    """Ids of the items the hold covers (released or not), for the storage sync."""
    if hold.item_id is not None:
        return select(ArchiveItem.id).where(ArchiveItem.id == hold.item_id)
    top = select(OrgUnit.path).where(OrgUnit.id == hold.unit_id).scalar_subquery()
    query = (
        select(ArchiveItem.id)
        .join(OrgUnit, OrgUnit.id == ArchiveItem.unit_id)
        .where(OrgUnit.path.startswith(top))
    )
    if hold.fiscal_year is not None:
        query = query.where(ArchiveItem.fiscal_year == hold.fiscal_year)
    return query


def visible_holds(session: Session, principal: Principal, *, active: bool | None = None) -> Select:
    unit_of_hold = select(ArchiveItem.unit_id).where(ArchiveItem.id == LegalHold.item_id)
    readable = select(OrgUnit.id).where(visible_units(session, principal, "archives:read"))
    query = select(LegalHold).where(
        (LegalHold.unit_id.in_(readable)) | (unit_of_hold.scalar_subquery().in_(readable))
    )
    if active is not None:
        query = query.where(
            LegalHold.released_at.is_(None) if active else LegalHold.released_at.is_not(None)
        )
    return query.order_by(LegalHold.id.desc())


def holds_on(session: Session, item: ArchiveItem) -> list[LegalHold]:
    """Every hold, active or released, that covers the item: on it, or on a unit above it for
    its year or every year (newest first)."""
    path = org.get_unit(session, item.unit_id).path
    return list(
        session.scalars(
            select(LegalHold)
            .outerjoin(OrgUnit, OrgUnit.id == LegalHold.unit_id)
            .where(
                or_(
                    LegalHold.item_id == item.id,
                    and_(
                        literal(path).startswith(OrgUnit.path),
                        or_(
                            LegalHold.fiscal_year.is_(None),
                            LegalHold.fiscal_year == item.fiscal_year,
                        ),
                    ),
                )
            )
            .order_by(LegalHold.id.desc())
        )
    )
