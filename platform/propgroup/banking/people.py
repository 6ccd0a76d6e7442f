"""Who may keep an account's reserved seals and sign for it (R-BNK-2, R-BNK-3): active staff of
the account's unit (a role held there, above it or in one of its departments; an auditor's, a
group admin's or a partner client's role makes nobody staff: they check or run the system, they
keep nothing); the three seals kept by three different people, and the finance head's name seal
by a finance head personally (§10.1.3.7 地区财务负责人章由其本人保存). The unit head's name seal
may be kept by the head or whoever the head designates, so it needs staff only."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import literal, or_, select
from sqlalchemy.orm import Session

from propgroup.banking.models import SEAL_KINDS
from propgroup.errors import InvalidInput
from propgroup.identity.models import RoleAssignment, User
from propgroup.org.models import OrgUnit

_NOT_STAFF = ("partner_client", "auditor", "group_admin")
# Roles that head a unit's finance: the branch's accountant, the region's finance, HQ's director.
FINANCE_HEADS = ("branch_accountant", "regional_finance", "finance_director")
_ROLES_FOR = {"finance_head_name_seal": FINANCE_HEADS}


def works_at(
    session: Session, user_id: int, unit: OrgUnit, roles: Iterable[str] | None = None
) -> bool:
    """Active, with a staff role (one of ``roles`` when given) that reaches the unit (held
    there or above) or held inside it (one of its departments)."""
    role = RoleAssignment.role.in_(tuple(roles)) if roles else literal(True)
    return (
        session.scalar(
            select(RoleAssignment.id)
            .join(OrgUnit, OrgUnit.id == RoleAssignment.unit_id)
            .join(User, User.id == RoleAssignment.user_id)
            .where(
                RoleAssignment.user_id == user_id,
                RoleAssignment.role.not_in(_NOT_STAFF),
                role,
                User.active,
                or_(
                    literal(unit.path).startswith(OrgUnit.path),
                    OrgUnit.path.startswith(unit.path, autoescape=True),
                ),
            )
            .limit(1)
        )
        is not None
    )


def _users_by_login(session: Session, logins: Iterable[str]) -> dict[str, User]:
    return {
        user.login: user for user in session.scalars(select(User).where(User.login.in_(logins)))
    }


def _staff(
    session: Session,
    unit: OrgUnit,
    login: str,
    users: Mapping[str, User],
    where: str,
    roles: Iterable[str] | None = None,
) -> tuple[User | None, dict[str, list[str]]]:
    user = users.get(login)
    if user is None or not user.active:
        return None, {where: [f"no active user {login!r}"]}
    if not works_at(session, user.id, unit, roles):
        held = f"none of {', '.join(roles)}" if roles else "no staff role"
        return None, {where: [f"{login} holds {held} at {unit.code}"]}
    return user, {}


def checked_people(
    session: Session, unit: OrgUnit, seals: Mapping[str, str], signatories: Iterable[str]
) -> tuple[dict[str, User], list[User]]:
    """Seal kind → keeper and the signatories, by login, for an account of ``unit``; every
    problem named at once. ``seals`` holds all three kinds: the account's seals after a change."""
    logins = [*seals.values(), *signatories]
    users = _users_by_login(session, logins)
    problems: dict[str, list[str]] = {}
    keepers: dict[str, User] = {}
    for kind in SEAL_KINDS:
        user, problem = _staff(
            session, unit, seals[kind], users, f"seals.{kind}", _ROLES_FOR.get(kind)
        )
        problems |= problem
        if user is not None:
            keepers[kind] = user
    if len(set(seals.values())) < len(SEAL_KINDS):
        problems.setdefault("seals", []).append(
            "the finance seal and the two name seals are kept by three different people "
            "(R-BNK-2): nobody keeps two seals"
        )
    signers = []
    for index, login in enumerate(signatories):
        user, problem = _staff(session, unit, login, users, f"signatories.{index}")
        problems |= problem
        if user is not None:
            signers.append(user)
    if problems:
        raise InvalidInput(
            "the account's seal keepers or signatories were refused",
            code="bad_keepers",
            errors=problems,
        )
    return keepers, signers
