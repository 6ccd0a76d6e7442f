"""users.session_epoch (sign-out ends every session); audit rows append-only for every role

Revision ID: t0005
Revises: t0004
"""

import sqlalchemy as sa
from alembic import op

revision = "t0005"
down_revision = "t0004"
branch_labels = None
depends_on = None


# The tenant role already lacks UPDATE and DELETE on audit rows; the trigger stops the schema's
# owner (the login role) too. Only a superuser bypassing triggers can still change history, and
# the hash chain shows it.
APPEND_ONLY = """
create function audit_events_append_only() returns trigger language plpgsql as $$
begin
    raise exception 'audit events are append-only' using errcode = 'insufficient_privilege';
end $$;
create trigger audit_events_no_change before update or delete on audit_events
    for each row execute function audit_events_append_only();
create trigger audit_events_no_truncate before truncate on audit_events
    for each statement execute function audit_events_append_only();
"""


def upgrade() -> None:
    op.execute(APPEND_ONLY)
    op.add_column(
        "users",
        sa.Column("session_epoch", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )


def downgrade() -> None:
    op.drop_column("users", "session_epoch")
    op.execute("drop trigger audit_events_no_truncate on audit_events")
    op.execute("drop trigger audit_events_no_change on audit_events")
    op.execute("drop function audit_events_append_only()")
