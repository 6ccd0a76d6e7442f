"""What each role may do (R-ORG-2). Actions are ``<area>:<verb>``; a role held at a unit grants
its actions over that unit's whole subtree. API client scopes use the same action names."""

from __future__ import annotations

READ_ALL = frozenset({"org:read", "documents:read", "audit:read"})

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "branch_accountant": READ_ALL | {"documents:write"},
    "branch_head": READ_ALL | {"documents:write"},
    "cashier": READ_ALL | {"documents:write"},
    "department_head": READ_ALL | {"documents:write"},
    "regional_finance": READ_ALL | {"documents:write"},
    "regional_gm": READ_ALL | {"documents:write"},
    "finance_director": READ_ALL | {"documents:write"},
    "group_admin": READ_ALL
    | {"org:write", "users:manage", "clients:manage", "documents:write", "jobs:manage"},
    "auditor": READ_ALL,  # 审计: read-only everywhere it is assigned
    "partner_client": frozenset(),  # acts only through an API client's scopes
}

SCOPES = frozenset(action for actions in ROLE_PERMISSIONS.values() for action in actions)


def roles_granting(action: str) -> list[str]:
    return sorted(role for role, actions in ROLE_PERMISSIONS.items() if action in actions)
