"""Users, sign-in, roles (with segregation of duties checked at grant time) and API clients."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import import_module

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from propgroup.audit.service import record
from propgroup.db import read_on_entry
from propgroup.errors import Conflict, InvalidInput, NotFound, Unauthorized
from propgroup.identity.models import ApiClient, RoleAssignment, User
from propgroup.identity.permissions import SCOPES, duties_clash
from propgroup.identity.principals import Principal
from propgroup.identity.roles import INCOMPATIBLE_ROLES, ROLES
from propgroup.org import service as org
from propgroup.org.models import OrgUnit

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the login does not exist, so both paths cost one argon2 check.
_DUMMY_HASH = _hasher.hash("timing-equaliser")
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "pg"  # noqa: S105 - a format marker, not a secret
# Told, in the same transaction, when someone leaves (deactivated) or loses a role: what they
# kept must change hands (R-BNK-3). Named as module:function so identity imports none of them.
_ON_DEPARTURE = ("propgroup.banking.keepers:person_left",)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _check_password_policy(login: str, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters", code="weak_password"
        )
    if password.lower() == login.lower():
        raise InvalidInput("a password may not be the login", code="weak_password")


def create_user(
    session: Session, *, login: str, display_name: str, email: str, password: str
) -> User:
    if session.scalar(select(User.id).where(User.login == login)):
        raise Conflict(f"login {login!r} is taken", code="duplicate_login")
    _check_password_policy(login, password)
    user = User(
        login=login, display_name=display_name, email=email, password_hash=hash_password(password)
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise Unauthorized("the account is not active", code="inactive_account")
    return user


def user_by_login(session: Session, login: str) -> User:
    user = session.scalar(select(User).where(User.login == login))
    if user is None or not user.active:
        raise NotFound(f"no active user {login!r}", code="unknown_user")
    return user


def authenticate(session: Session, login: str, password: str) -> User:
    """The active user with this login and password; one message for every failure."""
    user = session.scalar(select(User).where(User.login == login))
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        user = None
    if user is None or not user.active:
        raise Unauthorized("wrong login or password", code="bad_credentials")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def change_password(session: Session, user: User, current: str, new: str) -> None:
    try:
        _hasher.verify(user.password_hash, current)
    except (VerificationError, InvalidHashError) as exc:
        raise InvalidInput("the current password is wrong", code="bad_credentials") from exc
    _check_password_policy(user.login, new)
    user.password_hash = hash_password(new)
    session.flush()


def credential_stamp(user: User) -> str:
    """Changes with the password and at every sign-out: a cookie with an old stamp is void."""
    return hashlib.sha256(f"{user.password_hash}:{user.session_epoch}".encode()).hexdigest()[:16]


def end_sessions(session: Session, user: User) -> None:
    """Sign out everywhere: cookies copied or left on other machines stop working too."""
    user.session_epoch += 1
    session.flush()


def user_principal(user: User, request_id: str | None = None) -> Principal:
    return Principal(kind="user", id=user.id, name=user.login, request_id=request_id)


def roles_of(session: Session, user: User) -> Sequence[tuple[str, OrgUnit]]:
    return session.execute(
        select(RoleAssignment.role, OrgUnit)
        .join(OrgUnit, OrgUnit.id == RoleAssignment.unit_id)
        .where(RoleAssignment.user_id == user.id)
        .order_by(OrgUnit.path, RoleAssignment.role)
    ).all()


def _check_segregation(session: Session, user: User, role: str, unit: OrgUnit) -> None:
    """R-ORG-3: incompatible roles may not be held by one person over overlapping units."""
    for held_role, held_unit in roles_of(session, user):
        incompatible = frozenset({held_role, role}) in INCOMPATIBLE_ROLES or duties_clash(
            held_role, role
        )
        if incompatible and org.overlaps(held_unit, unit):
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


def _departed(session: Session, user: User) -> None:
    for reference in _ON_DEPARTURE:
        module, function = reference.split(":")
        getattr(import_module(module), function)(session, user)


def deactivate_user(session: Session, principal: Principal, user: User) -> User:
    """Someone leaves the group: they sign in no more, their sessions end, and what they kept
    is due for handover."""
    if not user.active:
        raise Conflict(f"{user.login} is not active", code="inactive_account")
    user.active = False
    end_sessions(session, user)
    record(session, principal, "identity.user_deactivated", "user", user.id)
    _departed(session, user)
    return user


def remove_role(
    session: Session, principal: Principal, user: User, role: str, unit: OrgUnit
) -> None:
    """``user`` no longer holds ``role`` at ``unit`` (moved, or left that post)."""
    assignment = session.scalar(
        select(RoleAssignment).where(
            RoleAssignment.user_id == user.id,
            RoleAssignment.role == role,
            RoleAssignment.unit_id == unit.id,
        )
    )
    if assignment is None:
        raise NotFound(f"{user.login} is not {role} at {unit.code}", code="no_such_role")
    session.delete(assignment)
    session.flush()
    record(
        session,
        principal,
        "identity.role_removed",
        "user",
        user.id,
        before={"role": role, "unit": unit.code},
    )
    _departed(session, user)


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_client(
    session: Session,
    *,
    tenant_slug: str,
    name: str,
    scopes: Sequence[str],
    unit: OrgUnit | None = None,
    created_by: User | None = None,
    acting_user: User | None = None,
) -> tuple[ApiClient, str]:
    """A new client and its token. The token is returned this once and never stored.

    With ``acting_user`` it is a personal token: calls act as that person (their roles, narrowed
    to ``scopes``), so people can decide approvals through the API as they do in the portal.
    """
    unknown = sorted(set(scopes) - SCOPES)
    if unknown or not scopes:
        raise InvalidInput(
            f"scopes must be some of {sorted(SCOPES)}",
            code="bad_scopes",
            errors={"scopes": unknown},
        )
    if acting_user is not None and unit is not None:
        raise InvalidInput(
            "a personal token follows its user's roles; give no unit", code="bad_unit"
        )
    client_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    client = ApiClient(
        client_id=client_id,
        name=name,
        secret_sha256=_sha256(secret),
        scopes=sorted(set(scopes)),
        unit_id=unit.id if unit else None,
        user_id=acting_user.id if acting_user else None,
        created_by=created_by.id if created_by else None,
    )
    session.add(client)
    session.flush()
    return client, f"{TOKEN_PREFIX}.{tenant_slug}.{client_id}.{secret}"


def token_tenant(token: str) -> str | None:
    """The tenant slug a bearer token names, read before any database lookup."""
    parts = token.split(".")
    return parts[1] if len(parts) == 4 and parts[0] == TOKEN_PREFIX else None


# Built once, so its SQL is compiled once per tenant: this runs on every API call, in the
# statement that enters the tenant (``db.read_on_entry``).
_CLIENT_BY_ID = (
    select(
        ApiClient.id,
        ApiClient.name,
        ApiClient.secret_sha256,
        ApiClient.scopes,
        ApiClient.revoked_at,
        OrgUnit.path,
        User.id.label("user_id"),
        User.login,
        User.active,
    )
    .outerjoin(OrgUnit, OrgUnit.id == ApiClient.unit_id)
    .outerjoin(User, User.id == ApiClient.user_id)
    .where(ApiClient.client_id == bindparam("client_id"))
)


def client_principal(session: Session, token: str, request_id: str | None = None) -> Principal:
    """Check a bearer token against this tenant's clients; revoked ones stop at once.

    No round trip of its own when it is the session's first read, and no ORM objects.
    """
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != TOKEN_PREFIX:
        raise Unauthorized("malformed bearer token", code="bad_token")
    client = read_on_entry(session, _CLIENT_BY_ID, {"client_id": parts[2]})
    if client is None or not hmac.compare_digest(client.secret_sha256, _sha256(parts[3])):
        raise Unauthorized("unknown or wrong bearer token", code="bad_token")
    if client.revoked_at is not None:
        raise Unauthorized("this token has been revoked", code="revoked_token")
    if client.user_id is not None:
        if not client.active:
            raise Unauthorized("the token's user is not active", code="inactive_account")
        return Principal(
            kind="user",
            id=client.user_id,
            name=client.login,
            token_scopes=frozenset(client.scopes),
            request_id=request_id,
        )
    return Principal(
        kind="client",
        id=client.id,
        name=f"client:{client.name}",
        scopes=frozenset(client.scopes),
        unit_path=client.path,
        request_id=request_id,
    )


def revoke_api_client(session: Session, client_id: str) -> ApiClient:
    client = session.scalar(select(ApiClient).where(ApiClient.client_id == client_id))
    if client is None:
        raise NotFound(f"API client {client_id!r} does not exist", code="unknown_client")
    if client.revoked_at is None:
        client.revoked_at = datetime.now(UTC)
        session.flush()
    return client
