"""The navigation a signed-in person sees: one item per area their roles open (R-ORG-2)."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from propgroup.errors import NotFound
from propgroup.identity import authz
from propgroup.identity import service as identity
from propgroup.identity.models import User
from propgroup.identity.permissions import ROLE_PERMISSIONS
from propgroup.identity.principals import Principal
from propgroup.org import service as org


@dataclass(frozen=True)
class NavItem:
    endpoint: str
    label: object  # a lazy string, rendered in the request's language


HOME = NavItem("portal.home", _l("Home"))
ORGANISATION = NavItem("portal.units", _l("Organisation"))
APPROVALS = NavItem("portal.approvals.index", _l("Approvals"))
BUDGETS = NavItem("portal.budgets.index", _l("Budgets"))
ARCHIVES = NavItem("portal.archives.index", _l("Archives"))
CASHDESK = NavItem("portal.cashdesk.index", _l("Cash desk"))
FUNDS = NavItem("portal.fundreport.index", _l("Fund report"))
BANKING = NavItem("portal.banking.index", _l("Bank accounts"))
RECONCILIATION = NavItem("portal.reconciliation.index", _l("Bank reconciliation"))
ADMINISTRATION = NavItem("portal.identity.admin_users", _l("Administration"))


def held_actions(session: Session, user: User) -> frozenset[str]:
    """Every action some role of ``user`` grants somewhere."""
    actions: set[str] = set()
    for role, _unit in identity.roles_of(session, user):
        actions |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(actions)


def may_administer(session: Session, principal: Principal) -> bool:
    """User administration is group-wide, so it needs users:manage held at the HQ."""
    try:
        root = org.get_root(session)
    except NotFound:
        return False
    return authz.can(session, principal, "users:manage", root)


def nav_items(session: Session, principal: Principal, user: User) -> list[NavItem]:
    items = [HOME]
    actions = held_actions(session, user)
    if "org:read" in actions:
        items.append(ORGANISATION)
    if "approvals:read" in actions:
        items.append(APPROVALS)
    if "budgets:read" in actions:
        items.append(BUDGETS)
    if "archives:read" in actions:
        items.append(ARCHIVES)
    if "banking:read" in actions:
        items.extend((BANKING, RECONCILIATION, CASHDESK, FUNDS))
    if may_administer(session, principal):
        items.append(ADMINISTRATION)
    return items
