"""Rules of the unit tree (R-ORG-1): one HQ, kinds nest in order, no cycles, whole-path moves."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from propgroup.errors import Conflict, InvalidInput, NotFound
from propgroup.org.kinds import ALLOWED_PARENT_KINDS, UNIT_KINDS
from propgroup.org.models import OrgUnit


def get_unit(session: Session, unit_id: int) -> OrgUnit:
    unit = session.get(OrgUnit, unit_id)
    if unit is None:
        raise NotFound(f"unit {unit_id} does not exist", code="unit_not_found")
    return unit


def get_unit_by_code(session: Session, code: str) -> OrgUnit:
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        raise NotFound(f"unit {code!r} does not exist", code="unit_not_found")
    return unit


def _lock_tree(session: Session) -> None:
    # Paths of a whole subtree change together; serialise tree writers of this tenant only.
    session.execute(text("lock table org_units in share row exclusive mode"))


def _check_parent(kind: str, parent: OrgUnit | None) -> None:
    allowed = ALLOWED_PARENT_KINDS[kind]
    if parent is None and allowed:
        raise InvalidInput(f"a {kind} needs a parent ({' or '.join(allowed)})", code="bad_parent")
    if parent is not None and parent.kind not in allowed:
        where = " or ".join(allowed) if allowed else "nothing (it is the root)"
        raise InvalidInput(
            f"a {kind} cannot sit under a {parent.kind}; it belongs under {where}",
            code="bad_parent",
        )


def create_unit(
    session: Session, *, code: str, kind: str, name: str, parent: OrgUnit | None = None
) -> OrgUnit:
    if kind not in UNIT_KINDS:
        raise InvalidInput(f"unknown unit kind {kind!r}", code="bad_kind")
    _check_parent(kind, parent)
    _lock_tree(session)
    if kind == "hq" and session.scalar(select(OrgUnit.id).where(OrgUnit.kind == "hq")):
        raise Conflict("the group already has its HQ", code="second_hq")
    if session.scalar(select(OrgUnit.id).where(OrgUnit.code == code)):
        raise Conflict(f"unit code {code!r} is taken", code="duplicate_unit_code")
    # The id is drawn first so the row is written once, path included.
    unit_id = session.scalar(text("select nextval(pg_get_serial_sequence('org_units', 'id'))"))
    prefix = parent.path if parent else "/"
    unit = OrgUnit(
        id=unit_id,
        parent_id=parent.id if parent else None,
        kind=kind,
        code=code,
        name=name,
        path=f"{prefix}{unit_id}/",
        depth=parent.depth + 1 if parent else 0,
    )
    session.add(unit)
    session.flush()
    return unit


def move_unit(session: Session, unit: OrgUnit, new_parent: OrgUnit) -> OrgUnit:
    """Re-hang ``unit`` and its subtree under ``new_parent`` in one statement."""
    _lock_tree(session)
    session.refresh(unit)
    session.refresh(new_parent)
    if unit.contains(new_parent):
        raise InvalidInput(
            f"cannot move {unit.code} under {new_parent.code}: that is inside its own subtree",
            code="cycle",
        )
    _check_parent(unit.kind, new_parent)
    old_path, new_path = unit.path, f"{new_parent.path}{unit.id}/"
    shift = new_parent.depth + 1 - unit.depth
    session.execute(
        update(OrgUnit)
        .where(OrgUnit.path.startswith(old_path, autoescape=True))
        .values(
            path=new_path + func.substr(OrgUnit.path, len(old_path) + 1),
            depth=OrgUnit.depth + shift,
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(update(OrgUnit).where(OrgUnit.id == unit.id).values(parent_id=new_parent.id))
    session.expire_all()
    return get_unit(session, unit.id)


def subtree(session: Session, unit: OrgUnit, *, include_self: bool = True) -> Sequence[OrgUnit]:
    query = select(OrgUnit).where(OrgUnit.path.startswith(unit.path, autoescape=True))
    if not include_self:
        query = query.where(OrgUnit.id != unit.id)
    return session.scalars(query.order_by(OrgUnit.path)).all()


def ancestors(session: Session, unit: OrgUnit) -> Sequence[OrgUnit]:
    """HQ first, the unit's parent last."""
    ids = [int(part) for part in unit.path.strip("/").split("/")[:-1]]
    if not ids:
        return []
    return session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)).order_by(OrgUnit.depth)).all()


def overlaps(a: OrgUnit, b: OrgUnit) -> bool:
    """True when one unit lies in the other's subtree (so roles held at them reach shared units)."""
    return a.contains(b) or b.contains(a)
