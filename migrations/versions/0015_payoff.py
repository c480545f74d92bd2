"""The outcomes state keeps the latest transaction time (issue 15): the payoff reads it instead
of MAX(occurred_at) over every transaction (no index leads there; 5M index entries walked on
every payoff, 25M at a chain's size).

Revision ID: 0015_payoff
Revises: 0014_tablet
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_payoff"
down_revision = "0014_tablet"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outcomes_state", sa.Column("transactions_latest_at", sa.DateTime(), nullable=True))
    # a state built before: its transactions' latest time, once (the writers keep it from now on)
    op.execute("UPDATE outcomes_state SET transactions_latest_at = (SELECT MAX(occurred_at) FROM transactions)")


def downgrade() -> None:
    with op.batch_alter_table("outcomes_state") as batch:
        batch.drop_column("transactions_latest_at")
