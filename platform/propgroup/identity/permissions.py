"""What each role may do (R-ORG-2). Actions are ``<area>:<verb>``; a role held at a unit grants
its actions over that unit's whole subtree. API client scopes use the same action names."""

from __future__ import annotations

READ_ALL = frozenset(
    {
        "org:read",
        "documents:read",
        "audit:read",
        "approvals:read",
        "budgets:read",
        "archives:read",
        "banking:read",
    }
)
STAFF = READ_ALL | {"documents:write", "approvals:write"}
# Plans are compiled by finance and the unit's heads (7.4 由财务部牵头组织编制); not the cashier.
PLANNERS = STAFF | {"budgets:write"}
# Accounting archives are kept, appraised and destroyed under supervision by finance and the
# unit's heads; never by the cashier, who may not keep the accounting archives (出纳不得兼管会计
# 档案保管). Legal holds are placed by heads and regional finance (R-ARC-2).
KEEPERS = PLANNERS | {"archives:write", "archives:appraise", "archives:supervise"}
HOLDERS = KEEPERS | {"archives:hold"}
# Actuals measure a unit's plan (R-BUD-5, R-APR-7): finance above the branch books and reverses
# them (ledger files, recorded income), never the branch being measured.
ACTUALS = frozenset({"budgets:actuals"})
# Bank accounts (R-BNK, R-CASH, R-CHQ): finance raises account requests, books the bank journal
# and prepares reconciliations (banking:write); the cashier keeps cash and cheques (banking:cash);
# the finance manager above signs off reconciliations and month-end cash (banking:signoff, never
# the one who prepared them). Account numbers are readable only by finance (banking:numbers).
NUMBERS = frozenset({"banking:numbers"})
BANK_FINANCE = NUMBERS | {"banking:write"}
CASH_KEEPING = NUMBERS | {"banking:cash"}
BANK_SIGNOFF = BANK_FINANCE | {"banking:signoff"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "branch_accountant": KEEPERS | BANK_FINANCE,
    "branch_head": HOLDERS,
    "cashier": STAFF | CASH_KEEPING,
    "department_head": KEEPERS,
    "regional_finance": HOLDERS | ACTUALS | BANK_SIGNOFF,
    "regional_gm": HOLDERS,
    "finance_director": HOLDERS
    | ACTUALS
    | BANK_SIGNOFF
    | {"budgets:admin", "archives:admin", "banking:admin"},
    "group_admin": HOLDERS
    | ACTUALS
    | {
        "org:write",
        "users:manage",
        "clients:manage",
        "jobs:manage",
        "approvals:admin",
        "budgets:admin",
        "archives:admin",
        "banking:admin",
    },
    "auditor": READ_ALL,  # 审计: read-only everywhere it is assigned
    "partner_client": frozenset(),  # acts only through an API client's scopes
}

SCOPES = frozenset(action for actions in ROLE_PERMISSIONS.values() for action in actions)


def roles_granting(action: str) -> list[str]:
    return sorted(role for role, actions in ROLE_PERMISSIONS.items() if action in actions)


# R-ORG-3 beyond the named pair (roles.INCOMPATIBLE_ROLES): who keeps the cash and cheques does
# not also keep the bank books or sign them off over the same units (§10.1.1.1, 钱账分管).
CASH_DUTY = "banking:cash"
BOOK_DUTIES = frozenset({"banking:write", "banking:signoff"})


def duties_clash(role: str, other: str) -> bool:
    """One of the roles keeps cash, the other keeps or signs off the books."""
    first, second = (
        ROLE_PERMISSIONS.get(role, frozenset()),
        ROLE_PERMISSIONS.get(other, frozenset()),
    )
    return bool(
        (CASH_DUTY in first and second & BOOK_DUTIES)
        or (CASH_DUTY in second and first & BOOK_DUTIES)
    )
