"""Imports at engine speed (issue 15): the transactions' `code` is unique through a unique INDEX
(`uq_transactions_code`) instead of a UNIQUE table constraint.

The same rule, enforced the same way; but an index can be dropped and built again, which a
constraint cannot on SQLite (its automatic index belongs to the table). A big import drops it
inside its own transaction, inserts, and builds it again with one sort (`services.importing.writing`):
a duplicate code still refuses the whole import. PostgreSQL: the constraint is dropped and a
unique index of the same name takes its place. SQLite: the table is copied once (nothing
references `transactions`), with its rows and ids as they were.

Revision ID: 0016_imports
Revises: 0015_payoff
"""

from alembic import op

revision = "0016_imports"
down_revision = "0015_payoff"
branch_labels = None
depends_on = None

_COLUMNS = "id, code, customer_id, occurred_at, amount_cents"


def _copy_sqlite_table(unique_constraint: bool) -> None:
    """SQLite cannot drop or add a table constraint in place: copy the table."""
    unique = ",\n\tCONSTRAINT uq_transactions_code UNIQUE (code)" if unique_constraint else ""
    op.execute("DROP INDEX IF EXISTS ix_transactions_customer_time_amount")
    op.execute("DROP INDEX IF EXISTS uq_transactions_code")
    op.execute(
        "CREATE TABLE _transactions_new (\n\tid INTEGER NOT NULL, \n\tcode VARCHAR(64) NOT NULL, \n\t"
        "customer_id INTEGER NOT NULL, \n\toccurred_at DATETIME NOT NULL, \n\tamount_cents BIGINT NOT NULL, \n\t"
        "CONSTRAINT pk_transactions PRIMARY KEY (id), \n\tCONSTRAINT fk_transactions_customer_id_customers "
        f"FOREIGN KEY(customer_id) REFERENCES customers (id){unique}\n)"
    )
    op.execute(f"INSERT INTO _transactions_new ({_COLUMNS}) SELECT {_COLUMNS} FROM transactions ORDER BY id")
    op.execute("DROP TABLE transactions")
    op.execute("ALTER TABLE _transactions_new RENAME TO transactions")
    op.execute("CREATE INDEX ix_transactions_customer_time_amount ON transactions "
               "(customer_id, occurred_at, amount_cents)")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _copy_sqlite_table(unique_constraint=False)
    else:
        op.drop_constraint("uq_transactions_code", "transactions", type_="unique")
    op.create_index("uq_transactions_code", "transactions", ["code"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_transactions_code", table_name="transactions")
    if op.get_bind().dialect.name == "sqlite":
        _copy_sqlite_table(unique_constraint=True)
    else:
        op.create_unique_constraint("uq_transactions_code", "transactions", ["code"])
