"""Browser sessions' last activity in the database, so every replica applies the same idle timeout.

Revision ID: 0007_cluster_browser_sessions
Revises: 0007_trust_ledger
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_cluster_browser_sessions"
down_revision = "0007_trust_ledger"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "browser_sessions",
        sa.Column("session_ref", sa.String(length=32), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("session_ref", name=op.f("pk_browser_sessions")),
    )
    op.create_index("ix_browser_sessions_last_seen", "browser_sessions", ["last_seen_at"])


def downgrade() -> None:
    op.drop_index("ix_browser_sessions_last_seen", table_name="browser_sessions")
    op.drop_table("browser_sessions")
