"""The roles of R-ORG-2. A role is held at a unit and reaches that unit's whole subtree."""

ROLES = (
    "branch_accountant",  # 项目会计
    "branch_head",  # 项目负责人
    "cashier",  # 出纳
    "department_head",  # 部门负责人
    "regional_finance",  # 地区财务
    "regional_gm",  # 地区总经理
    "finance_director",  # 财务总监
    "group_admin",  # 集团管理员
    "auditor",  # 审计（只读）
    "partner_client",  # 合作方（仅 API）
)

# R-ORG-3 (§10.1.1.1): 出纳与会计不得由一人兼任.
INCOMPATIBLE_ROLES = frozenset({frozenset({"cashier", "branch_accountant"})})
