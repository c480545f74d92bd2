"""Staff time recorded with its minutes (issue 15's review): a gesture of an hourly-valued type
(staff time) keeps the minutes it took, so the payoff values it at those minutes instead of a
fixed 15. Existing gestures keep NULL, which is read as the 15 minutes they were valued at.

Revision ID: 0013_money
Revises: 0011_money_per_location
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_money"
down_revision = "0011_money_per_location"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (nullable, no default) on both databases: no copy of `gestures`, which the
    # ledger references.
    op.add_column("gestures", sa.Column("staff_minutes", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("gestures", "staff_minutes")
