"""The ledger sealed (issue 11): TRUNCATE refused on PostgreSQL, a budget's running balance held to
its ledger by the database, SQLite money columns kept integers, the audit log append-only and
hash-chained (existing rows are chained here, in id order), a time zone per location, and
when a customer's personal data was erased.

Revision ID: 0007_trust_ledger
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_trust_ledger"
down_revision = "0006"
branch_labels = None
depends_on = None

_AUDIT_MESSAGE = "audit_events is append-only"
_BALANCE_MESSAGE = "budgets.remaining_cents follows the ledger: post a ledger entry instead"
_INTEGER_MESSAGE = "money is stored as whole cents (an integer)"

_SQLITE_TRIGGERS = {
    "audit_events_no_update": f"BEFORE UPDATE ON audit_events BEGIN SELECT RAISE(ABORT, '{_AUDIT_MESSAGE}'); END",
    "audit_events_no_delete": f"BEFORE DELETE ON audit_events BEGIN SELECT RAISE(ABORT, '{_AUDIT_MESSAGE}'); END",
    # The balance may change only to what its ledger adds up to (post writes the entry first).
    "budgets_follow_ledger": (
        "BEFORE UPDATE OF remaining_cents ON budgets WHEN NEW.remaining_cents IS NOT "
        "(SELECT COALESCE(SUM(amount_cents), 0) FROM ledger_entries WHERE budget_id = NEW.id) "
        f"BEGIN SELECT RAISE(ABORT, '{_BALANCE_MESSAGE}'); END"),
    # SQLite turns an integer that overflows 64 bits into a REAL; refuse anything but an integer.
    "ledger_entries_integer_amount": (
        "BEFORE INSERT ON ledger_entries WHEN typeof(NEW.amount_cents) <> 'integer' "
        f"BEGIN SELECT RAISE(ABORT, '{_INTEGER_MESSAGE}'); END"),
    "budgets_integer_insert": (
        "BEFORE INSERT ON budgets WHEN typeof(NEW.remaining_cents) <> 'integer' "
        f"BEGIN SELECT RAISE(ABORT, '{_INTEGER_MESSAGE}'); END"),
    "budgets_integer_update": (
        "BEFORE UPDATE OF remaining_cents ON budgets WHEN typeof(NEW.remaining_cents) <> 'integer' "
        f"BEGIN SELECT RAISE(ABORT, '{_INTEGER_MESSAGE}'); END"),
}

_PG_STATEMENTS = (
    "CREATE FUNCTION refuse_truncate() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION '% is append-only: TRUNCATE is refused', TG_TABLE_NAME; END $$",
    "CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries "
    "FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION refuse_truncate()",
    "CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN RAISE EXCEPTION '{_AUDIT_MESSAGE}'; END $$",
    "CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
    "CREATE FUNCTION budgets_follow_ledger() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF NEW.remaining_cents IS DISTINCT FROM (SELECT COALESCE(SUM(amount_cents), 0) "
    "FROM ledger_entries WHERE budget_id = NEW.id) THEN "
    f"RAISE EXCEPTION '{_BALANCE_MESSAGE}'; END IF; RETURN NEW; END $$",
    "CREATE TRIGGER budgets_follow_ledger BEFORE UPDATE OF remaining_cents ON budgets "
    "FOR EACH ROW EXECUTE FUNCTION budgets_follow_ledger()",
)


def _chain_existing_rows() -> None:
    from empowerment.audit import GENESIS_HASH, row_digest

    events = sa.table(
        "audit_events", sa.column("id", sa.Integer), sa.column("occurred_at", sa.DateTime),
        sa.column("actor_id", sa.Integer), sa.column("actor_label", sa.String),
        sa.column("action", sa.String), sa.column("entity", sa.String),
        sa.column("entity_id", sa.String), sa.column("detail", sa.Text),
        sa.column("prev_hash", sa.String), sa.column("row_hash", sa.String))
    bind = op.get_bind()
    prev, after = GENESIS_HASH, 0
    while True:
        rows = bind.execute(
            sa.select(events).where(events.c.id > after).order_by(events.c.id).limit(5000)).all()
        if not rows:
            return
        updates = []
        for row in rows:
            digest = row_digest(prev, row.occurred_at, row.actor_id, row.actor_label, row.action,
                                row.entity, row.entity_id, row.detail)
            updates.append({"row_id": row.id, "p": prev, "h": digest})
            prev, after = digest, row.id
        bind.execute(sa.update(events).where(events.c.id == sa.bindparam("row_id"))
                     .values(prev_hash=sa.bindparam("p"), row_hash=sa.bindparam("h")), updates)


def upgrade() -> None:
    op.add_column("locations", sa.Column("time_zone", sa.String(length=64), nullable=True))
    op.add_column("customers", sa.Column("erased_at", sa.DateTime(), nullable=True))
    op.add_column("audit_events", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_events", sa.Column("row_hash", sa.String(length=64), nullable=True))
    _chain_existing_rows()  # before the append-only triggers exist
    if op.get_bind().dialect.name == "sqlite":
        for name, body in _SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        return
    for statement in _PG_STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in _SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    else:
        op.execute("DROP TRIGGER budgets_follow_ledger ON budgets")
        op.execute("DROP FUNCTION budgets_follow_ledger()")
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER ledger_entries_no_truncate ON ledger_entries")
        op.execute("DROP FUNCTION refuse_truncate()")
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of `locations` or
    # `customers` would trip the foreign keys that point at them.
    for table_name, column in (("audit_events", "row_hash"), ("audit_events", "prev_hash"),
                               ("locations", "time_zone"), ("customers", "erased_at")):
        op.execute(f"ALTER TABLE {table_name} DROP COLUMN {column}")
