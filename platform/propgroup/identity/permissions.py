"""What each role may do (R-ORG-2). Actions are ``<area>:<verb>``; a role held at a unit grants
its actions over that unit's whole subtree. API client scopes use the same action names."""

from __future__ import annotations

READ_ALL = frozenset({"org:read", "documents:read", "audit:read", "approvals:read"})
STAFF = READ_ALL | {"documents:write", "approvals:write"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "branch_accountant": STAFF,
    "branch_head": STAFF,
    "cashier": STAFF,
    "department_head": STAFF,
    "regional_finance": STAFF,
    "regional_gm": STAFF,
    "finance_director": STAFF,
    "group_admin": STAFF
    | {"org:write", "users:manage", "clients:manage", "jobs:manage", "approvals:admin"},
    "auditor": READ_ALL,  # 审计: read-only everywhere it is assigned
    "partner_client": frozenset(),  # acts only through an API client's scopes
}

SCOPES = frozenset(action for actions in ROLE_PERMISSIONS.values() for action in actions)


def roles_granting(action: str) -> list[str]:
    return sorted(role for role, actions in ROLE_PERMISSIONS.items() if action in actions)
