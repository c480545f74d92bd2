"""What a stored figure needs to be worked out again without its reader (issue 15, part 2):
`computed_results.parameters` is the request as JSON text (kind and scope), `read_at` the last
time a reader used the figure. The notification worker works out again, for the data as it is
now, the figures read lately (`reports.computed.refresh_recently_read`), so a manager's "all my
teams" or a location is read, not worked out, after a change of data; pruning keeps the ones used
last.

Revision ID: 0018_computed_reads
Revises: 0017_computed
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_computed_reads"
down_revision = "0017_computed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: rows stored before this revision have neither; they are worked out again on their
    # next read, which fills both.
    op.add_column("computed_results", sa.Column("parameters", sa.Text(), nullable=True))
    op.add_column("computed_results", sa.Column("read_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("computed_results") as batch:  # SQLite drops columns by a table copy
        batch.drop_column("read_at")
        batch.drop_column("parameters")
