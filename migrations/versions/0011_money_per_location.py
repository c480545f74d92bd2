"""Money per location (issue 15): each location has an ISO 4217 currency (and optionally the
locale its people type amounts in); a dated table of exchange rates converts cross-location
figures into the reporting currency.

Existing locations take the organisation's current currency (EMPOWERMENT_CURRENCY when the
migration runs): their stored amounts were always in it.

Revision ID: 0011_money_per_location
Revises: 0007_care
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_money_per_location"
down_revision = "0007_care"
branch_labels = None
depends_on = None


def _organisation_currency() -> str:
    from empowerment import settings

    return settings.currency()


def upgrade() -> None:
    currency = _organisation_currency()
    assert len(currency) == 3 and currency.isalpha()  # checked by settings; never quoted blindly
    # Plain ADD COLUMN on both databases (no copy of a table that others reference). The default
    # fills existing rows; PostgreSQL then drops it (new rows get theirs from the app), SQLite
    # cannot drop a default in place and keeps it.
    op.add_column("locations", sa.Column("currency", sa.String(length=3), nullable=False,
                                         server_default=currency))
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("locations", "currency", server_default=None)
    op.add_column("locations", sa.Column("locale", sa.String(length=16), nullable=True))
    op.create_table(
        "exchange_rates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("quote", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exchange_rates")),
        sa.UniqueConstraint("code", name=op.f("uq_exchange_rates_code")),
    )
    op.create_index("ix_exchange_rates_pair_day", "exchange_rates", ["currency", "quote", "day"])


def downgrade() -> None:
    op.drop_index("ix_exchange_rates_pair_day", table_name="exchange_rates")
    op.drop_table("exchange_rates")
    # In place on both databases (SQLite 3.35+): a batch copy of locations would trip the foreign
    # keys of the tables that reference it.
    op.execute("ALTER TABLE locations DROP COLUMN locale")
    op.execute("ALTER TABLE locations DROP COLUMN currency")
