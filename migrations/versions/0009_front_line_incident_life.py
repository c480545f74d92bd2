"""The front line (issue 10): incidents have a life (status, owner, acknowledged, followed up,
closed with a note); customers carry where they were first met and whether they were merged into
another customer.

Existing incidents with a gesture that still counts (logged or waiting for approval) become
"resolved"; the others stay "open". A customer's location is that of their latest incident.

Revision ID: 0009_front_line
Revises: 0007_cluster_browser_sessions
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_front_line"
down_revision = "0007_cluster_browser_sessions"
branch_labels = None
depends_on = None


def _add_reference(table: str, column: str, target: str) -> None:
    """A nullable column referencing `target`.id, named as the models name it."""
    name = f"fk_{table}_{column}_{target}"
    if op.get_bind().dialect.name == "sqlite":  # SQLite adds a REFERENCES column in place
        op.execute(f"ALTER TABLE {table} ADD COLUMN {column} INTEGER CONSTRAINT {name} REFERENCES {target} (id)")
    else:
        op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
        op.create_foreign_key(name, table, target, [column], ["id"])


def upgrade() -> None:
    # Plain ADD COLUMN on both databases (no table copy on SQLite: fast on a million incidents).
    if op.get_bind().dialect.name == "sqlite":  # with its CHECK, which alembic skips on SQLite
        op.execute("ALTER TABLE incidents ADD COLUMN status VARCHAR(32) DEFAULT 'open' NOT NULL CONSTRAINT "
                   "ck_incidents_incident_status CHECK (status IN ('open', 'resolved', 'closed'))")
    else:
        op.add_column("incidents", sa.Column(
            "status", sa.Enum("open", "resolved", "closed", name="incident_status", native_enum=False,
                              create_constraint=True, length=32),
            server_default="open", nullable=False))
    for column in ("owner_id", "acknowledged_by_id", "followed_up_by_id", "closed_by_id"):
        _add_reference("incidents", column, "employees")
    for column in ("acknowledged_at", "followed_up_at", "closed_at"):
        op.add_column("incidents", sa.Column(column, sa.DateTime(), nullable=True))
    op.add_column("incidents", sa.Column("follow_up_note", sa.Text(), nullable=True))
    op.add_column("incidents", sa.Column("close_note", sa.Text(), nullable=True))
    op.create_index("ix_incidents_status_time", "incidents", ["status", "occurred_at"], unique=False)
    _add_reference("customers", "location_id", "locations")
    _add_reference("customers", "merged_into_id", "customers")
    op.add_column("customers", sa.Column("merged_at", sa.DateTime(), nullable=True))
    op.execute(
        "UPDATE incidents SET status = 'resolved', owner_id = employee_id WHERE EXISTS ("
        "SELECT 1 FROM gestures WHERE gestures.incident_id = incidents.id "
        "AND gestures.status IN ('logged', 'pending_approval'))")
    op.execute("UPDATE incidents SET owner_id = employee_id WHERE owner_id IS NULL")
    op.execute(
        "UPDATE customers SET location_id = (SELECT incidents.location_id FROM incidents "
        "WHERE incidents.customer_id = customers.id AND incidents.location_id IS NOT NULL "
        "ORDER BY incidents.occurred_at DESC LIMIT 1)")


def downgrade() -> None:
    # SQLite (3.35+) drops these columns in place: their references and checks are their own.
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.drop_index("ix_incidents_status_time", table_name="incidents")
    references = {"customers": {"location_id": "locations", "merged_into_id": "customers"},
                  "incidents": {c: "employees" for c in ("owner_id", "acknowledged_by_id", "followed_up_by_id",
                                                         "closed_by_id")}}
    columns = {"customers": ("merged_at", "merged_into_id", "location_id"),
               "incidents": ("status", "owner_id", "acknowledged_at", "acknowledged_by_id", "followed_up_at",
                             "followed_up_by_id", "follow_up_note", "closed_at", "closed_by_id", "close_note")}
    for table, dropped in columns.items():
        if not sqlite:
            for column, target in references[table].items():
                op.drop_constraint(f"fk_{table}_{column}_{target}", table, type_="foreignkey")
        for column in dropped:
            op.drop_column(table, column)
