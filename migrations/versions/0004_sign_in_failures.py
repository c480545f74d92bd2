"""Failed password sign-ins, to throttle guessing.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sign_in_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name_key", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sign_in_failures")),
    )
    op.create_index("ix_sign_in_failures_name_time", "sign_in_failures", ["name_key", "failed_at"])


def downgrade() -> None:
    op.drop_index("ix_sign_in_failures_name_time", table_name="sign_in_failures")
    op.drop_table("sign_in_failures")
