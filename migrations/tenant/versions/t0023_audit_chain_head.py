"""audit chain head: a function that takes the tenant's chain lock and then reads the newest
event's hash, so extending the chain costs one round trip, not two

Revision ID: t0023
Revises: t0022
"""

from alembic import op

revision = "t0023"
down_revision = "t0022"
branch_labels = None
depends_on = None

# Copied, not imported: a migration stays as it was released whatever the models become.
CHAIN_HEAD = """
create or replace function audit_chain_head() returns varchar language plpgsql as $$
begin
    perform pg_advisory_xact_lock(hashtextextended('audit:' || current_schema(), 0));
    return (select hash from audit_events order by id desc limit 1);
end $$;
"""


def upgrade() -> None:
    op.execute(CHAIN_HEAD)


def downgrade() -> None:
    op.execute("drop function audit_chain_head()")
