"""An extra tenant migration on top of head, written to a temporary folder: one additive change
(a column and an index), the shape of most real migrations."""

from __future__ import annotations

from pathlib import Path

from propgroup.tenancy.migrate import script_directory, single_head

EXTRA_REVISION = "x9001_extra"

_TEMPLATE = '''"""test-only: add org_units.note with an index"""

import sqlalchemy as sa
from alembic import op

revision = "{revision}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("org_units", sa.Column("note", sa.Text(), nullable=True))
    op.create_index("ix_org_units_note", "org_units", ["note"])


def downgrade() -> None:
    op.drop_index("ix_org_units_note", table_name="org_units")
    op.drop_column("org_units", "note")
'''


def write_extra_revision(folder: Path) -> str:
    """Write the revision into ``folder`` and return the folder, for ``extra_locations``."""
    folder.mkdir(parents=True, exist_ok=True)
    head = single_head(script_directory("tenant"))
    (folder / f"{EXTRA_REVISION}.py").write_text(
        _TEMPLATE.format(revision=EXTRA_REVISION, down=head)
    )
    return str(folder)
