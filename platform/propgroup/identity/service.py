"""Creating users and granting roles, with segregation of duties checked at grant time."""

from __future__ import annotations

from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from propgroup.errors import Conflict, InvalidInput
from propgroup.identity.models import RoleAssignment, User
from propgroup.identity.roles import INCOMPATIBLE_ROLES, ROLES
from propgroup.org import service as org
from propgroup.org.models import OrgUnit

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def create_user(
    session: Session, *, login: str, display_name: str, email: str, password: str
) -> User:
    if session.scalar(select(User.id).where(User.login == login)):
        raise Conflict(f"login {login!r} is taken", code="duplicate_login")
    user = User(
        login=login, display_name=display_name, email=email, password_hash=hash_password(password)
    )
    session.add(user)
    session.flush()
    return user


def _check_segregation(session: Session, user: User, role: str, unit: OrgUnit) -> None:
    """R-ORG-3: incompatible roles may not be held by one person over overlapping units."""
    held = session.execute(
        select(RoleAssignment.role, OrgUnit)
        .join(OrgUnit, OrgUnit.id == RoleAssignment.unit_id)
        .where(RoleAssignment.user_id == user.id)
    ).all()
    for held_role, held_unit in held:
        if frozenset({held_role, role}) in INCOMPATIBLE_ROLES and org.overlaps(held_unit, unit):
            raise Conflict(
                f"{user.login} is {held_role} at {held_unit.code}; the same person may not also "
                f"be {role} at {unit.code} (segregation of duties, R-ORG-3)",
                code="segregation_of_duties",
            )


def assign_role(session: Session, user: User, role: str, unit: OrgUnit) -> RoleAssignment:
    if role not in ROLES:
        raise InvalidInput(f"unknown role {role!r}", code="unknown_role")
    _check_segregation(session, user, role, unit)
    assignment = RoleAssignment(user_id=user.id, role=role, unit_id=unit.id)
    session.add(assignment)
    session.flush()
    return assignment
