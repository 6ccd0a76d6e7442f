"""What the cash desk's services share: the unit a caller acts at, people named by login,
free-text fields checked one way, and the group's cash-desk settings."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from propgroup.cashdesk.models import CashdeskSettings
from propgroup.errors import InvalidInput
from propgroup.identity.authz import authorize
from propgroup.identity.models import User
from propgroup.identity.principals import Principal
from propgroup.org import service as org
from propgroup.org.models import OrgUnit

DEFAULT_CASH_LIMIT = Decimal("10000.00")  # R-CASH-1: 库存现金限额人民币10000元
DEFAULT_REMINDER_DAYS = 5  # petty cash: the first reminder, days before it is due


def unit_for(session: Session, principal: Principal, unit_id: int, action: str) -> OrgUnit:
    unit = org.get_unit(session, unit_id)
    authorize(session, principal, action, unit)
    return unit


def signed_by_person(principal: Principal) -> None:
    """Cash and cheques are handed over and signed for by people, never by an API client."""
    if principal.kind != "user":
        raise InvalidInput(
            "cash and cheques are handled by people, not API clients", code="people_only"
        )


def person_named(session: Session, login: object, field: str) -> User:
    user = (
        session.scalar(select(User).where(User.login == login, User.active))
        if isinstance(login, str)
        else None
    )
    if user is None:
        raise InvalidInput(
            f"{field}: no active user {str(login)[:60]!r}",
            code="unknown_user",
            errors={field: ["no active user of that login"]},
        )
    return user


def text_of(value: object, field: str, *, max_length: int = 500) -> str:
    """A required line of text, stripped; InvalidInput naming the field otherwise."""
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > max_length:
        raise InvalidInput(
            f"{field} is required (at most {max_length} characters)",
            code="bad_text",
            errors={field: [f"1 to {max_length} characters"]},
        )
    return text


def optional_text(value: object, field: str, *, max_length: int = 500) -> str | None:
    """An optional line of text, stripped (None when empty); too long is refused, never cut."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return text_of(value, field, max_length=max_length)


@dataclass(frozen=True)
class Policy:
    cash_limit: Decimal
    reminder_days: int


def policy(session: Session) -> Policy:
    row = session.get(CashdeskSettings, 1)
    if row is None:
        return Policy(DEFAULT_CASH_LIMIT, DEFAULT_REMINDER_DAYS)
    return Policy(row.cash_limit, row.reminder_days)
