"""Figures worked out once and read by every process (issue 15): `computed_results` holds the
Payoff page's view of a scope and its "what works" breakdowns as `analytics.codec` JSON, keyed by
what was asked and the data version it was worked out on (`reports.computed`). The notification
worker works out the default view after the data changes, so a leader's first page of the day,
on any replica, reads one row instead of every incident.

Revision ID: 0017_computed
Revises: 0016_imports
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_computed"
down_revision = "0016_imports"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "computed_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("data_version", sa.String(length=400), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_computed_results")),
        sa.UniqueConstraint("key", name=op.f("uq_computed_results_key")),
    )


def downgrade() -> None:
    op.drop_table("computed_results")
