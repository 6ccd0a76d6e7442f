"""Rules of the unit tree (R-ORG-1): one HQ, kinds nest in order, no cycles, whole-path moves."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Select, func, select, text, update
from sqlalchemy.orm import Session

from propgroup.audit.service import record
from propgroup.db import BIGINT_MAX
from propgroup.errors import Conflict, InvalidInput, NotFound
from propgroup.identity.authz import authorize, visible_units
from propgroup.identity.principals import SYSTEM, Principal
from propgroup.org.kinds import ALLOWED_PARENT_KINDS, UNIT_KINDS
from propgroup.org.models import OrgUnit


def get_unit(session: Session, unit_id: int) -> OrgUnit:
    unit = session.get(OrgUnit, unit_id) if 0 < unit_id <= BIGINT_MAX else None
    if unit is None:
        raise NotFound(f"unit {unit_id} does not exist", code="unit_not_found")
    return unit


def get_unit_by_code(session: Session, code: str) -> OrgUnit:
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        raise NotFound(f"unit {code!r} does not exist", code="unit_not_found")
    return unit


def get_root(session: Session) -> OrgUnit:
    """The group's HQ, where group-wide rights are held."""
    root = session.scalar(select(OrgUnit).where(OrgUnit.kind == "hq"))
    if root is None:
        raise NotFound("the group has no HQ unit", code="unit_not_found")
    return root


def _lock_tree(session: Session) -> None:
    # Paths of a whole subtree change together; serialise tree writers of this tenant only.
    session.execute(text("lock table org_units in share row exclusive mode"))


def hold_tree(session: Session) -> None:
    """Keep the tree as it is until the transaction ends: for a writer that stores units it
    resolved from it (approval steps), so a move waits and then sees what it stored."""
    session.execute(text("lock table org_units in share mode"))


# Units resolved from the tree and stored elsewhere (an approval step's regional finance
# department) follow a move in its transaction. Those capabilities depend on org, so org cannot
# call them: they register here, and a hook that refuses (a DomainError) refuses the move.
MoveHook = Callable[[Session, Principal, OrgUnit], None]
_move_hooks: list[MoveHook] = []


def on_unit_moved(hook: MoveHook) -> MoveHook:
    _move_hooks.append(hook)
    return hook


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
    if parent is not None:
        session.refresh(parent)  # its path may have moved before we held the lock
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


def move_unit(
    session: Session, unit: OrgUnit, new_parent: OrgUnit, principal: Principal = SYSTEM
) -> OrgUnit:
    """Re-hang ``unit`` and its subtree under ``new_parent`` in one statement, then let the
    registered hooks follow; if one refuses, the savepoint undoes the move whole."""
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
    with session.begin_nested():
        session.execute(
            update(OrgUnit)
            .where(OrgUnit.path.startswith(old_path, autoescape=True))
            .values(
                path=new_path + func.substr(OrgUnit.path, len(old_path) + 1),
                depth=OrgUnit.depth + shift,
            )
            .execution_options(synchronize_session=False)
        )
        session.execute(
            update(OrgUnit).where(OrgUnit.id == unit.id).values(parent_id=new_parent.id)
        )
        session.expire_all()
        moved = get_unit(session, unit.id)
        for hook in _move_hooks:
            hook(session, principal, moved)
    return moved


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


# Operations on behalf of someone: authorised at object level and audited.


def _snapshot(unit: OrgUnit) -> dict[str, object]:
    return {"code": unit.code, "kind": unit.kind, "name": unit.name, "parent_id": unit.parent_id}


def read_unit(session: Session, principal: Principal, unit_id: int) -> OrgUnit:
    unit = get_unit(session, unit_id)
    authorize(session, principal, "org:read", unit)
    return unit


_UNIT_COLUMNS = tuple(OrgUnit.__table__.columns)


def visible_units_query(
    session: Session,
    principal: Principal,
    *,
    under: OrgUnit | None = None,
    kind: str | None = None,
    rows: bool = False,
) -> Select[Any]:
    """Units ``principal`` may read, in tree order; optionally one subtree, one kind. With
    ``rows``, their columns as plain rows instead of ORM objects."""
    query = select(*_UNIT_COLUMNS) if rows else select(OrgUnit)
    query = query.where(visible_units(session, principal, "org:read"))
    if under is not None:
        query = query.where(OrgUnit.path.startswith(under.path, autoescape=True))
    if kind is not None:
        query = query.where(OrgUnit.kind == kind)
    return query.order_by(OrgUnit.path, OrgUnit.id)


def add_unit(
    session: Session, principal: Principal, *, code: str, kind: str, name: str, parent_id: int
) -> OrgUnit:
    parent = get_unit(session, parent_id)
    authorize(session, principal, "org:write", parent)
    unit = create_unit(session, code=code, kind=kind, name=name, parent=parent)
    record(session, principal, "org.unit.created", "org_unit", unit.id, after=_snapshot(unit))
    return unit


def rename_unit(session: Session, principal: Principal, unit_id: int, name: str) -> OrgUnit:
    unit = get_unit(session, unit_id)
    authorize(session, principal, "org:write", unit)
    before = _snapshot(unit)
    unit.name = name
    session.flush()
    record(
        session,
        principal,
        "org.unit.renamed",
        "org_unit",
        unit.id,
        before=before,
        after=_snapshot(unit),
    )
    return unit


def relocate_unit(session: Session, principal: Principal, unit_id: int, parent_id: int) -> OrgUnit:
    unit, parent = get_unit(session, unit_id), get_unit(session, parent_id)
    authorize(session, principal, "org:write", unit)
    authorize(session, principal, "org:write", parent)
    before = _snapshot(unit)
    moved = move_unit(session, unit, parent, principal)
    record(
        session,
        principal,
        "org.unit.moved",
        "org_unit",
        unit.id,
        before=before,
        after=_snapshot(moved),
    )
    return moved
