"""Processed events and the outbox.

Revision ID: 0001
"""

from alembic import op

from shared.migrations import create_outbox_table, create_processed_events_table

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_processed_events_table()
    create_outbox_table()


def downgrade() -> None:
    op.drop_table("outbox")
    op.drop_table("processed_events")
