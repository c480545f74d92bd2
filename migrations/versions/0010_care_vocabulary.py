"""The organisation's words, values on gestures, recognitions and follow-ups (issue 13).

A gesture's `type` becomes a plain string code (the organisation's gesture types live in
`vocabulary_terms`), so the fixed CHECK on it goes; `vocabulary_terms`, `gesture_values`,
`recognitions` and `follow_ups` are new.

Revision ID: 0007_care
Revises: 0009_front_line
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0007_care"
down_revision = "0009_front_line"
branch_labels = None
depends_on = None

_TYPES = ("refund", "comp", "upgrade", "gift", "voucher", "personal_note", "time", "other")
_CHECK = "ck_gestures_gesture_type"


def _gesture_type_free() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute(f"ALTER TABLE gestures DROP CONSTRAINT IF EXISTS {_CHECK}")
        op.execute("ALTER TABLE gestures ALTER COLUMN type TYPE VARCHAR(64)")
        return
    # SQLite: rebuilding gestures by copy trips the ledger's foreign key to it; edit the stored
    # CREATE TABLE in place instead (SQLite's documented "otheralter" procedure, as in 0005).
    sql = bind.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type='table' AND name='gestures'").scalar()
    new = re.sub(r",\s*CONSTRAINT ck_gestures_gesture_type CHECK \(type IN \([^)]*\)\)", "", sql)
    new = new.replace("type VARCHAR(32) NOT NULL", "type VARCHAR(64) NOT NULL")
    if new == sql:
        return
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    bind.exec_driver_sql("UPDATE sqlite_master SET sql = ? WHERE type='table' AND name='gestures'", (new,))
    bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def upgrade() -> None:
    _gesture_type_free()
    op.create_table(
        "vocabulary_terms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=True),
        sa.Column("costs_money", sa.Boolean(), nullable=True),
        sa.Column("valuation", sa.String(length=32), nullable=True),
        sa.Column("hourly_rate_cents", sa.BigInteger(), nullable=True),
        sa.Column("severity", sa.Integer(), nullable=True),
        sa.Column("touchpoint", sa.String(length=32), nullable=True),
        sa.Column("synonyms", sa.Text(), nullable=True),
        sa.Column("sort_order", sa.Integer(), server_default="0", nullable=False),
        sa.Column("retired_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["updated_by_id"], ["employees.id"],
                                name=op.f("fk_vocabulary_terms_updated_by_id_employees")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vocabulary_terms")),
        sa.UniqueConstraint("kind", "code", name="uq_vocabulary_terms_kind_code"),
    )
    op.create_table(
        "gesture_values",
        sa.Column("gesture_id", sa.Integer(), nullable=False),
        sa.Column("value_code", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["gesture_id"], ["gestures.id"], name=op.f("fk_gesture_values_gesture_id_gestures")),
        sa.PrimaryKeyConstraint("gesture_id", "value_code", name=op.f("pk_gesture_values")),
    )
    op.create_index("ix_gesture_values_value", "gesture_values", ["value_code"], unique=False)
    op.create_table(
        "recognitions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gesture_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("thanked_by_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["gesture_id"], ["gestures.id"], name=op.f("fk_recognitions_gesture_id_gestures")),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"], name=op.f("fk_recognitions_employee_id_employees")),
        sa.ForeignKeyConstraint(["thanked_by_id"], ["employees.id"],
                                name=op.f("fk_recognitions_thanked_by_id_employees")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recognitions")),
    )
    op.create_index(op.f("ix_recognitions_gesture_id"), "recognitions", ["gesture_id"], unique=False)
    op.create_index(op.f("ix_recognitions_employee_id"), "recognitions", ["employee_id"], unique=False)
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name=op.f("fk_follow_ups_incident_id_incidents")),
        sa.ForeignKeyConstraint(["customer_id"], ["customers.id"], name=op.f("fk_follow_ups_customer_id_customers")),
        sa.ForeignKeyConstraint(["employee_id"], ["employees.id"], name=op.f("fk_follow_ups_employee_id_employees")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow_ups")),
        sa.UniqueConstraint("code", name=op.f("uq_follow_ups_code")),
    )
    op.create_index(op.f("ix_follow_ups_incident_id"), "follow_ups", ["incident_id"], unique=False)
    op.create_index("ix_follow_ups_customer_time", "follow_ups", ["customer_id", "occurred_at"], unique=False)


def downgrade() -> None:
    for name in ("follow_ups", "recognitions", "gesture_values", "vocabulary_terms"):
        op.drop_table(name)
    # The gesture type stays a free string: codes added since cannot be squeezed back into a CHECK.
