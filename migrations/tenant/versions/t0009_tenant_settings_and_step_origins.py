"""tenant settings (the group's timezone); where each approval step was resolved from

Revision ID: t0009
Revises: t0008
"""

import sqlalchemy as sa
from alembic import op

revision = "t0009"
down_revision = "t0008"
branch_labels = None
depends_on = None

# The policy step each existing step came from: the rule of the request's policy version for its
# type, its unit's kind and the total of that revision's lines, at the step's position (or the
# policy's overrun step), when the roles agree. Earlier revisions without lines of their own
# (from before t0008) find none and keep NULL: their unit stays as it is.
STEP_ORIGINS = """
with revision_totals as (
    select request_id, revision, sum(amount) as total
    from approval_request_lines
    group by request_id, revision
),
origins as (
    select s.id, rule.value -> 'steps' -> (s.seq - 1) as origin
    from approval_steps s
    join approval_requests r on r.id = s.request_id
    join org_units u on u.id = r.unit_id
    join approval_policies p on p.id = r.policy_version_id
    join revision_totals t on t.request_id = s.request_id and t.revision = s.revision
    cross join lateral jsonb_array_elements(p.document -> 'rules') as rule(value)
    where s.reason is null
      and rule.value -> 'request_types' @> to_jsonb(r.request_type::text)
      and rule.value ->> 'unit_kind' = u.kind
      and t.total > (rule.value ->> 'above')::numeric
      and (rule.value ->> 'up_to' is null or t.total <= (rule.value ->> 'up_to')::numeric)
    union all
    select s.id, p.document -> 'overrun_step'
    from approval_steps s
    join approval_requests r on r.id = s.request_id
    join approval_policies p on p.id = r.policy_version_id
    where s.reason = 'budget_overrun'
)
update approval_steps s
set level = o.origin ->> 'level', department = o.origin ->> 'department'
from origins o
where o.id = s.id and o.origin ->> 'role' = s.role
"""


def upgrade() -> None:
    op.create_table(
        "tenant_settings",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_tenant_settings_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_settings")),
    )
    # Every group so far was provisioned from a template naming Asia/Shanghai (the old constant).
    op.execute("insert into tenant_settings (id, timezone) values (1, 'Asia/Shanghai')")
    op.add_column("approval_steps", sa.Column("level", sa.String(length=16), nullable=True))
    op.add_column("approval_steps", sa.Column("department", sa.String(length=8), nullable=True))
    op.execute(STEP_ORIGINS)


def downgrade() -> None:
    op.drop_column("approval_steps", "department")
    op.drop_column("approval_steps", "level")
    op.drop_table("tenant_settings")
