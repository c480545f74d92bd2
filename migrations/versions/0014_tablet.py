"""The tablet's speed (issues 10 and 13): an indexed search column for customer names, and the
"what tends to work" evidence as a small table computed off the app process.

- `customers.search_name`: the name case folded in any script (`models.search_key`, Python's
  casefold), filled here for existing rows, indexed with the phone
  (`ix_customers_search`, with the name for rows written around the app), so a search reads one index instead of every customer row
  and never calls a Python function per row on SQLite.
- `evidence_rows` / `evidence_state`: the payoff's adjusted breakdown per incident category and
  gesture type, written by `reports.evidence.refresh` (the notification worker, hourly;
  `python -m empowerment evidence-refresh`; `init`), read by the tablet.

Revision ID: 0014_tablet
Revises: 0013_money
"""

import sqlalchemy as sa
from alembic import op

revision = "0014_tablet"
down_revision = "0013_money"
branch_labels = None
depends_on = None

FILL_BATCH = 20_000


def _fill_search_names() -> None:
    from empowerment.models import search_key

    bind = op.get_bind()
    customers = sa.table("customers", sa.column("id", sa.Integer), sa.column("name", sa.String),
                         sa.column("search_name", sa.String))
    last = 0
    while True:
        rows = bind.execute(sa.select(customers.c.id, customers.c.name).where(customers.c.id > last)
                            .order_by(customers.c.id).limit(FILL_BATCH)).all()
        if not rows:
            return
        bind.execute(customers.update().where(customers.c.id == sa.bindparam("_id"))
                     .values(search_name=sa.bindparam("_key")),
                     [{"_id": i, "_key": search_key(name)} for i, name in rows])
        last = rows[-1][0]


def upgrade() -> None:
    op.add_column("customers", sa.Column("search_name", sa.String(length=200), nullable=True))
    _fill_search_names()
    op.create_index("ix_customers_search", "customers", ["search_name", "phone", "name"])
    op.create_table(
        "evidence_rows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=100), nullable=False),
        sa.Column("gesture_type", sa.String(length=100), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("estimate", sa.Float(), nullable=True),
        sa.Column("low", sa.Float(), nullable=True),
        sa.Column("high", sa.Float(), nullable=True),
        sa.Column("p_value", sa.Float(), nullable=True),
        sa.Column("p_holm", sa.Float(), nullable=True),
        sa.Column("reliable", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_rows")),
    )
    op.create_index("ix_evidence_rows_category", "evidence_rows", ["category"])
    op.create_table(
        "evidence_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.Column("data_version", sa.String(length=400), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence_state")),
    )


def downgrade() -> None:
    op.drop_table("evidence_state")
    op.drop_index("ix_evidence_rows_category", table_name="evidence_rows")
    op.drop_table("evidence_rows")
    op.drop_index("ix_customers_search", table_name="customers")
    op.drop_column("customers", "search_name")
