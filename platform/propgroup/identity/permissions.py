"""What each role may do (R-ORG-2). Actions are ``<area>:<verb>``; a role held at a unit grants
its actions over that unit's whole subtree. API client scopes use the same action names."""

from __future__ import annotations

READ_ALL = frozenset({"org:read", "documents:read", "audit:read", "approvals:read", "budgets:read"})
STAFF = READ_ALL | {"documents:write", "approvals:write"}
# Plans are compiled by finance and the unit's heads (7.4 由财务部牵头组织编制); not the cashier.
PLANNERS = STAFF | {"budgets:write"}
# Actuals measure a unit's plan (R-BUD-5, R-APR-7): finance above the branch books and reverses
# them (ledger files, recorded income), never the branch being measured.
ACTUALS_KEEPERS = PLANNERS | {"budgets:actuals"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "branch_accountant": PLANNERS,
    "branch_head": PLANNERS,
    "cashier": STAFF,
    "department_head": PLANNERS,
    "regional_finance": ACTUALS_KEEPERS,
    "regional_gm": PLANNERS,
    "finance_director": ACTUALS_KEEPERS | {"budgets:admin"},
    "group_admin": ACTUALS_KEEPERS
    | {
        "org:write",
        "users:manage",
        "clients:manage",
        "jobs:manage",
        "approvals:admin",
        "budgets:admin",
    },
    "auditor": READ_ALL,  # 审计: read-only everywhere it is assigned
    "partner_client": frozenset(),  # acts only through an API client's scopes
}

SCOPES = frozenset(action for actions in ROLE_PERMISSIONS.values() for action in actions)


def roles_granting(action: str) -> list[str]:
    return sorted(role for role, actions in ROLE_PERMISSIONS.items() if action in actions)
