"""Two ledger entry types so every entry's type gives its direction: `allocation_reduction` (a
policy change lowered the allowance) and `deduction` (an admin's correction taking money away).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

OLD = ("allocation", "rollover", "spend", "hold", "release", "reversal", "adjustment")
NEW = ("allocation", "allocation_reduction", "rollover", "spend", "hold", "release", "reversal",
       "adjustment", "deduction")
_CHECK = "ck_ledger_entries_ledger_entry_type"


def _swap(old: tuple[str, ...], new: tuple[str, ...]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        listed = ", ".join(f"'{value}'" for value in new)
        op.execute(f"ALTER TABLE ledger_entries DROP CONSTRAINT {_CHECK}")
        op.execute(f"ALTER TABLE ledger_entries ADD CONSTRAINT {_CHECK} CHECK (entry_type IN ({listed}))")
        return
    # SQLite cannot alter a CHECK, and rebuilding this table by copy trips its self-referencing
    # foreign key. SQLite's documented procedure for changing a CHECK in place
    # (https://www.sqlite.org/lang_altertable.html, "otheralter") edits the stored CREATE TABLE and
    # bumps the schema version; the rows are untouched and the triggers stay.
    bind = op.get_bind()
    row = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type='table' AND name='ledger_entries'").one()
    old_list = "entry_type IN (" + ", ".join(f"'{value}'" for value in old) + ")"
    new_list = "entry_type IN (" + ", ".join(f"'{value}'" for value in new) + ")"
    if old_list not in row[0]:
        raise RuntimeError("ledger_entries' entry_type CHECK is not the one this migration expects")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type='table' AND name='ledger_entries'",
                         (row[0].replace(old_list, new_list),))
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    _swap(OLD, NEW)


def downgrade() -> None:
    used = op.get_bind().exec_driver_sql(
        "SELECT COUNT(*) FROM ledger_entries WHERE entry_type IN ('allocation_reduction', 'deduction')").scalar()
    if used:
        raise RuntimeError(f"{used} ledger entries use the new types; the ledger is append-only, so this "
                           "migration cannot be undone.")
    _swap(NEW, OLD)
