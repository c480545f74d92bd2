"""The front line (issue 10): incidents have a life (status, owner, acknowledged, followed up,
closed with a note); customers carry where they were first met and whether they were merged into
another customer.

Existing incidents with a gesture that still counts (logged or waiting for approval) become
"resolved"; the others stay "open". A customer's location is that of their latest incident.

Revision ID: 0007_front_line
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_front_line"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            "status", sa.Enum("open", "resolved", "closed", name="incident_status", native_enum=False,
                              create_constraint=True, length=32),
            server_default="open", nullable=False))
        for column in ("owner_id", "acknowledged_by_id", "followed_up_by_id", "closed_by_id"):
            batch_op.add_column(sa.Column(column, sa.Integer(), nullable=True))
            batch_op.create_foreign_key(batch_op.f(f"fk_incidents_{column}_employees"), "employees",
                                        [column], ["id"])
        for column in ("acknowledged_at", "followed_up_at", "closed_at"):
            batch_op.add_column(sa.Column(column, sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("follow_up_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("close_note", sa.Text(), nullable=True))
        batch_op.create_index("ix_incidents_status_time", ["status", "occurred_at"], unique=False)
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("location_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("merged_at", sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f("fk_customers_location_id_locations"), "locations",
                                    ["location_id"], ["id"])
        batch_op.create_foreign_key(batch_op.f("fk_customers_merged_into_id_customers"), "customers",
                                    ["merged_into_id"], ["id"])
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
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_customers_merged_into_id_customers"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_customers_location_id_locations"), type_="foreignkey")
        for column in ("merged_at", "merged_into_id", "location_id"):
            batch_op.drop_column(column)
    with op.batch_alter_table("incidents", schema=None) as batch_op:
        batch_op.drop_index("ix_incidents_status_time")
        for column in ("owner_id", "acknowledged_by_id", "followed_up_by_id", "closed_by_id"):
            batch_op.drop_constraint(batch_op.f(f"fk_incidents_{column}_employees"), type_="foreignkey")
        for column in ("status", "owner_id", "acknowledged_at", "acknowledged_by_id", "followed_up_at",
                       "followed_up_by_id", "follow_up_note", "closed_at", "closed_by_id", "close_note"):
            batch_op.drop_column(column)
