"""The one permission check every service calls before reading or changing unit data (R-ORG-2).

A user may act where a role granting the action is held at the unit or an ancestor; an API
client where its scopes include the action and the unit lies in its subtree, if it has one.
"""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    Exists,
    bindparam,
    exists,
    false,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from propgroup.errors import Forbidden
from propgroup.identity.models import RoleAssignment, User
from propgroup.identity.permissions import roles_granting
from propgroup.identity.principals import Principal
from propgroup.org.models import OrgUnit


def _client_may(principal: Principal, action: str, path: str) -> bool:
    return action in principal.scopes and (
        principal.unit_path is None or path.startswith(principal.unit_path)
    )


def can(session: Session, principal: Principal, action: str, unit: OrgUnit) -> bool:
    if principal.kind == "system":
        return True
    if principal.kind == "client":
        return _client_may(principal, action, unit.path)
    if principal.token_scopes is not None and action not in principal.token_scopes:
        return False
    held = session.scalar(
        select(RoleAssignment.id)
        .join(OrgUnit, OrgUnit.id == RoleAssignment.unit_id)
        .where(
            RoleAssignment.user_id == principal.id,
            RoleAssignment.role.in_(roles_granting(action)),
            literal(unit.path).startswith(OrgUnit.path),  # assignment at the unit or above it
        )
        .limit(1)
    )
    return held is not None


def authorize(session: Session, principal: Principal, action: str, unit: OrgUnit) -> None:
    if not can(session, principal, action, unit):
        raise Forbidden(
            f"{principal.name} may not {action} at {unit.code}",
            code="forbidden",
            errors={"action": action, "unit": unit.code},
        )


# Where a user holds roles granting an action. Built once (its SQL cache key computed once):
# every list anybody asks for starts with it.
_ROOTS = (
    select(OrgUnit.path)
    .join(RoleAssignment, RoleAssignment.unit_id == OrgUnit.id)
    .where(
        RoleAssignment.user_id == bindparam("user_id"),
        RoleAssignment.role.in_(bindparam("roles", expanding=True)),
    )
)


def visible_units(session: Session, principal: Principal, action: str) -> ColumnElement[bool]:
    """A condition over OrgUnit keeping the units ``principal`` may ``action``, for list queries."""
    if principal.kind == "system":
        return true()
    if principal.kind == "client":
        if action not in principal.scopes:
            return false()
        return OrgUnit.path.startswith(principal.unit_path) if principal.unit_path else true()
    if principal.token_scopes is not None and action not in principal.token_scopes:
        return false()
    roots = session.scalars(
        _ROOTS, {"user_id": principal.id, "roles": roles_granting(action)}
    ).all()
    if not roots:
        return false()
    return or_(*(OrgUnit.path.startswith(root, autoescape=True) for root in roots))


def authorize_somewhere(session: Session, principal: Principal, action: str) -> None:
    """Refuse whoever may ``action`` at no unit at all, before anything is read for them."""
    if session.scalar(select(OrgUnit.id).where(visible_units(session, principal, action)).limit(1)):
        return
    raise Forbidden(
        f"{principal.name} may not {action} anywhere", code="forbidden", errors={"action": action}
    )


def role_held(user_id: int, role: str | ColumnElement[str], path: ColumnElement[str]) -> Exists:
    """SQL: ``user_id`` holds ``role`` at the unit whose path is ``path`` or above it (roles reach
    down the tree), and is active: who left keeps no authority, nor can delegate any. ``role``
    and ``path`` may be columns of an enclosing query, so one statement checks as it reads."""
    return exists(
        select(RoleAssignment.id)
        .join(OrgUnit, OrgUnit.id == RoleAssignment.unit_id)
        .join(User, User.id == RoleAssignment.user_id)
        .where(
            RoleAssignment.user_id == user_id,
            RoleAssignment.role == role,
            User.active,
            path.startswith(OrgUnit.path),
        )
        .correlate_except(RoleAssignment, OrgUnit, User)
    )


def holds_role(session: Session, user_id: int, role: str, unit: OrgUnit) -> bool:
    """``user_id`` holds ``role`` at ``unit`` or above it."""
    return bool(session.scalar(select(role_held(user_id, role, literal(unit.path)))))
