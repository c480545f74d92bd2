"""The outcomes table: what the transactions say about each incident, kept as data arrives.

`incident_outcomes` holds one row per incident (the first return after the recovery window, the
revenue in each horizon after it and before the incident, the purchases of the year before, the
customer's first transaction); `outcomes_state` says for which recovery window it was built and
which transactions it has seen. Both start empty: `python -m empowerment outcomes-rebuild` (run
by `init`) fills them; until then the payoff links from the transactions as before.

Revision ID: 0011_incident_outcomes
Revises: 0007_care
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_incident_outcomes"
down_revision = "0007_care"
branch_labels = None
depends_on = None

HORIZONS = (30, 90, 180, 365)


def upgrade() -> None:
    op.create_table(
        "incident_outcomes",
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("first_return_at", sa.DateTime(), nullable=True),
        sa.Column("first_transaction_at", sa.DateTime(), nullable=True),
        sa.Column("prior_txn_count_365", sa.BigInteger(), nullable=False),
        sa.Column("prior_revenue_cents_365", sa.BigInteger(), nullable=False),
        *[sa.Column(f"revenue_after_{h}_cents", sa.BigInteger(), nullable=False) for h in HORIZONS],
        *[sa.Column(f"revenue_before_{h}_cents", sa.BigInteger(), nullable=False) for h in HORIZONS],
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name=op.f("fk_incident_outcomes_incident_id_incidents"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("incident_id", name=op.f("pk_incident_outcomes")),
    )
    op.create_index("ix_incident_outcomes_customer", "incident_outcomes", ["customer_id"])
    op.create_table(
        "outcomes_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recovery_window_hours", sa.Integer(), nullable=False),
        sa.Column("transactions_count", sa.BigInteger(), nullable=False),
        sa.Column("transactions_max_id", sa.BigInteger(), nullable=False),
        sa.Column("built_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcomes_state")),
    )


def downgrade() -> None:
    op.drop_table("outcomes_state")
    op.drop_index("ix_incident_outcomes_customer", table_name="incident_outcomes")
    op.drop_table("incident_outcomes")
